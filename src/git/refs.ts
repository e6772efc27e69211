/**
 * Validation of ref and tag names given on the command line, BEFORE any git command sees them:
 * nothing that git (or a shell, or an ssh remote) could read as an option or a command.
 */
import { UsageError } from '../core/errors.js';
import type { GitOptions } from './git.js';
import { userRegex, type UserRegex } from '../core/user-regex.js';

const SHELL_META = /[;&|$`<>(){}[\]*?!~^:\\"'#%=,\u0000-\u001f\u007f]/;
/** What ltc accepts in a ref at all; git's own rule (check-ref-format) comes on top. */
const REF_CHARS = /^[A-Za-z0-9_][A-Za-z0-9._/+@-]*$/;
/** A full or abbreviated commit id (sha1 or sha256). */
export const COMMIT_SHA = /^[0-9a-f]{7,64}$/i;
const FULL_SHA = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

export function isCommitSha(value: string): boolean {
  return COMMIT_SHA.test(value);
}

export function isFullSha(value: string): boolean {
  return FULL_SHA.test(value);
}

/**
 * The checks that need no git: throws UsageError (exit 2) naming what is wrong. `flag` is how the
 * person gave the value (`--rc`, `--ref`, a step input) so the message points at it.
 */
export function checkRefSyntax(name: string, flag = '--ref'): void {
  const shown = JSON.stringify(name);
  const hint = /rc\b/.test(flag)
    ? `${flag} takes a release candidate tag such as rc-2026-03-01`
    : `${flag} takes a tag, branch or commit id such as rc-2026-03-01, main or 6ce2467`;
  if (name.length === 0) throw new UsageError(`${flag} is empty`, { hint });
  if (name.length > 200) throw new UsageError(`${flag} is longer than 200 characters`, { hint });
  if (name.startsWith('-')) {
    throw new UsageError(`${flag} ${shown} starts with "-" and would be read as an option; refused`, { hint });
  }
  if (name.includes('..')) throw new UsageError(`${flag} ${shown} contains ".."; refused`, { hint });
  if (/\s/.test(name)) throw new UsageError(`${flag} ${shown} contains whitespace; refused`, { hint });
  const meta = SHELL_META.exec(name);
  if (meta) {
    // git itself refuses some of these (~ ^ : ? * [ \\ and control characters), not all (; & $ …).
    const why = /[~^:?*[\\\u0000-\u001f\u007f]/.test(meta[0]) ? 'which git does not allow in a ref name' : 'a shell character ltc does not accept in a ref name';
    throw new UsageError(`${flag} ${shown} contains ${JSON.stringify(meta[0])}, ${why}; refused`, { hint });
  }
  if (!REF_CHARS.test(name)) {
    throw new UsageError(`${flag} ${shown} is not a valid ref name`, { hint: `${hint}: letters, digits, . _ / + @ -` });
  }
}

/**
 * git's own rule for ref names (`git check-ref-format`), for names that passed `checkRefSyntax`
 * (which already refuses control characters, space, `~ ^ : ? * [ \\ {`, `..` and a leading `-`).
 * What is left of git's rules is checked here, in-process: no git process on the way to a run.
 * A test holds this against `git check-ref-format` itself.
 */
export function gitRefFormatProblem(fullRef: string): string | undefined {
  if (fullRef.endsWith('/') || fullRef.includes('//')) return 'an empty path component ("//" or a trailing "/")';
  if (fullRef.includes('..')) return 'the sequence ".."';
  if (fullRef.endsWith('.')) return 'a trailing "."';
  for (const part of fullRef.split('/')) {
    if (part.startsWith('.')) return `a component starting with "." (${part})`;
    if (part.endsWith('.lock')) return `a component ending in ".lock" (${part})`;
  }
  if (fullRef.includes('@{') || fullRef === '@') return 'the sequence "@{"';
  return undefined;
}

function checkRefFormat(fullRef: string, flag: string, shown: string): void {
  const problem = gitRefFormatProblem(fullRef);
  if (problem) {
    throw new UsageError(`${flag} ${JSON.stringify(shown)} is not a valid git ref name: ${problem}`, {
      hint: 'see `git help check-ref-format` (no "//", no trailing "." or ".lock", no "@{")',
    });
  }
}

/**
 * A ref given with `--ref`: a branch, a tag, a full ref (`refs/…`), HEAD or a commit id.
 * Syntax checks, then git's ref-name rules; no git process runs (`opts` is kept for callers).
 */
export async function validateRefName(name: string, flag = '--ref', _opts: GitOptions = {}): Promise<void> {
  checkRefSyntax(name, flag);
  if (name === 'HEAD' || isCommitSha(name)) return;
  checkRefFormat(name.startsWith('refs/') ? name : `refs/heads/${name}`, flag, name);
}

/**
 * A release candidate tag given with `--rc`: must pass the syntax checks (before any git call),
 * match the configured `app.tag_pattern`, and be a valid tag name for git.
 */
export async function validateRcName(name: string, pattern: string | UserRegex, opts: GitOptions & { flag?: string } = {}): Promise<void> {
  const flag = opts.flag ?? '--rc';
  checkRefSyntax(name, flag);
  const re = typeof pattern === 'string' ? userRegex(pattern, 'app.tag_pattern') : pattern;
  if (!re.test(name)) {
    throw new UsageError(`${flag} ${JSON.stringify(name)} does not match the tag pattern ${re.source} (app.tag_pattern)`, {
      hint: 'release candidate tags look like rc-2026-03-01 (or rc-2026-03-01.1 for a hotfix); `git tag --list "rc-*"` in the app repo lists them',
    });
  }
  checkRefFormat(`refs/tags/${name}`, flag, name);
}
