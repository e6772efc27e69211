/**
 * What a fleet run records: each host's own outcome in its revisions.log (a host the run never
 * switched gets no line: it did not take part), and one audit entry for the run, with who ran it
 * (the git identity, as the local target records it) and every host's outcome.
 */
import type { Context } from '../core/context.js';
import { toLtcError } from '../core/errors.js';
import type { HostReport } from './open.js';

export type RunOutcome = 'ok' | 'rolled_back' | 'rollback_failed' | 'interrupted' | 'failed';

/** The run's outcome from the error that ended it (none: ok). */
export function runOutcomeOf(err: unknown): RunOutcome {
  if (err === undefined) return 'ok';
  const code = toLtcError(err).exitCode;
  return code === 130 ? 'interrupted' : code === 4 ? 'rollback_failed' : code === 3 ? 'rolled_back' : 'failed';
}

/** One host's outcome, or undefined when the run never switched it (nothing to record there). */
export function hostOutcome(run: RunOutcome, r: HostReport): RunOutcome | undefined {
  if (r.state === 'unchanged') return run === 'ok' ? 'ok' : undefined;
  if (r.state === 'switched') return run;
  return r.state;
}

export async function auditFleetRun(
  ctx: Context,
  e: { action: 'deploy' | 'rollback'; environment: string; rc?: string; release: string | null; run: RunOutcome; reports: ReadonlyMap<string, HostReport>; runId: string; durationMs: number },
): Promise<void> {
  const { appendAudit } = await import('../audit/log.js');
  const hosts = Object.fromEntries([...e.reports.values()].map((r) => [r.host, hostOutcome(e.run, r) ?? 'not switched']));
  await appendAudit(await ctx.stateDir(), {
    action: e.action,
    outcome: e.run,
    environment: e.environment,
    ...(e.rc ? { rc: e.rc } : {}),
    details: { target: 'ssh', release: e.release, hosts, runId: e.runId, durationMs: Math.round(e.durationMs) },
  }).catch((err: unknown) => ctx.out.warn(`could not write the audit log: ${(err as Error).message}`));
}
