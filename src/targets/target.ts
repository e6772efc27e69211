/**
 * A deploy target: where releases live and the app runs. The deploy and rollback phases
 * (src/deploy/) only talk to this interface; `local` (this machine) implements it now, the
 * multi-host SSH target implements it later (each method then runs on every host of a batch).
 *
 * Layout every target keeps under its deploy root (Capistrano's):
 *
 *   releases/<rc>-<UTC timestamp>/   one complete release each (built in releases/.partial-…, renamed when complete)
 *   current  → releases/<name>       the live release, switched atomically (new symlink, rename over the old)
 *   previous → releases/<name>       what `ltc rollback` returns to
 *   shared/.env                      mode 0600, rendered from the secret backend, linked into each release
 *   shared/logs/app.log              the app's stdout and stderr (supervised start)
 *   shared/app.pid                   JSON: pid, process start time, release (supervised start)
 *   revisions.log                    JSON lines: who deployed or rolled back what, when, the outcome
 *   .ltc-lock                        JSON: who holds the environment (pid, host, user, rc, since)
 */
import type { ReleaseLayout } from './layout.js';
import type { Masker } from '../core/masker.js';

/** What `.ltc-release.json` inside a release says about it. */
export interface ReleaseMeta {
  name: string;
  rc: string;
  commit: string;
  createdAt: string;
  actor: string;
  /** Durations of the build commands, ms. */
  buildMs?: number;
}

export interface ReleaseInfo {
  name: string;
  /** Absolute path. */
  dir: string;
  meta?: ReleaseMeta;
  /** Sort key: creation time in ms (from the meta, else the name's timestamp). */
  createdMs: number;
  current: boolean;
  previous: boolean;
}

/** A release being made: files go to `staging`; `finalizeRelease` renames it to `dir`. */
export interface StagedRelease {
  name: string;
  staging: string;
  dir: string;
}

export interface LockInfo {
  pid: number;
  host: string;
  user: string;
  /** deploy, rollback */
  action: string;
  rc?: string;
  startedAt: string;
  /** The holder's process start time (clock ticks since boot), to tell a reused pid from the holder. */
  procStart?: number;
  runId?: string;
  /** Both identities of the holder, the same object as in the audit log and revisions.log. */
  by?: { git_email: string | null; os_user: string };
}

export type LockState =
  | { state: 'free' }
  | { state: 'held'; info: LockInfo; file: string }
  | { state: 'stale'; info: LockInfo; file: string; why: string };

export interface LockHandle {
  file: string;
  info: LockInfo;
  /** The stale lock that was taken over to get this one, if any. */
  tookOver?: { info: LockInfo; why: string };
  /** Temp files of a killed run removed once the lock was taken (e.g. shared/.env.<pid>.<rnd>.tmp). */
  swept?: string[];
  /** Build commands a killed run left running in a partial release, ended once the lock was taken (pids). */
  endedBuilds?: number[];
  release(): Promise<void>;
}

export interface AppStatus {
  /** supervised: ltc's own supervisor; service: a configured service command. */
  mode: 'supervised' | 'service';
  running: boolean;
  pid?: number;
  release?: string;
  startedAt?: string;
  /** A pid file whose process is gone (crashed, or killed). */
  stale?: boolean;
  /** A stale pid file whose process runs, from another deploy root (copied along with it: cp -a, a restored backup). */
  elsewhere?: boolean;
  /** Processes of the environment's releases running without a pid file (ltc killed right after the start). */
  unrecorded?: number[];
  pidFile?: string;
  logFile: string;
}

export interface StartedApp {
  pid?: number;
  release: string;
  /** Size of the app log before the start: the log scan reads from here. */
  logOffset: number;
  /** performance.now() when the start command was spawned. */
  startedAtMs: number;
  /** Resolves with the exit code/signal when the started process ends (supervised mode). */
  exited?: Promise<{ code: number | null; signal: string | null }>;
  /** The exit, once it happened. */
  exit?: { code: number | null; signal: string | null };
}

