/**
 * Quoting for the remote POSIX shell. ssh joins its remote arguments with spaces and hands the
 * string to the user's login shell, so every remote command is built here and only here: each
 * argument becomes one single-quoted word (a `'` inside becomes `'\''`), which no POSIX shell
 * expands — no $(), backticks, globs, ;, newlines or variables.
 */
import { UsageError } from '../core/errors.js';

/** One argument as one literal word for a POSIX shell. */
export function shQuote(arg: string): string {
  if (arg.includes('\0')) throw new UsageError('an argument for the remote shell contains a NUL byte', { hint: 'NUL cannot be passed to a remote command' });
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** An argument vector as a command line for the remote shell: every word stays literal. */
export function shCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new UsageError('empty remote command');
  return argv.map(shQuote).join(' ');
}

/**
 * A POSIX sh script run as `sh -c <script> sh <args…>`: the script is fixed text written by
 * ltc (uses "$1", "$2"…), every value travels as a quoted positional argument.
 */
export function shScript(script: string, args: readonly string[] = []): string {
  return shCommand(['sh', '-c', script, 'sh', ...args]);
}
