/** The `local` target: releases, links, env file, supervisor, lock and history on this machine. */
import { appendFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckFailedError, ConfigError, InterruptedError } from '../../core/errors.js';
import type { Masker } from '../../core/masker.js';
import { execCommand } from '../../exec/exec.js';
import type {
  CommandRun,
  LockHandle,
  LockInfo,
  LockState,
  LogText,
  ReleaseMeta,
  RevisionRecord,
  RunOptions,
  StagedRelease,
  StartedApp,
  Target,
} from '../target.js';
import { formatEnvFile, parseEnvFile } from './env-file.js';
import { sweepLeftovers } from './leftovers.js';
import { acquireLock, breakLock, readLockState } from './lock.js';
import {
  PARTIAL_PREFIX,
  ensureDir,
  listPartials,
  pointLink,
  releaseName,
  removeLink,
  writeMeta,
} from './releases.js';
import { fileSize, readLogFrom, startApp, stopApp, stopLeftoverBuilds } from './supervisor.js';
import { LocalReleases, type LocalTargetOptions } from './view.js';
import { partialReleaseDir, releaseDir } from '../layout.js';

export type { LocalTargetOptions };

export class LocalTarget extends LocalReleases implements Target {
  // Lock

  async lock(
    info: Omit<LockInfo, 'pid' | 'host' | 'user' | 'startedAt' | 'procStart'>,
    opts: { waitMs: number; signal: AbortSignal; onWait?: (state: LockState) => void },
  ): Promise<LockHandle> {
    const handle = await acquireLock(this.paths.lockFile, {
      action: info.action,
      ...(info.rc ? { rc: info.rc } : {}),
      ...(info.runId ? { runId: info.runId } : {}),
      waitMs: opts.waitMs,
      signal: opts.signal,
      what: `environment ${this.environment} (${this.root})`,
      hintEnv: this.environment,
      ...(opts.onWait ? { onWait: opts.onWait } : {}),
    });
    // Under the lock: build commands and temp files (a secrets copy among them) of a killed run go now.
    const { parseDuration } = await import('../../core/duration.js');
    const builds = await stopLeftoverBuilds({ releasesDir: this.paths.releases, environment: this.environment }, parseDuration(this.config.stop_grace, 'stop_grace'));
    const swept = await sweepLeftovers([this.root, this.paths.shared]);
    return { ...handle, ...(swept.length ? { swept } : {}), ...(builds.length ? { endedBuilds: builds } : {}) };
  }

  lockState(): Promise<LockState> {
    return readLockState(this.paths.lockFile);
  }

  breakLock(): Promise<LockInfo | undefined> {
    return breakLock(this.paths.lockFile);
  }

  // Releases

  newReleaseName(rc: string, at?: Date): string {
    return releaseName(rc, at);
  }

  async prepareRelease(name: string): Promise<StagedRelease> {
    await ensureDir(this.paths.releases);
    const staging = partialReleaseDir(this.paths, name);
    await rm(staging, { recursive: true, force: true });
    return { name, staging, dir: releaseDir(this.paths, name) };
  }

  async exportTree(mirror: string, commit: string, staged: StagedRelease, signal: AbortSignal): Promise<void> {
    const { archiveTree } = await import('../../git/repo.js');
    await archiveTree(mirror, commit, staged.staging, { signal });
  }

  async runIn(dir: string, argv: readonly string[], opts: RunOptions, masker: Masker): Promise<CommandRun> {
    const r = await execCommand(
      argv,
      {
        cwd: dir,
        env: opts.env,
        timeout: opts.timeoutMs,
        signal: opts.signal,
        ...(opts.onLine ? { onLine: (line: string) => opts.onLine!(line) } : {}),
      },
      masker,
    );
    return { argv: [...argv], exitCode: r.exitCode, durationMs: r.durationMs, output: r.output, timedOut: r.timedOut, cancelled: r.cancelled };
  }

  async renderEnv(values: ReadonlyMap<string, string>): Promise<string> {
    const { writeFileAtomic } = await import('../../core/fs-atomic.js');
    await writeFileAtomic(this.paths.envFile, formatEnvFile(values), 0o600);
    return this.paths.envFile;
  }

