/**
 * Regular expressions that a user supplies (app.tag_pattern, runbook input `pattern`, a target's
 * `log_scan`, health conditions `body matches "…"`) run on RE2 (the `re2js` port): matching takes
 * time linear in the pattern and the text, whatever both are. V8's own engine backtracks, so
 * `^(a+)+$` against 41 characters takes minutes and cannot be interrupted; its linear engine needs
 * a V8 flag (`--enable-experimental-regexp-engine`) that Node does not set.
 *
 * A pattern RE2 cannot run (a backreference, a lookaround, a repeat count over 1000, JavaScript-only
 * escapes such as `\u0041`) is refused when the config or runbook is validated, with the reason:
 * `userRegexProblem` for the schemas, `userRegex` to compile one (a ConfigError naming where).
 * The accepted syntax is documented in docs/patterns.md.
 */
import type { RE2JS as RE2JSClass } from 're2js';

import { ConfigError } from './errors.js';
import { isOnePassPattern } from './one-pass-pattern.js';

let re2: typeof RE2JSClass | undefined;
/** re2js loads on the first pattern that needs it (its CommonJS build, so that this stays synchronous). */
function RE2(): typeof RE2JSClass {
  re2 ??= (process.getBuiltinModule('node:module').createRequire(import.meta.url)('re2js') as { RE2JS: typeof RE2JSClass }).RE2JS;
  return re2;
}

/** What ltc needs from a compiled pattern (a RegExp has the same shape, for ltc's own patterns). */
export interface UserRegex {
  /** The pattern as written. */
  readonly source: string;
  /** True when the pattern matches somewhere in `text` (unanchored, like RegExp#test). */
  test(text: string): boolean;
}

/** Longer patterns are refused: RE2 is linear in pattern size × text size, and nobody writes these by hand. */
export const MAX_PATTERN_LENGTH = 4096;

const cache = new Map<string, UserRegex>();

/** The reason RE2 cannot run `source`, in words, with what to write instead where there is an alternative. */
function explain(source: string, raw: string): string {
  if (/\\[1-9]|\\k</.test(source)) return 'backreferences (\\1, \\k<name>) need a backtracking engine, whose time can grow exponentially; RE2 has none';
  if (/\(\?<?[=!]/.test(source)) return 'lookahead and lookbehind ((?=…), (?!…), (?<=…), (?<!…)) are not linear-time; RE2 has none, match the text itself instead';
  if (/\\u/.test(source)) return 'write \\u0041 as \\x{0041} (RE2 syntax)';
  if (/\\c/.test(source)) return 'control escapes (\\cA) are JavaScript-only; write \\x01';
  if (/invalid repeat count/.test(raw)) return `${raw.replace(/^error parsing regexp: /, '')} (a repeat count is at most 1000, nested counts multiply)`;
  return raw.replace(/^error parsing regexp: /, '');
}

function remember(source: string, re: { test(text: string): boolean }): void {
  if (cache.size >= 1000) cache.clear();
  cache.set(source, { source, test: (text: string) => re.test(text) });
}

/** Why `source` is refused as a user pattern, or undefined when RE2 accepts it. */
export function userRegexProblem(source: string): string | undefined {
  if (typeof source !== 'string') return 'expected a regular expression as a string';
  if (source.length > MAX_PATTERN_LENGTH) return `the pattern is ${source.length} characters long, at most ${MAX_PATTERN_LENGTH} are accepted`;
  if (cache.has(source)) return undefined;
  if (isOnePassPattern(source)) {
    remember(source, new RegExp(source));
    return undefined;
  }
  try {
    remember(source, RE2().compile(source));
    return undefined;
  } catch (err) {
    return explain(source, err instanceof Error ? err.message : String(err));
  }
}

/**
 * Compiles a user pattern for linear-time matching. `where` names the key (e.g. `app.tag_pattern`);
 * a pattern RE2 cannot run is a ConfigError (exit 2) with the reason. Compiled patterns are cached.
 */
export function userRegex(source: string, where = 'pattern'): UserRegex {
  const problem = userRegexProblem(source);
  if (problem !== undefined) {
    throw new ConfigError(`${where}: the regular expression ${JSON.stringify(source.length > 200 ? `${source.slice(0, 200)}…` : source)} cannot be used: ${problem}`, {
      hint: 'ltc runs patterns on RE2 (linear time); see docs/patterns.md for the accepted syntax',
    });
  }
  return cache.get(source)!;
}
