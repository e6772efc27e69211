import { z } from 'zod';

import { DURATION_PATTERN, MAX_DURATION_MS, durationMs as parseDurationText } from '../../core/duration.js';
import { userRegexProblem } from '../../core/user-regex.js';

export { DURATION_PATTERN };

function durationMs(value: number | string): number {
  if (typeof value === 'number') return value;
  return parseDurationText(value) ?? NaN;
}

/** A duration between `minMs` and `maxMs` (inclusive). */
export function boundedDuration(minMs: number, maxMs = MAX_DURATION_MS, what = 'a duration') {
  const show = (ms: number) => {
    if (ms === 0) return '0ms';
    for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
      if (ms % size === 0) return `${ms / size}${unit}`;
    }
    return `${ms}ms`;
  };
  return z
    .union([
      z.number().nonnegative(),
      z.string().regex(DURATION_PATTERN, { message: 'expected a duration such as 500ms, 5s, 2m, 1h' }),
    ])
    .refine((v) => {
      const ms = durationMs(v);
      // Not a duration at all: the pattern's message says so; a range message would be noise.
      if (Number.isNaN(ms)) return true;
      return ms >= minMs && ms <= maxMs;
    }, { message: `expected ${what} from ${show(minMs)} to ${show(maxMs)}` })
    .describe('milliseconds, or a string such as 500ms, 5s, 2m, 1h');
}

/** Milliseconds as a number, or a string such as `500ms`, `5s`, `2m`, `1h`, `14d`. */
export const duration = boundedDuration(0);

/** A timeout: a duration above 0 (a timeout of 0 fails every time). */
export const timeoutDuration = duration.refine((v) => durationMs(v) !== 0, {
  message: 'a timeout of 0 ends the step before it starts: give a duration above 0, e.g. 30s',
});

/** A command as an argument array: never a shell string. */
export const command = z
  .array(z.string())
  .min(1, { message: 'expected a command as a non-empty argument array, e.g. ["npm", "run", "build"]' })
  .describe('a command as an argument array, e.g. ["npm", "run", "build"]');

/** An environment variable name: a key with `=`, a newline or NUL would smuggle another variable into the child. */
export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  message: 'expected an environment variable name: letters, digits and _, not starting with a digit (no =, spaces or newlines)',
});

export const envVars = z
  // eslint-disable-next-line no-control-regex
  .record(envName, z.string().regex(/^[^\u0000]*$/, { message: 'an environment value cannot hold a NUL character' }))
  .describe('environment variables');

/** A user-supplied regular expression: RE2 syntax, matched in linear time (src/core/user-regex.ts). */
export const regexString = z.string().superRefine((s, c) => {
  const problem = userRegexProblem(s);
  if (problem !== undefined) c.addIssue({ code: 'custom', message: `expected a regular expression RE2 can run in linear time: ${problem} (see docs/patterns.md)` });
});
