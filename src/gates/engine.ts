/**
 * Runs the configured gates against one commit of the app repo, in a clean work tree of ltc's
 * own, and records the result. No rendering here: progress goes to a GateReporter, so the CLI
 * (listr2 or plain lines) and the runbook `gate` step share this code.
 */
import { accessSync, constants, createWriteStream, existsSync, statSync, type WriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { extname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { currentActor } from '../audit/actor.js';
import type { LoadedConfig } from '../config/load.js';
import type { GateConfig } from '../config/schema/gates.js';
import { ConfigError, InterruptedError, LtcError, UsageError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import type { Masker } from '../core/masker.js';
import { didYouMean } from '../core/suggest.js';
import { displayCommand, withShell } from '../exec/command.js';
import { childEnv } from '../exec/child-env.js';
import { findOnPath } from '../exec/find-on-path.js';
import type { ExecOptions, ExecResult } from '../exec/exec.js';
import { ensureMirror, exportTree, isRemoteUrl, checkRepoString, listRemoteRefs, removeTree, resolveRef, resolveTag } from '../git/repo.js';
import { isCommitSha, validateRcName, validateRefName } from '../git/refs.js';
import { withLock } from '../git/lock.js';
import { GateExitGuard, groupAlive, killGroup } from './exit-guard.js';
import {
  gateDefinitionHash,
  logDir,
  resultFile,
  writeGateResult,
  writeGateResultSync,
  type GateRecord,
  type GateResult,
  type GateStatus,
  type RunStatus,
  type SetupRecord,
} from './result.js';
import { userRegex } from '../core/user-regex.js';

export interface GateRunOptions {
  /** A release candidate tag (must match app.tag_pattern). */
  rc?: string;
  /** A branch, tag, full ref, HEAD or commit id. Default: HEAD of the app repo. */
  ref?: string;
  /** Only these gates (names; commas allowed). */
  only?: string[];
  /** Stop the other gates when a required gate fails. */
  failFast?: boolean;
  /** Parallel gates at once; default os.availableParallelism(). */
  jobs?: number;
  /** `npm ci` when the checkout has a package-lock.json (default true). */
  install?: boolean;
  /** Keep the work tree after the run (default: removed). */
  keepWorkTree?: boolean;
}

export interface GateRunTarget {
  commit: string;
  tag?: string;
  ref?: string;
  repo: string;
  gates: GateConfig[];
}

/** Progress events; every text is already masked. */
export interface GateReporter {
  resolved?(target: GateRunTarget): void;
  phaseStart?(phase: 'checkout' | 'setup', detail: string): void;
  phaseEnd?(phase: 'checkout' | 'setup', status: 'passed' | 'failed' | 'skipped' | 'interrupted', durationMs: number, detail?: string): void;
  gateStart?(gate: GateRecord): void;
  gateLine?(gate: string, line: string): void;
  gateEnd?(gate: GateRecord): void;
  /** Something the person should know that does not change the outcome (the audit log failed). */
  warning?(text: string): void;
  /** The run is over (also after an error); gates that never started are still `not_run`. */
  done?(result: GateResult): void;
}

export interface GateRunDeps {
  loaded: LoadedConfig;
  stateDir: string;
  /** Ctrl-C: running gates are ended, the run is recorded as interrupted. */
  signal: AbortSignal;
  masker: Masker;
  reporter?: GateReporter;
  env?: NodeJS.ProcessEnv;
}

/** What the engine hands its own helpers: the deps plus the guard that tracks gate processes. */
type RunDeps = GateRunDeps & { guard: GateExitGuard };

export interface GateRunOutcome {
  result: GateResult;
  file: string;
  /** 0 passed (or only non-required gates failed), 1 a required gate or the setup failed, 130 interrupted. */
  exitCode: 0 | 1 | 130;
  /** When interrupted: by what, in words (`Ctrl-C`, `SIGTERM`, `SIGHUP`). */
  interruptedBy?: string;
  workTree: string;
}

/**
 * What the run needs only later (the exec adapter, the audit log, node:crypto for the mirror's
 * and the gate definitions' hashes: ~10-15 ms together) is loaded while `git ls-remote` runs,
 * not at startup: the main thread is idle then.
 */
let execModule: Promise<typeof import('../exec/exec.js')> | undefined;
const loadExec = () => (execModule ??= import('../exec/exec.js'));
let auditModule: Promise<typeof import('../audit/log.js')> | undefined;
const loadAudit = () => (auditModule ??= import('../audit/log.js'));
function preload(): void {
  setImmediate(() => {
    process.getBuiltinModule('node:crypto');
    void loadExec().catch(() => undefined);
    void loadAudit().catch(() => undefined);
  });
}

const SETUP_LOG = '_setup.log';
const SETUP_TIMEOUT_MS = 15 * 60_000;
const SETUP_COMMAND = ['npm', 'ci', '--no-audit', '--no-fund'];


export { findOnPath };

/** The names given to --only (repeatable, commas allowed), checked against the config. */
export function selectGates(gates: readonly GateConfig[], only: readonly string[] | undefined): Set<string> {
  const names = gates.map((g) => g.name);
  if (!only || only.length === 0) return new Set(names);
  const wanted = only.flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
  if (wanted.length === 0) throw new UsageError('--only names no gate', { hint: `configured gates: ${names.join(', ')}` });
  for (const w of wanted) {
    if (!names.includes(w)) {
      throw new UsageError(`--only ${JSON.stringify(w)}: no such gate in the config`, {
        hint: didYouMean(w, names) ?? `configured gates: ${names.join(', ')}`,
      });
    }
  }
  return new Set(wanted);
}

/** Neighbouring gates marked parallel form one batch; every other gate is a batch of its own. */
export function batchGates<T extends { parallel: boolean }>(gates: readonly T[]): T[][] {
  const batches: T[][] = [];
  for (const g of gates) {
    const last = batches.at(-1);
    if (g.parallel && last?.[0]?.parallel) last.push(g);
    else batches.push([g]);
  }
  return batches;
}

/** The gate's command with its shell wrapper; a bare `.ps1` is run through pwsh too. */
export function gateArgv(gate: GateConfig): { argv: string[]; shell?: 'bash' | 'pwsh' } {
  const shell = gate.shell ?? (extname(gate.run[0] ?? '').toLowerCase() === '.ps1' ? 'pwsh' : undefined);
  return { argv: withShell(gate.run, shell), shell };
}

/**
 * A gate's `cwd` must be a folder inside the checkout: an absolute path or one leading out with
 * `..` is a config error (exit 2), found before anything runs or is written.
 */
export function checkGateCwd(gate: GateConfig, configFile: string): void {
  if (gate.cwd === undefined) return;
  const rel = normalize(gate.cwd);
  if (isAbsolute(gate.cwd) || /^[A-Za-z]:/.test(gate.cwd) || rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith('../')) {
    throw new ConfigError(`gates.${gate.name}.cwd ${JSON.stringify(gate.cwd)} leads outside the checkout of the app repo (${configFile})`, {
      hint: 'give a folder inside the app repo, relative to its root, e.g. cwd: frontend',
    });
  }
}

/**
 * `git diff --check HEAD~1 HEAD` on a repository's first commit: HEAD~1 does not exist. Says so,
 * with a command that checks the same change and also works on a first commit.
 */
function firstCommitHint(argv: readonly string[], output: string): string | undefined {
  if (!argv.some((a) => /^(HEAD|@)(~\d*|\^\d*)+$/.test(a))) return undefined;
  const m = /ambiguous argument '((?:HEAD|@)[~^][^']*)': unknown revision/.exec(output);
  if (!m) return undefined;
  return (
    `${m[1]} does not exist: the commit has no parent (it is the repository's first). ` +
    'To check the whitespace of the commit\'s own change, also on a first commit: ' +
    'run: [git, diff-tree, --check, --root, -r, --no-commit-id, --diff-merges=first-parent, HEAD]'
  );
}

/** How to run a script that is not executable, by its extension (a .mjs through node, not bash). */
export function interpreterHint(program: string): string {
  const interpreters: Record<string, string> = { '.mjs': 'node', '.cjs': 'node', '.js': 'node', '.sh': 'bash', '.bash': 'bash', '.py': 'python3' };
  const ext = extname(program).toLowerCase();
  if (ext === '.ps1') return `run it through PowerShell: shell: pwsh (or run: [pwsh, -File, ${program}])`;
  const interpreter = interpreters[ext];
  if (interpreter) return `run it through its interpreter: run: [${interpreter}, ${program}] (or commit it with the executable bit: git update-index --chmod=+x ${program})`;
  return `run it through its interpreter, e.g. run: [bash, ${program}] or [node, ${program}] (or commit it with the executable bit: git update-index --chmod=+x ${program})`;
}

function pwshHint(gate: GateConfig, workTree: string): string {
  const script = gate.run[0] ?? '';
  const twin = ['.mjs', '.js', '.sh', '.py']
    .map((ext) => script.replace(/\.ps1$/i, ext))
    .find((f) => f !== script && existsSync(resolve(workTree, gate.cwd ?? '.', f)));
  const suggestion = twin
    ? `run: [${twin.endsWith('.sh') ? 'bash' : twin.endsWith('.py') ? 'python3' : 'node'}, ${twin}]`
    : 'run: [<another command>, <args>]';
  return (
    `PowerShell (pwsh) is not installed or not on PATH, so gate "${gate.name}" cannot run ${script}. ` +
    `Install PowerShell (https://aka.ms/install-powershell), or map the gate to another command in ltc.config.yaml:\n` +
    `  gates:\n    - name: ${gate.name}\n      ${suggestion}    # and remove \`shell: pwsh\``
  );
}

/** What interrupted the run, in words: `Ctrl-C` for SIGINT, else the signal's name (`SIGTERM`). */
export function interruptCause(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  const text = reason instanceof Error ? reason.message : String(reason ?? '');
  const sig = /\bSIG[A-Z]+\b/.exec(text)?.[0];
  return !sig || sig === 'SIGINT' ? 'Ctrl-C' : sig;
}

function now(): string {
  return new Date().toISOString();
}

function statusOfRun(records: GateRecord[], interrupted: boolean, setupFailed: boolean): RunStatus {
  if (interrupted) return 'interrupted';
  if (setupFailed) return 'failed';
  const required = records.filter((r) => r.required);
  if (required.some((r) => r.status !== 'passed' && r.status !== 'not_run')) return 'failed';
  if (required.some((r) => r.status === 'not_run')) return 'incomplete';
  return 'passed';
}

/** Resolves what to run against, before anything is written. Usage errors (exit 2) come from here. */
export async function resolveTarget(
  /** `names`: how errors call rc and ref (default the flags `--rc`/`--ref`; the gate step says `gate.rc`). */
  opts: Pick<GateRunOptions, 'rc' | 'ref'> & { names?: { rc: string; ref: string } },
  deps: Pick<GateRunDeps, 'loaded' | 'stateDir' | 'signal'>,
  /** Called once the names passed validation, before the first git command that reads the repo. */
  afterValidation?: () => void,
): Promise<{ commit: string; tag?: string; ref?: string; repo: string }> {
  const { config } = deps.loaded;
  const names = opts.names ?? { rc: '--rc', ref: '--ref' };
  if (opts.rc !== undefined && opts.ref !== undefined) {
    throw new UsageError(`pass either ${names.rc} or ${names.ref}, not both`, { hint: `${names.rc} <tag> for a release candidate, ${names.ref} <branch|commit> otherwise` });
  }
  const pattern = userRegex(config.app.tag_pattern, 'app.tag_pattern');
  // Name checks first: nothing reaches git (or the file system) before they pass.
  if (opts.rc !== undefined) await validateRcName(opts.rc, pattern, { signal: deps.signal, flag: names.rc });
  if (opts.ref !== undefined) await validateRefName(opts.ref, names.ref, { signal: deps.signal });
  const repo = checkRepoString(isRemoteUrl(config.app.repo) ? config.app.repo : deps.loaded.resolvePath(config.app.repo));
  afterValidation?.();
  if (opts.rc !== undefined) {
    const commit = await resolveTag(repo, opts.rc, { pattern, signal: deps.signal });
    return { commit, tag: opts.rc, ref: `refs/tags/${opts.rc}`, repo };
  }
  const ref = opts.ref ?? 'HEAD';
  if (isCommitSha(ref)) {
    await listRemoteRefs(repo, { signal: deps.signal }); // the repo is readable before a mirror is made
    const mirror = await ensureMirror(repo, join(deps.stateDir, 'cache'), { signal: deps.signal });
    const r = await resolveRef(repo, ref, { mirror, signal: deps.signal });
    return { commit: r.commit, ref: r.ref, repo };
  }
  const r = await resolveRef(repo, ref, { signal: deps.signal });
  const tag = r.ref?.startsWith('refs/tags/') ? r.ref.slice('refs/tags/'.length) : undefined;
  return { commit: r.commit, ref: r.ref, repo, ...(tag ? { tag } : {}) };
}

/** The configured gates (at least one, each cwd inside the checkout), the selected names and the jobs: for a run and its dry run alike. */
export function prepareGates(
  loaded: GateRunDeps['loaded'],
  only: readonly string[] | undefined,
  jobsGiven: number | undefined,
): { gates: GateConfig[]; selected: Set<string>; jobs: number } {
  const gates = loaded.config.gates;
  if (gates.length === 0) {
    throw new ConfigError(`no gates configured in ${loaded.file}`, {
      hint: 'add a `gates:` list (see `ltc init` for the handbook\'s five gates)',
    });
  }
  for (const g of gates) checkGateCwd(g, loaded.file);
  const selected = selectGates(gates, only);
  const jobs = jobsGiven ?? availableParallelism();
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a whole number of 1 or more, got ${String(jobsGiven)}`);
  return { gates, selected, jobs };
}

/**
 * `ltc gates run`: resolve the ref, check the commit out into `.ltc/work/<commit>`, `npm ci`
 * when there is a lock file, run the gates (neighbouring parallel ones together, bounded by
 * `jobs`), write `.ltc/gates/<commit>.json` and the logs, append to the audit log.
 */
export async function runGates(opts: GateRunOptions, deps: GateRunDeps): Promise<GateRunOutcome> {
  const { loaded, stateDir, signal, masker } = deps;
  const reporter = deps.reporter ?? {};
  const { gates, selected, jobs } = prepareGates(loaded, opts.only, opts.jobs);

  const started = performance.now();
  let actor: Promise<string> | undefined;
  const target = await resolveTarget(opts, deps, () => {
    // Names are valid: ask git for the actor and load what comes later while ls-remote runs.
    actor = currentActor();
    preload();
  });
  const resolveMs = Math.round(performance.now() - started);
  const { commit } = target;

  await mkdir(join(stateDir, 'gates'), { recursive: true, mode: 0o700 });
  return withLock(`${resultFile(stateDir, commit)}.lock`, { what: `running the gates for commit ${commit.slice(0, 12)}`, signal }, async () => {
    // Under the lock: a run refused as locked (exit 5) prints no heading of a run that never starts.
    reporter.resolved?.({ ...target, gates: gates.filter((g) => selected.has(g.name)) });
    const logs = logDir(stateDir, commit);
    await rm(logs, { recursive: true, force: true });
    await mkdir(logs, { recursive: true, mode: 0o700 });
    const workTree = join(stateDir, 'work', commit);

    const records: GateRecord[] = gates.map((g) => ({
      name: g.name,
      status: 'not_run' as GateStatus,
      required: g.required,
      parallel: g.parallel,
      command: masker.mask(displayCommand(gateArgv(g).argv)),
      exitCode: null,
      durationMs: 0,
      log: join(logs, `${g.name}.log`),
      ...(selected.has(g.name) ? {} : { reason: 'not selected (--only)' }),
      definition: gateDefinitionHash(g),
    }));
    const result: GateResult = {
      version: 1,
      commit,
      ...(target.tag ? { tag: target.tag } : {}),
      ...(target.ref ? { ref: target.ref } : {}),
      repo: masker.mask(target.repo),
      status: 'running',
      startedAt: now(),
      durationMs: 0,
      resolveMs,
      checkoutMs: 0,
      gatesMs: 0,
      setup: { status: 'not_run', durationMs: 0 },
      ...(opts.only?.length ? { only: [...selected] } : {}),
      failFast: Boolean(opts.failFast),
      actor: await (actor ?? currentActor()),
      gates: records,
    };
    const file = await writeGateResult(stateDir, result);

    let phase: 'checkout' | 'setup' | 'gates' = 'checkout';
    // A second Ctrl-C exits at once: the guard kills the gates' process groups and records that.
    const guard = new GateExitGuard(() => {
      for (const r of records) {
        if (!selected.has(r.name) || r.status !== 'not_run') continue; // ended ones keep their record
        if (r.startedAt) {
          r.status = 'interrupted';
          r.reason = 'ltc exited before the gate ended (a second Ctrl-C); the gate and its process group were killed';
        } else r.reason ??= 'not run: interrupted';
      }
      if (phase === 'setup') result.setup = { status: 'interrupted', command: displayCommand(SETUP_COMMAND), durationMs: 0, reason: 'ltc exited before npm ci ended (a second Ctrl-C); its process group was killed' };
      result.status = 'interrupted';
      result.finishedAt = now();
      result.durationMs = Math.round(performance.now() - started);
      writeGateResultSync(stateDir, result);
    });
    // Ctrl-C/SIGTERM (the CLI's signal) or SIGHUP while the guard is armed.
    const runSignal = deps.signal;
    const runDeps = { ...deps, guard };

    let interrupted = false;
    let setupFailed = false;
    guard.arm();
    try {
      // 1. Checkout: mirror + clean work tree.
      reporter.phaseStart?.('checkout', `${commit.slice(0, 12)} → ${workTree}`);
      const checkoutStarted = performance.now();
      try {
        const mirror = await ensureMirror(target.repo, join(stateDir, 'cache'), { signal: runSignal, commit });
        await exportTree(mirror, commit, workTree, { signal: runSignal });
      } catch (err) {
        reporter.phaseEnd?.('checkout', runSignal.aborted ? 'interrupted' : 'failed', performance.now() - checkoutStarted);
        throw err;
      }
      result.checkoutMs = Math.round(performance.now() - checkoutStarted);
      reporter.phaseEnd?.('checkout', 'passed', performance.now() - checkoutStarted);

      // 2. Setup: npm ci when the checkout has a lock file.
      phase = 'setup';
      result.setup = await runSetup(opts, workTree, logs, runDeps, reporter);
      phase = 'gates';
      setupFailed = result.setup.status === 'failed';
      interrupted = result.setup.status === 'interrupted';
      if (setupFailed) for (const r of records) if (selected.has(r.name)) r.reason = 'not run: the setup (npm ci) failed';

      // 3. Gates.
      if (!setupFailed && !interrupted) {
        const gatesStarted = performance.now();
        await runAllGates(gates, records, selected, { ...opts, jobs }, workTree, runDeps, reporter);
        result.gatesMs = Math.round(performance.now() - gatesStarted);
        interrupted = runSignal.aborted;
      }
    } catch (err) {
      guard.disarm();
      if (!runSignal.aborted) {
        result.status = 'failed';
        result.finishedAt = now();
        result.durationMs = Math.round(performance.now() - started);
        result.setup.reason ??= err instanceof Error ? err.message : String(err);
        await writeGateResult(stateDir, result);
        await removeTree(workTree).catch(() => undefined);
        reporter.done?.(result);
        throw err;
      }
      interrupted = true;
    }
    guard.disarm();

    if (interrupted) {
      for (const r of records) if (r.status === 'not_run' && selected.has(r.name)) r.reason ??= 'not run: interrupted';
    }
    result.status = statusOfRun(records, interrupted, setupFailed);
    result.finishedAt = now();
    result.durationMs = Math.round(performance.now() - started);
    // The result file, the audit entry and removing the work tree are independent: all at once.
    const writing = writeGateResult(stateDir, result);
    const removing = opts.keepWorkTree ? Promise.resolve() : removeTree(workTree).catch(() => undefined);
    const auditing = (await loadAudit()).appendAudit(stateDir, {
      action: 'gates.run',
      outcome: result.status === 'interrupted' ? 'interrupted' : result.status === 'failed' ? 'failed' : 'ok',
      ...(result.tag ? { rc: result.tag } : {}),
      details: {
        commit,
        ref: result.ref,
        status: result.status,
        gates: Object.fromEntries(records.filter((r) => selected.has(r.name)).map((r) => [r.name, r.status])),
        durationMs: result.durationMs,
      },
    }).then(
      () => undefined,
      (err: unknown) => reporter.warning?.(masker.mask(`could not append to the audit log ${join(stateDir, 'audit.jsonl')}: ${err instanceof Error ? err.message : String(err)}`)),
    );
    await Promise.all([writing, removing, auditing]);
    reporter.done?.(result);

    const exitCode = result.status === 'interrupted' ? 130 : result.status === 'failed' ? 1 : 0;
    return { result, file, exitCode, workTree, ...(exitCode === 130 ? { interruptedBy: interruptCause(runSignal) } : {}) };
  });
}

async function runSetup(opts: GateRunOptions, workTree: string, logs: string, deps: RunDeps, reporter: GateReporter): Promise<SetupRecord> {
  const lock = join(workTree, 'package-lock.json');
  if (opts.install === false || !existsSync(lock)) {
    const reason = opts.install === false ? 'skipped (--no-install)' : 'no package-lock.json in the checkout';
    reporter.phaseEnd?.('setup', 'skipped', 0, reason);
    return { status: 'skipped', durationMs: 0, reason };
  }
  const command = displayCommand(SETUP_COMMAND);
  const log = join(logs, SETUP_LOG);
  reporter.phaseStart?.('setup', command);
  const out = createWriteStream(log, { mode: 0o600 });
  out.write(`# ltc gates setup: ${command}\n# cwd: ${workTree}\n# started: ${now()}\n`);
  const t0 = performance.now();
  let status: SetupRecord['status'];
  let reason: string | undefined;
  try {
    const r = await execTracked(SETUP_COMMAND, {
      cwd: workTree,
      timeout: SETUP_TIMEOUT_MS,
      signal: deps.signal,
      baseEnv: deps.env ?? process.env,
      onLine: (line) => out.write(line + '\n'),
    }, deps, out, 'npm ci');
    status = r.cancelled ? 'interrupted' : r.exitCode === 0 ? 'passed' : 'failed';
    if (r.timedOut) reason = `npm ci did not finish within ${SETUP_TIMEOUT_MS / 60_000} minutes`;
    else if (status === 'failed') reason = `npm ci exited ${r.exitCode}`;
  } catch (err) {
    status = deps.signal.aborted ? 'interrupted' : 'failed';
    reason = deps.masker.mask(err instanceof LtcError && err.hint ? `${err.message} (${err.hint})` : (err as Error).message);
    out.write(`${reason}\n`);
  }
  const durationMs = Math.round(performance.now() - t0);
  out.write(`# ${status} in ${durationMs}ms${reason ? `: ${reason}` : ''}\n`);
  await closeStream(out);
  reporter.phaseEnd?.('setup', status === 'passed' ? 'passed' : status === 'interrupted' ? 'interrupted' : 'failed', durationMs, reason);
  return { status, command, durationMs, log, ...(reason ? { reason } : {}) };
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((res) => stream.end(() => res()));
}

async function runAllGates(
  gates: readonly GateConfig[],
  records: GateRecord[],
  selected: Set<string>,
  opts: GateRunOptions & { jobs: number },
  workTree: string,
  deps: RunDeps,
  reporter: GateReporter,
): Promise<void> {
  const failFast = new AbortController();
  const stop = AbortSignal.any([deps.signal, failFast.signal]);
  const byName = new Map(records.map((r) => [r.name, r]));
  const todo = gates.filter((g) => selected.has(g.name));

  const one = async (gate: GateConfig) => {
    const rec = byName.get(gate.name)!;
    if (stop.aborted) return;
    await runGate(gate, rec, workTree, stop, deps, reporter);
    if (opts.failFast && rec.required && rec.status !== 'passed' && !failFast.signal.aborted && !deps.signal.aborted) {
      failFast.abort(new Error(`--fail-fast: gate ${gate.name} ${rec.status}`));
    }
  };

  for (const batch of batchGates(todo)) {
    if (stop.aborted) break;
    if (batch.length === 1) {
      await one(batch[0]!);
      continue;
    }
    let next = 0;
    const worker = async () => {
      while (next < batch.length && !stop.aborted) await one(batch[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(opts.jobs, batch.length) }, worker));
  }

  // Gates that never started.
  for (const g of todo) {
    const rec = byName.get(g.name)!;
    if (rec.status !== 'not_run') continue;
    if (deps.signal.aborted) rec.reason = 'not run: interrupted';
    else if (failFast.signal.aborted) {
      rec.status = 'cancelled';
      rec.reason = `not started: ${(failFast.signal.reason as Error).message}`;
      reporter.gateEnd?.(rec);
    }
  }
}

async function runGate(gate: GateConfig, rec: GateRecord, workTree: string, stop: AbortSignal, deps: RunDeps, reporter: GateReporter): Promise<void> {
  const { masker } = deps;
  const { argv, shell } = gateArgv(gate);
  const startedMs = performance.now();
  rec.startedAt = now();
  rec.status = 'not_run';
  reporter.gateStart?.(rec);
  const out = createWriteStream(rec.log, { mode: 0o600 });
  const cwd = resolve(workTree, gate.cwd ?? '.');
  out.write(`# ltc gate ${gate.name}: ${masker.mask(displayCommand(argv))}\n# cwd: ${cwd}\n# started: ${rec.startedAt}\n`);
  const pathEnv = childEnv(deps.env ?? process.env, gate.env).PATH ?? '';

  const finish = async (status: GateStatus, exitCode: number | null, reason?: string) => {
    rec.status = status;
    rec.exitCode = exitCode;
    rec.durationMs = Math.round(performance.now() - startedMs);
    rec.finishedAt = now();
    if (reason) {
      rec.reason = masker.mask(reason);
      out.write(`ltc: ${rec.reason}\n`);
    }
    out.write(`# ${status}${exitCode === null ? '' : ` (exit ${exitCode})`} in ${rec.durationMs}ms\n`);
    await closeStream(out);
    reporter.gateEnd?.(rec);
  };

  // Checks that need no process: a missing pwsh, a cwd outside or missing, a command not found.
  const rel = relative(workTree, cwd);
  if (rel.startsWith('..') || isAbsolute(rel)) return finish('failed', null, `cwd ${gate.cwd} is outside the checkout; refused`);
  if (!existsSync(cwd) || !statSync(cwd).isDirectory()) return finish('failed', null, `cwd ${gate.cwd} does not exist in the checkout`);
  if (shell === 'pwsh' && !findOnPath('pwsh', pathEnv)) return finish('failed', null, pwshHint(gate, workTree));
  const program = argv[0]!;
  if (program.includes('/')) {
    const full = resolve(cwd, program);
    if (!existsSync(full)) return finish('failed', 127, `command not found: ${program} (no such file in the checkout)`);
    try {
      accessSync(full, constants.X_OK);
    } catch {
      return finish('failed', 126, `${program} is not executable; ${interpreterHint(program)}`);
    }
  } else if (!findOnPath(program, pathEnv)) {
    return finish('failed', 127, `command not found: ${program} (not on PATH); install it or change gate "${gate.name}" in ltc.config.yaml`);
  }

  if (stop.aborted) return finish(deps.signal.aborted ? 'interrupted' : 'cancelled', null, 'ended before it started');
  const timeoutMs = parseDuration(gate.timeout, `gates.${gate.name}.timeout`);
  try {
    const r = await execTracked(argv, {
      cwd,
      timeout: timeoutMs,
      signal: stop,
      // ltc's environment only through the allow-list (never its credentials), then the gate's env:.
      baseEnv: deps.env ?? process.env,
      env: { ...gate.env, LTC_GATE: gate.name, LTC_COMMIT: basenameCommit(workTree) },
      killGrace: 2000,
      onLine: (line) => {
        out.write(line + '\n');
        reporter.gateLine?.(gate.name, line);
      },
    }, deps, out, 'the gate');
    if (r.timedOut) return finish('timed_out', r.exitCode, `timed out after ${gate.timeout}; the gate and its child processes were ended`);
    if (r.cancelled) {
      return deps.signal.aborted
        ? finish('interrupted', r.exitCode, `ended: interrupted (${interruptCause(deps.signal)})`)
        : finish('cancelled', r.exitCode, 'ended: --fail-fast after a required gate failed');
    }
    if (r.exitCode === 0) return finish('passed', 0);
    const hint = firstCommitHint(argv, r.output);
    return finish('failed', r.exitCode, `exited ${r.exitCode}${r.signal ? ` (${r.signal})` : ''}${hint ? `: ${hint}` : ''}`);
  } catch (err) {
    if (err instanceof InterruptedError) return finish(deps.signal.aborted ? 'interrupted' : 'cancelled', null, 'ended before it started');
    const message = err instanceof LtcError && err.hint ? `${err.message}; ${err.hint}` : (err as Error).message;
    return finish('failed', 127, message);
  }
}

/**
 * The exec adapter under the exit guard (a hard exit kills the process group), then anything
 * the command left in its group is ended and `log` says so.
 */
async function execTracked(
  argv: readonly string[],
  execOpts: ExecOptions,
  deps: RunDeps,
  log: WriteStream,
  what: string,
): Promise<ExecResult> {
  const { execCommand } = await loadExec();
  const pids: number[] = [];
  const r = await deps.guard.track(() => execCommand(argv, execOpts, deps.masker), (child) => child.pid && pids.push(child.pid));
  if (await endLeftovers(pids)) log.write(`ltc: ${what} left processes running in its process group; they were ended\n`);
  return r;
}

/**
 * A gate's process group after the gate ended: anything still in it (a server the gate started
 * and did not stop, `cmd &`) is ended, SIGTERM then SIGKILL, so nothing outlives the run or
 * writes into a work tree being removed. True when something had to be ended.
 */
async function endLeftovers(pids: readonly number[]): Promise<boolean> {
  const left = pids.filter(groupAlive);
  if (left.length === 0) return false;
  for (const pid of left) killGroup(pid, 'SIGTERM');
  for (let waited = 0; waited < 1000 && left.some(groupAlive); waited += 25) await new Promise((r) => setTimeout(r, 25));
  for (const pid of left) if (groupAlive(pid)) killGroup(pid, 'SIGKILL');
  return true;
}

function basenameCommit(workTree: string): string {
  return workTree.split(/[/\\]/).at(-1) ?? '';
}

/** The last `n` lines of a log file (already masked when written). */
export async function tailLines(file: string, n = 40): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.slice(-n);
}