  async readEnv(): Promise<Map<string, string>> {
    try {
      return parseEnvFile(await readFile(this.paths.envFile, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new CheckFailedError(`cannot read ${this.paths.envFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  async finalizeRelease(staged: StagedRelease, meta: ReleaseMeta): Promise<string> {
    const { symlink } = await import('node:fs/promises');
    const envLink = join(staged.staging, '.env');
    await rm(envLink, { force: true, recursive: true });
    await symlink(this.paths.envFile, envLink);
    await writeMeta(staged.staging, meta);
    await rename(staged.staging, staged.dir);
    return staged.dir;
  }

  async discardRelease(staged: StagedRelease): Promise<void> {
    await rm(staged.staging, { recursive: true, force: true });
  }

  async prune(keep: number, protect: readonly string[], keepPartial?: string): Promise<string[]> {
    const removed: string[] = [];
    const releases = await this.listReleases();
    // `keep` in all: the protected ones (and current, previous) first, then the newest others.
    const keepSet = new Set([...protect, ...releases.filter((r) => r.current || r.previous).map((r) => r.name)]);
    for (const r of releases) if (keepSet.size < keep) keepSet.add(r.name);
    for (const r of releases) {
      if (keepSet.has(r.name) || r.current || r.previous) continue;
      await rm(r.dir, { recursive: true, force: true });
      removed.push(r.name);
    }
    for (const p of await listPartials(this.paths.releases)) {
      if (keepPartial && p === `${PARTIAL_PREFIX}${keepPartial}`) continue;
      await rm(join(this.paths.releases, p), { recursive: true, force: true });
      removed.push(p);
    }
    return removed;
  }

  // Links


  async switchCurrent(name: string): Promise<void> {
    const dir = join(this.paths.releases, name);
    if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
      throw new CheckFailedError(`release ${name} does not exist in ${this.paths.releases}`);
    }
    await pointLink(this.root, this.paths.current, name);
  }

  async setPrevious(name: string | undefined): Promise<void> {
    if (name) await pointLink(this.root, this.paths.previous, name);
    else await removeLink(this.paths.previous);
  }

  async clearCurrent(): Promise<void> {
    await removeLink(this.paths.current);
  }

  // App

  async restart(opts: { env: Record<string, string>; graceMs: number; signal: AbortSignal; log?: (line: string) => void }): Promise<StartedApp> {
    const release = await this.readCurrent();
    if (!release) throw new CheckFailedError(`${this.paths.current} does not point at a release`);
    if (this.config.service) {
      const offset = await fileSize(this.paths.logFile);
      const startedAtMs = performance.now();
      const { processMasker } = await import('../../core/masker.js');
      const r = await this.runIn(this.root, this.config.service, { env: opts.env, signal: opts.signal, timeoutMs: 120_000, ...(opts.log ? { onLine: opts.log } : {}) }, processMasker);
      if (r.exitCode !== 0) {
        throw new CheckFailedError(`service command ${this.config.service.join(' ')} exited with ${r.exitCode}`, { hint: r.output.trim().split('\n').slice(-5).join('\n') });
      }
      return { release, logOffset: offset, startedAtMs };
    }
    if (!this.config.start) {
      throw new ConfigError('the local target has neither start nor service configured', { hint: 'add start: [node, server.mjs] (or service: [systemctl, restart, <unit>]) to the target' });
    }
    if (opts.signal.aborted) throw new InterruptedError('interrupted before the app was restarted');
    await this.stop({ graceMs: opts.graceMs, ...(opts.log ? { log: opts.log } : {}) });
    // Stop and start are one step: an interrupt (Ctrl-C, a closed terminal) after the stop has
    // begun must not leave nothing running, so the start is not given the run's signal. What
    // follows (the health checks) sees the interrupt.
    const started = await startApp({
      argv: this.config.start,
      cwd: this.paths.current,
      release,
      env: opts.env,
      logFile: this.paths.logFile,
      pidFile: this.paths.pidFile,
      signal: new AbortController().signal,
    });
    opts.log?.(`started ${this.config.start.join(' ')} in ${release}: pid ${started.pid}, log ${this.paths.logFile}`);
    const app: StartedApp = { pid: started.pid, release, logOffset: started.logOffset, startedAtMs: started.startedAtMs, exited: started.exited };
    void started.exited.then((e) => (app.exit = e));
    return app;
  }

  async stop(opts: { graceMs: number; log?: (line: string) => void }): Promise<{ stopped: boolean; pid?: number; killed?: boolean }> {
    if (this.config.service) return { stopped: false };
    return stopApp(this.paths.pidFile, opts.graceMs, opts.log, { releasesDir: this.paths.releases, environment: this.environment });
  }

  logSize(): Promise<number> {
    return fileSize(this.paths.logFile);
  }

  readLog(offset: number, maxBytes?: number): Promise<LogText> {
    return readLogFrom(this.paths.logFile, offset, maxBytes);
  }

  // History

  async appendRevision(record: RevisionRecord): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await appendFile(this.paths.revisions, JSON.stringify(record) + '\n');
  }
}
