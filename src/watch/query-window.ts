/**
 * `$window` in a watch query: the rate range that counts only the live release. It stands for
 * the time since the switch, at most prometheus.window; before prometheus.min_window has passed
 * the query is not run (warming up, inconclusive) — a range reaching back past the switch would
 * count the previous release's errors against this one (a false fail after a rollback).
 */
import { durationMs, formatDuration } from '../core/duration.js';

export const WINDOW_TOKEN = '$window';

export interface QueryWindow {
  /** Longest range, ms. */
  maxMs: number;
  /** Shortest range worth querying (≥ 2 scrapes), ms. */
  minMs: number;
  /** Epoch ms of the switch to the live release; null when unknown (then always maxMs). */
  switchedMs: number | null;
}

export type Resolved = { promql: string; rangeS?: number } | { warming: string };

/** The PromQL to send now, or why not yet. */
export function resolveQuery(promql: string, w: QueryWindow, now: number): Resolved {
  if (!promql.includes(WINDOW_TOKEN)) return { promql };
  const since = w.switchedMs === null ? Infinity : now - w.switchedMs;
  if (since < w.minMs) {
    return { warming: `warming up: the switch was ${formatDuration(Math.max(0, since))} ago and $window needs at least ${formatDuration(w.minMs)} (prometheus.min_window) of this release` };
  }
  const rangeS = Math.max(1, Math.floor(Math.min(w.maxMs, since) / 1000));
  return { promql: promql.split(WINDOW_TOKEN).join(`${rangeS}s`), rangeS };
}

/** The query with the longest range, for checks before the watch and graph links. */
export function widest(promql: string, w: QueryWindow): string {
  return promql.split(WINDOW_TOKEN).join(`${Math.max(1, Math.floor(w.maxMs / 1000))}s`);
}

/** A fixed range ([1m]) longer than the time since the switch: the query still counts the release before. */
export function staleRange(promql: string, w: QueryWindow, now: number): string | undefined {
  if (w.switchedMs === null) return undefined;
  const since = now - w.switchedMs;
  for (const m of promql.matchAll(/\[\s*([0-9.]+(?:ms|s|m|h|d))\s*(?::[^\]]*)?\]/g)) {
    const range = durationMs(m[1]!);
    if (range !== undefined && range > since) return m[1]!;
  }
  return undefined;
}
