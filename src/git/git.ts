/**
 * The one place ltc runs `git`. Argument arrays only, a clean environment (no caller GIT_DIR &
 * co.), no terminal prompts, the `ext::` transport refused, and abortable (Ctrl-C).
 */
import { processes } from '../exec/process.js';
import { CheckFailedError, InterruptedError } from '../core/errors.js';
import { processMasker, type Masker } from '../core/masker.js';
import { childEnv } from '../exec/child-env.js';

export interface GitOptions {
  /** Working directory for git (`-C` is not used, so paths in args stay as given). */
  cwd?: string;
  signal?: AbortSignal;
  /** Fail after this many ms (default 10 minutes: a clone of a large repo). */
  timeout?: number;
  masker?: Masker;
  /** Written to git's stdin (e.g. `cat-file --batch`). */
  input?: string | Buffer;
  /**
   * Keep the caller's GIT_DIR, GIT_INDEX_FILE & co.: for a scan run from a git hook, where git
   * points them at the repository and the index being committed.
   */
  callerRepoEnv?: boolean;
}

export interface GitResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Variables that would point git at another repository than the one we name. */
const REPO_ENV = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_PREFIX', 'GIT_COMMON_DIR', 'GIT_NAMESPACE', 'GIT_CEILING_DIRECTORIES'];

/**
 * The environment every git call gets: the allow-listed part of the caller's (child-env.ts, with
 * git's own GIT_* and SSH_AUTH_SOCK; never ltc's credentials), minus repo pointers, never prompting.
 */
export function gitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = childEnv(base, undefined, 'git');
  for (const key of REPO_ENV) delete env[key];
  env.GIT_TERMINAL_PROMPT = '0';
  env.GIT_ASKPASS = env.GIT_ASKPASS ?? '';
  env.SSH_ASKPASS = env.SSH_ASKPASS ?? '';
  env.GIT_SSH_COMMAND = env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes';
  env.LC_ALL = 'C';
  return env;
}

/** Config given to every call: no `ext::`/`fd::` transports, no gpg, no CRLF rewriting. */
const SAFE_CONFIG = ['-c', 'protocol.ext.allow=never', '-c', 'protocol.fd.allow=never', '-c', 'core.autocrlf=false', '-c', 'advice.detachedHead=false'];

/** git's argument list with the safe config in front (for callers that spawn git themselves). */
export function safeGitArgs(args: readonly string[]): string[] {
  return [...SAFE_CONFIG, ...args];
}

/**
 * Runs git with the given arguments; never throws on a non-zero exit (see `git()` for that).
 * Through the process port (not execa): `ltc gates status` and the checkout stay light.
 */
export async function runGit(args: readonly string[], opts: GitOptions = {}): Promise<GitResult> {
  const r = await runGitBytes(args, opts);
  return { ...r, stdout: r.stdout.toString('utf8').replace(/\n$/, '') };
}

/** `runGit` with stdout as it came (blobs, NUL-separated lists). */
export function runGitBytes(args: readonly string[], opts: GitOptions = {}): Promise<Omit<GitResult, 'stdout'> & { stdout: Buffer }> {
  if (opts.signal?.aborted) return Promise.reject(new InterruptedError('interrupted before git ran'));
  return new Promise((resolvePromise, reject) => {
    const child = processes.start(['git', ...safeGitArgs(args)], {
      cwd: opts.cwd,
      env: opts.callerRepoEnv ? childEnv(process.env, undefined, 'git') : gitEnv(),
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => undefined); // EPIPE when git ends before reading: judged by its exit code
      child.stdin!.end(opts.input);
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    let killedBy: 'abort' | 'timeout' | undefined;
    const kill = (why: 'abort' | 'timeout') => {
      killedBy ??= why;
      child.kill('SIGTERM');
    };
    const timer = setTimeout(() => kill('timeout'), opts.timeout ?? 600_000);
    const onAbort = () => kill('abort');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      done();
      if (e.code === 'ENOENT') reject(new CheckFailedError('git is not installed or not on PATH', { hint: 'install git (Debian package: git)' }));
      else reject(e);
    });
    child.once('close', (code, signal) => {
      done();
      if (killedBy === 'abort' || opts.signal?.aborted) return reject(new InterruptedError('interrupted while git ran'));
      const masker = opts.masker ?? processMasker;
      const stderr = masker.mask(Buffer.concat(err).toString('utf8').replace(/\n$/, ''));
      if (killedBy === 'timeout') {
        return reject(new CheckFailedError(`git ${args[0] ?? ''} did not finish within ${Math.round((opts.timeout ?? 600_000) / 1000)}s`));
      }
      resolvePromise({
        exitCode: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out),
        stderr,
      });
    });
  });
}

/** Runs git and returns stdout; a non-zero exit becomes CheckFailedError carrying git's message. */
export async function git(args: readonly string[], opts: GitOptions & { what?: string } = {}): Promise<string> {
  const r = await runGit(args, opts);
  if (r.exitCode !== 0) {
    throw new CheckFailedError(`${opts.what ?? `git ${args[0] ?? ''}`} failed: ${firstLines(r.stderr)}`, {
      details: { exitCode: r.exitCode },
    });
  }
  return r.stdout;
}

/** The first few non-empty lines of git's stderr, joined: its messages are short. */
export function firstLines(text: string, n = 3): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(0, n)
      .join('; ') || 'no message'
  );
}
