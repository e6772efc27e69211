/** History: revisions.log on the target and the audit log in .ltc/, for every deploy and rollback. */
import { join } from 'node:path';
import { appendAudit } from '../audit/log.js';
import type { RevisionRecord } from '../targets/target.js';
import type { DeploySession } from './session.js';

export type Outcome = RevisionRecord['outcome'];

function auditOutcome(o: Outcome): 'ok' | 'failed' | 'interrupted' {
  return o === 'ok' ? 'ok' : o === 'interrupted' ? 'interrupted' : 'failed';
}

/** Appends the outcome of the session to revisions.log and the audit log (once). */
export async function recordOutcome(
  s: DeploySession,
  outcome: Outcome,
  extra: { release?: string | null; from?: string | null; failedPhase?: string; error?: string; rolledBackTo?: string | null } = {},
): Promise<RevisionRecord> {
  const durationMs = Math.round(performance.now() - s.t0);
  const release = extra.release !== undefined ? extra.release : (s.release ?? null);
  const record: RevisionRecord = {
    time: new Date().toISOString(),
    actor: s.actor,
    action: s.action,
    environment: s.environment,
    rc: s.rc ?? null,
    commit: s.commit ?? null,
    release,
    releaseDir: release ? join(s.target.paths.releases, release) : null,
    from: extra.from !== undefined ? extra.from : (s.before.current ?? null),
    outcome,
    durationMs,
    ...(s.action === 'deploy' ? { buildMs: Math.round(s.buildMs) } : {}),
    ...(s.startMs !== undefined ? { startMs: Math.round(s.startMs) } : {}),
    ...(extra.failedPhase ? { failedPhase: extra.failedPhase } : {}),
    ...(extra.error ? { error: s.ctx.masker.mask(extra.error) } : {}),
    ...(extra.rolledBackTo !== undefined ? { rolledBackTo: extra.rolledBackTo } : {}),
    ...(s.verified ? { verified: s.verified } : {}),
    runId: s.id,
  };
  s.recorded = true;
  await s.target.appendRevision(record);
  await appendAudit(s.stateDir, {
    action: s.action,
    outcome: auditOutcome(outcome),
    environment: s.environment,
    ...(s.rc ? { rc: s.rc } : {}),
    details: {
      result: outcome,
      target: s.target.description,
      release: record.release,
      from: record.from,
      ...(s.commit ? { commit: s.commit } : {}),
      durationMs,
      runId: s.id,
      ...(s.skippedGates ? { skippedGates: true } : {}),
      ...(extra.failedPhase ? { failedPhase: extra.failedPhase } : {}),
      ...(extra.error ? { error: s.ctx.masker.mask(extra.error) } : {}),
      ...(extra.rolledBackTo !== undefined ? { rolledBackTo: extra.rolledBackTo } : {}),
    },
  }).catch((err: unknown) => s.ctx.out.warn(`could not write the audit log: ${(err as Error).message}`));
  return record;
}

/** Releases that were live and healthy at some point (a deploy or rollback ended ok with them). */
export { liveAmong, lastOutcomes, liveOf } from './history.js';

export async function liveReleases(s: DeploySession): Promise<Set<string>> {
  return (await import('./history.js')).liveAmong(s.target);
}

/**
 * The release that was live before a deploy: the one `current` points at — unless it never
 * answered healthy while `previous` did. A deploy killed right after its switch leaves exactly
 * that: current on its new, never started release, the app of previous still running. The next
 * deploy makes the live one `previous` (so `ltc rollback` never returns to an untried release)
 * and its automatic rollback returns there.
 */
export function liveBeforeOf(current: string | undefined, previous: string | undefined, live: ReadonlySet<string>): string | undefined {
  if (current && previous && current !== previous && !live.has(current) && live.has(previous)) return previous;
  return current;
}
