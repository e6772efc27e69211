import { UsageError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';

/** `--since 24h` / `7d` / `2026-03-01` / an ISO time → the earliest time to show. */
export function parseSince(value: string, now = Date.now()): Date {
  if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(value.trim())) return new Date(now - parseDuration(value, '--since'));
  if (/^\d{4}-\d{2}-\d{2}/.test(value.trim())) {
    const t = Date.parse(value.trim());
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new UsageError(`--since ${value} is neither a duration nor a date`, { hint: 'use e.g. --since 24h, --since 7d or --since 2026-03-01' });
}
