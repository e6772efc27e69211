/**
 * One line of revisions.log as a record, or undefined for what cannot be one: a torn last line
 * (killed mid-write), `null`, a number, or an object whose time, action or outcome is not a string
 * (a hand edit) — such a line is skipped rather than shown as "[object Object]" or crashing.
 */
import type { RevisionRecord } from './target.js';

export function parseRevisionLine(line: string): RevisionRecord | undefined {
  if (!line.trim()) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r.time !== 'string' || Number.isNaN(Date.parse(r.time)) || typeof r.action !== 'string' || typeof r.outcome !== 'string') return undefined;
  return v as RevisionRecord;
}
