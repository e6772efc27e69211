import { processes as defaultProcesses, type ProcessPort } from './process.js';
import { existsSync } from 'node:fs';
import { CheckFailedError, InterruptedError, UsageError } from '../core/errors.js';
import type { Masker } from '../core/masker.js';
import { childEnv } from './child-env.js';
import { displayCommand } from './command.js';

export interface ExecOptions {
  cwd?: string;
  /**
   * What the config or the step gives the command explicitly, on top of the allow-listed part
   * of `baseEnv` (see child-env.ts); `undefined` removes a variable.
   */
  env?: Record<string, string | undefined>;
  /** ltc's environment the allow-listed variables are taken from (default process.env). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Kill the whole process tree after this many ms. */
  timeout?: number;
  /** Ctrl-C or a step cancel: the whole process tree is ended. */
  signal?: AbortSignal;
  /** Each output line (stdout and stderr), already masked. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Text fed to stdin. */
  input?: string;
  /** Grace between SIGTERM and SIGKILL when the tree is ended. */
  killGrace?: number;
  /** The process port to start through (the Context's; default the process's own). */
  processes?: ProcessPort;
}

export interface ExecResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved, masked. */
  output: string;
  durationMs: number;
  timedOut: boolean;
  cancelled: boolean;
  signal?: string;
}

const MAX_CAPTURE = 4 * 1024 * 1024;

function killTree(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Process groups started here whose leader has not closed yet. Each runs in a group of its own
 * (so nothing ends it when ltc goes away): if ltc exits first — a second Ctrl-C exits at once
 * with 130, before the SIGTERM→SIGKILL grace of the first has run — the 'exit' hook SIGKILLs them.
 */
const liveGroups = new Set<number>();
let exitHooked = false;

function killLiveGroups(): void {
  for (const pid of liveGroups) killTree(pid, 'SIGKILL');
  liveGroups.clear();
}

function trackGroup(pid: number): void {
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', killLiveGroups);
  }
  liveGroups.add(pid);
}

/**
 * Runs a command given as an argument array (never a shell string) in its own process group,
 * so a timeout or Ctrl-C ends the child and everything it started. Output is masked.
 */
export async function execCommand(argv: readonly string[], opts: ExecOptions, masker: Masker): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (!file) throw new UsageError('empty command', { hint: 'a command is a non-empty argument array' });
  if (opts.signal?.aborted) throw new InterruptedError(`not started: ${displayCommand(argv)}`);
  if (opts.cwd && !existsSync(opts.cwd)) {
    throw new CheckFailedError(`working directory does not exist: ${opts.cwd}`, { hint: `check the cwd of: ${masker.mask(displayCommand(argv))}` });
  }
  const started = performance.now();
  // Through the process port, not execa: execa's per-call overhead was most of a runbook step's cost.
  const child = (opts.processes ?? defaultProcesses).start([file, ...args], {
    cwd: opts.cwd,
    env: childEnv(opts.baseEnv ?? process.env, opts.env),
    detached: true,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid !== undefined) trackGroup(pid);
  if (opts.input !== undefined) {
    // EPIPE when the child ends before reading its input (an ssh whose server died): its exit status says what happened.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input);
  }
  let output = '';
  let stdout = '';
  let stderr = '';
  const attach = (stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr') => {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      if (name === 'stdout' && stdout.length < MAX_CAPTURE) stdout += chunk;
      if (name === 'stderr' && stderr.length < MAX_CAPTURE) stderr += chunk;
      if (output.length < MAX_CAPTURE) output += chunk;
      if (!opts.onLine) return;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) opts.onLine(masker.mask(line), name);
    });
    stream?.on('end', () => {
      if (partial && opts.onLine) opts.onLine(masker.mask(partial), name);
    });
  };
  attach(child.stdout, 'stdout');
  attach(child.stderr, 'stderr');

  let timedOut = false;
  let cancelled = false;
  let forceTimer: NodeJS.Timeout | undefined;
  const end = () => {
    killTree(child.pid, 'SIGTERM');
    forceTimer ??= setTimeout(() => killTree(child.pid, 'SIGKILL'), opts.killGrace ?? 3000);
  };
  const timer = opts.timeout ? setTimeout(() => ((timedOut = true), end()), opts.timeout) : undefined;
  const onAbort = () => ((cancelled = true), end());
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>(
    (resolve) => {
      let spawnError: NodeJS.ErrnoException | undefined;
      child.on('error', (err: NodeJS.ErrnoException) => {
        spawnError = err;
        if (child.pid === undefined) resolve({ code: null, signal: null, error: err });
      });
      child.on('close', (code, signal) => resolve({ code, signal, error: spawnError }));
    },
  );
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  // The group may outlive its leader (a grandchild kept running): end it too.
  if (timedOut || cancelled) killTree(child.pid, 'SIGKILL');
  clearTimeout(forceTimer);
  if (pid !== undefined) liveGroups.delete(pid);

  if (outcome.error?.code === 'ENOENT') {
    throw new CheckFailedError(`command not found: ${file}`, {
      hint: `install ${file} or change the command; it was run as: ${masker.mask(displayCommand(argv))}`,
    });
  }
  if (outcome.error && child.pid === undefined) {
    throw new CheckFailedError(`cannot run ${file}: ${outcome.error.message}`, {
      hint: `check that ${file} is executable and the working directory exists`,
    });
  }
  return {
    argv: [...argv],
    exitCode: outcome.code ?? (outcome.signal ? 128 + (signalNumber(outcome.signal) ?? 0) : 1),
    stdout: masker.mask(stdout),
    stderr: masker.mask(stderr),
    output: masker.mask(output),
    durationMs: Math.round(performance.now() - started),
    timedOut,
    cancelled,
    signal: outcome.signal ?? undefined,
  };
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return table[signal];
}
