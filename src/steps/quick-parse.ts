/**
 * Checks for a step type's quickParse (src/runbook/step-type.ts): the usual shapes of a value,
 * without zod. Each says yes only where the zod schema says yes too; anything else goes to it.
 */
import { DURATION_PATTERN, MAX_DURATION_MS, durationMs } from '../core/duration.js';

export type Plain = Record<string, unknown>;

/**
 * A copy of a plain object whose own keys are all enumerable data properties among `keys`, with
 * defined values, each read once; undefined for anything else (symbol keys, getters, proxies).
 */
export function plainCopy(value: unknown, keys: readonly string[]): Plain | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const copy: Plain = {};
  for (const key of Reflect.ownKeys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, key);
    if (typeof key !== 'string' || !keys.includes(key) || !d?.enumerable || !('value' in d) || d.value === undefined) return undefined;
    copy[key] = d.value;
  }
  return copy;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[]): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value);
}

/** Absent, or a string that is not empty. */
export function optionalText(value: unknown): boolean {
  return value === undefined || (typeof value === 'string' && value.length > 0);
}

/** What config/schema/common.ts `duration` accepts: milliseconds, or `500ms`, `5s`, `2m`, `1h`, `14d`, up to ~24.8 days. */
export function isDuration(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 && value <= MAX_DURATION_MS;
  if (typeof value !== 'string' || !DURATION_PATTERN.test(value)) return false;
  const ms = durationMs(value);
  return ms !== undefined && ms <= MAX_DURATION_MS;
}
