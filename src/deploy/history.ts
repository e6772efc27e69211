/**
 * What deploys ask of revisions.log — which releases were live once, each release's last outcome
 * — read from its end (issue 17: the cost must not grow with the history). Kept apart from
 * record.ts so `ltc releases` loads neither the audit log nor the masker.
 */
import type { ReleaseInfo, RevisionRecord, Target } from '../targets/target.js';

export function liveOf(revisions: readonly RevisionRecord[]): Set<string> {
  const live = new Set<string>();
  for (const r of revisions) {
    if (r.action === 'stop') continue;
    if (r.outcome === 'ok' && r.release) live.add(r.release);
    if (r.outcome === 'rolled_back' && r.rolledBackTo) live.add(r.rolledBackTo);
  }
  return live;
}

/** Records older than this before the oldest release on the target cannot name it (clock slack). */
const RECORD_SLACK_MS = 24 * 3600_000;

/**
 * liveOf restricted to the releases on the target (the only names callers ask about), read from
 * the end of revisions.log: it stops once every release there is known live, or at records
 * older than the oldest release (no record can name a release before it was made) — so it
 * costs the same at 10 or 100k lines of history. Targets without revisionsNewestFirst: liveOf.
 */
export async function liveAmong(target: Pick<Target, 'readRevisions' | 'listReleases' | 'revisionsNewestFirst'>, releases?: readonly ReleaseInfo[]): Promise<Set<string>> {
  if (!target.revisionsNewestFirst) return liveOf(await target.readRevisions());
  const list = releases ?? (await target.listReleases());
  const wanted = new Set(list.map((r) => r.name));
  const live = new Set<string>();
  if (wanted.size === 0) return live;
  const since = Math.min(...list.map((r) => r.createdMs)) - RECORD_SLACK_MS;
  for await (const r of target.revisionsNewestFirst()) {
    const t = Date.parse(r.time);
    if (Number.isFinite(since) && Number.isFinite(t) && t < since) break;
    if (r.action === 'stop') continue;
    if (r.outcome === 'ok' && r.release && wanted.has(r.release)) live.add(r.release);
    if (r.outcome === 'rolled_back' && r.rolledBackTo && wanted.has(r.rolledBackTo)) live.add(r.rolledBackTo);
    if (live.size === wanted.size) break;
  }
  return live;
}

/**
 * The last outcome of each release on the target (what `ltc releases` shows), read from the end
 * of revisions.log with the same bounds as liveAmong.
 */
export async function lastOutcomes(target: Pick<Target, 'readRevisions' | 'revisionsNewestFirst'>, releases: readonly ReleaseInfo[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!target.revisionsNewestFirst) {
    for (const r of await target.readRevisions()) {
      if (r.release) out.set(r.release, `${r.action} ${r.outcome}`);
      if (r.rolledBackTo) out.set(r.rolledBackTo, 'rolled back to (ok)');
    }
    return out;
  }
  const wanted = new Set(releases.map((r) => r.name));
  if (wanted.size === 0) return out;
  const since = Math.min(...releases.map((r) => r.createdMs)) - RECORD_SLACK_MS;
  for await (const r of target.revisionsNewestFirst()) {
    const t = Date.parse(r.time);
    if (Number.isFinite(since) && Number.isFinite(t) && t < since) break;
    // Newest first: the first one seen wins; within a record rolledBackTo was set after release.
    if (r.rolledBackTo && wanted.has(r.rolledBackTo) && !out.has(r.rolledBackTo)) out.set(r.rolledBackTo, 'rolled back to (ok)');
    if (r.release && wanted.has(r.release) && !out.has(r.release)) out.set(r.release, `${r.action} ${r.outcome}`);
    if (out.size === wanted.size) break;
  }
  return out;
}

