import { z } from 'zod';

export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Milliseconds as a number, or a string such as `500ms`, `5s`, `2m`, `1h`, `14d`. */
export const duration = z
  .union([
    z.number().nonnegative(),
    z.string().regex(DURATION_PATTERN, { message: 'expected a duration such as 500ms, 5s, 2m, 1h' }),
  ])
  .describe('milliseconds, or a string such as 500ms, 5s, 2m, 1h');

/** A command as an argument array: never a shell string. */
export const command = z
  .array(z.string())
  .min(1, { message: 'expected a command as a non-empty argument array, e.g. ["npm", "run", "build"]' })
  .describe('a command as an argument array, e.g. ["npm", "run", "build"]');

export const envVars = z.record(z.string(), z.string()).describe('environment variables');

export const regexString = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected a valid regular expression' },
);