export interface RevisionRecord {
  time: string;
  actor: string;
  /** stop: `ltc stop` ended the app (release = the release it ran); restart: `ltc restart` or a secret rotation re-rendered shared/.env and restarted it. */
  action: 'deploy' | 'rollback' | 'stop' | 'restart';
  environment: string;
  rc: string | null;
  commit: string | null;
  release: string | null;
  /** Absolute path of that release's folder. */
  releaseDir: string | null;
  /** The release that was current before. */
  from: string | null;
  outcome: 'ok' | 'failed' | 'rolled_back' | 'rollback_failed' | 'interrupted';
  durationMs: number;
  /** Time of the configured build commands (deploy). */
  buildMs?: number;
  /** From the start command's spawn until health was green. */
  startMs?: number;
  /** Where it failed and why (no secret values: masked). */
  failedPhase?: string;
  error?: string;
  runId?: string;
  /** For a deploy that was rolled back: the release running now. */
  rolledBackTo?: string | null;
  /** Smoke tests that passed and the log lines scanned (patterns: how many log_scan patterns); absent when the phase did not run. */
  verified?: { smoke?: number; logScan?: { scanned: number; patterns: number } };
  /** Both identities of the actor, the same object as in the audit log and the lock. */
  by?: { git_email: string | null; os_user: string };
  /** The audit log's head once this record's audit entry was written: `ltc audit verify` checks the log still has it. */
  audit?: { entries: number; sha256: string; hmac?: string };
}

export interface CommandRun {
  argv: string[];
  exitCode: number;
  durationMs: number;
  output: string;
  timedOut: boolean;
  cancelled: boolean;
}

export interface RunOptions {
  env: Record<string, string>;
  signal: AbortSignal;
  timeoutMs: number;
  onLine?: (line: string) => void;
}

/** A piece of the app log: the text and the byte offset in the file of its first byte. */
export interface LogText {
  text: string;
  from: number;
}

export interface Target {
  readonly kind: 'local';
  /** For messages: e.g. "local /srv/ltc". */
  readonly description: string;
  readonly root: string;
  readonly paths: ReleaseLayout;

  // Lock
  lock(info: Omit<LockInfo, 'pid' | 'host' | 'user' | 'startedAt' | 'procStart'>, opts: { waitMs: number; signal: AbortSignal; onWait?: (state: LockState) => void }): Promise<LockHandle>;
  lockState(): Promise<LockState>;
  /** Removes the lock whoever holds it; returns what it held. */
  breakLock(): Promise<LockInfo | undefined>;

  // Releases
  newReleaseName(rc: string, at?: Date): string;
  prepareRelease(name: string): Promise<StagedRelease>;
  /** The tree of `commit` from the mirror into the staged release (no .git). */
  exportTree(mirror: string, commit: string, staged: StagedRelease, signal: AbortSignal): Promise<void>;
  /** Runs a command (argument array) in a release folder. */
  runIn(dir: string, argv: readonly string[], opts: RunOptions, masker: Masker): Promise<CommandRun>;
  /** Writes shared/.env (mode 0600) with these values; returns its path. */
  renderEnv(values: ReadonlyMap<string, string>): Promise<string>;
  /** The values of shared/.env (for the app's environment); empty when there is none. */
  readEnv(): Promise<Map<string, string>>;
  /** Links shared/.env into the staged release, writes its meta and renames it into place. */
  finalizeRelease(staged: StagedRelease, meta: ReleaseMeta): Promise<string>;
  /** Removes a staged (incomplete) release. */
  discardRelease(staged: StagedRelease): Promise<void>;
  listReleases(): Promise<ReleaseInfo[]>;
  /** Keeps `keep` releases — `protect`, current and previous first, then the newest others — and removes the rest and leftover partial ones; returns the names removed. */
  prune(keep: number, protect: readonly string[], keepPartial?: string): Promise<string[]>;

  // Current / previous
  readCurrent(): Promise<string | undefined>;
  readPrevious(): Promise<string | undefined>;
  /** Points `current` at a release atomically (new symlink, rename over the old). */
  switchCurrent(name: string): Promise<void>;
  /** Points `previous` at a release (or removes it) atomically. */
  setPrevious(name: string | undefined): Promise<void>;
  /** Removes `current` (a first deploy that failed). */
  clearCurrent(): Promise<void>;

  // App
  /** Stops the running app (SIGTERM to its group, SIGKILL after `graceMs`) and starts it from `current`. */
  restart(opts: { env: Record<string, string>; graceMs: number; signal: AbortSignal; log?: (line: string) => void }): Promise<StartedApp>;
  stop(opts: { graceMs: number; log?: (line: string) => void }): Promise<{ stopped: boolean; pid?: number; killed?: boolean }>;
  status(): Promise<AppStatus>;
  logSize(): Promise<number>;
  /** The app log from `offset` to its end (at most `maxBytes`, the newest), and where in the file that text starts. */
  readLog(offset: number, maxBytes?: number): Promise<LogText>;

  // History
  appendRevision(record: RevisionRecord): Promise<void>;
  readRevisions(): Promise<RevisionRecord[]>;
  /** The same records newest first, read from the end (cost independent of the history's size); optional. */
  revisionsNewestFirst?(): AsyncIterable<RevisionRecord>;
}
