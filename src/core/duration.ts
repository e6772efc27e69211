import { UsageError } from './errors.js';

export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
/** Timers in Node hold at most 2^31-1 ms (~24.8 days). */
export const MAX_DURATION_MS = 2_147_483_647;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `14d`, `48h`, `30m`, `10s`, `500ms` → ms; undefined when it is not a duration. */
export function durationMs(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text.trim());
  return m ? Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]) : undefined;
}

/** `500ms`, `5s`, `2m`, `1h`, `14d` or a number of milliseconds → milliseconds. */
export function parseDuration(value: string | number, what = 'duration'): number {
  if (typeof value === 'number') return value;
  const ms = durationMs(value);
  if (ms === undefined) throw new UsageError(`${what}: "${value}" is not a duration`, { hint: 'use e.g. 500ms, 5s, 2m, 1h' });
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
