/**
 * The one place ltc runs `git`. Argument arrays only, a clean environment (no caller GIT_DIR &
 * co.), no terminal prompts, the `ext::` transport refused, and abortable (Ctrl-C).
 */
import { execa } from 'execa';
import { CheckFailedError, InterruptedError } from '../core/errors.js';
import { processMasker, type Masker } from '../core/masker.js';

export interface GitOptions {
  /** Working directory for git (`-C` is not used, so paths in args stay as given). */
  cwd?: string;
  signal?: AbortSignal;
  /** Fail after this many ms (default 10 minutes: a clone of a large repo). */
  timeout?: number;
  masker?: Masker;
}

export interface GitResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Variables that would point git at another repository than the one we name. */
const REPO_ENV = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_PREFIX', 'GIT_COMMON_DIR', 'GIT_NAMESPACE', 'GIT_CEILING_DIRECTORIES'];

/** The environment every git call gets: the caller's, minus repo pointers, never prompting. */
export function gitEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
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

/** Runs git with the given arguments; never throws on a non-zero exit (see `git()` for that). */
export async function runGit(args: readonly string[], opts: GitOptions = {}): Promise<GitResult> {
  if (opts.signal?.aborted) throw new InterruptedError('interrupted before git ran');
  const r = await execa('git', [...SAFE_CONFIG, ...args], {
    cwd: opts.cwd,
    env: gitEnv(),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: opts.timeout ?? 600_000,
    cancelSignal: opts.signal,
    stripFinalNewline: true,
  });
  if (opts.signal?.aborted) throw new InterruptedError('interrupted while git ran');
  const code = (r as { code?: string }).code;
  if (code === 'ENOENT') {
    throw new CheckFailedError('git is not installed or not on PATH', { hint: 'install git (Debian package: git)' });
  }
  const masker = opts.masker ?? processMasker;
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: masker.mask(String(r.stderr ?? '')) };
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
