/**
 * `rollback`: returning to a working release.
 *
 *   # in runbooks/deploy.yaml, on_failure of every step after the switch:
 *   rollback: { phase: undo }     # back to the release current before; exit 3, or 4 when that fails too
 *
 *   # runbooks/rollback.yaml (`ltc rollback`):
 *   rollback: { phase: start, to: '${{ inputs.to }}', environment: '${{ inputs.environment }}' }
 *   rollback: { phase: choose }   # after the lock: the release to return to (--to, else previous)
 *   rollback: { phase: failed }   # on_failure of restart/health: record, print the state; exit 4
 */
import type { z } from 'zod';
import { UsageError } from '../core/errors.js';
import { defineStep } from '../runbook/step-type.js';
import { guarded, stepIO } from './deploy.js';
import { ROLLBACK_PHASES } from './phase-names.js';
import type { rollbackSpec } from './phase-specs.js';
import { oneOf, optionalText, plainCopy } from './quick-parse.js';

type Spec = z.output<typeof rollbackSpec>;

/** `choose`, or `{ phase: start, to: …, environment: … }`: what rollbackSpec gives for these, without zod. */
export function quickRollbackSpec(value: unknown): Spec | undefined {
  if (oneOf(value, ROLLBACK_PHASES)) return value;
  const v = plainCopy(value, ['phase', 'to', 'environment']);
  if (!v || !oneOf(v.phase, ROLLBACK_PHASES) || (v.to !== undefined && typeof v.to !== 'string') || !optionalText(v.environment)) return undefined;
  return v as Spec;
}

const normalize = (s: Spec) => (typeof s === 'string' ? { phase: s } : s);

export default defineStep({
  name: 'rollback',
  description: 'roll back: after a failed deploy (undo: exit 3, or 4 when that fails too), or to the previous or a named release (ltc rollback)',
  schema: async () => (await import('./phase-specs.js')).rollbackSpec,
  quickParse: quickRollbackSpec,
  outputs: ['release', 'from', 'environment'],
  async plan(raw, step) {
    const { planDeployPhase } = await import('../deploy/plan.js');
    const s = normalize(raw);
    return planDeployPhase({ phase: `rollback_${s.phase}`, ...('to' in s && s.to ? { to: s.to } : {}), ...('environment' in s && s.environment ? { environment: s.environment } : {}) }, step);
  },
  async run(raw, step) {
    const s = normalize(raw);
    const io = stepIO(step);
    const R = await import('../deploy/rollback.js');
    const { getSession } = await import('../deploy/session.js');
    switch (s.phase) {
      case 'start': {
        const to = 'to' in s && s.to ? s.to : undefined;
        const env = 'environment' in s && s.environment ? s.environment : undefined;
        const session = await R.phaseRollbackStart(io, { ...(to ? { to } : {}), ...(env ? { environment: env } : {}) });
        return {
          outputs: { release: session.release ?? null, from: session.before.current ?? null, environment: session.environment },
          summary: `${session.before.current ?? '(none)'} → ${session.release}`,
        };
      }
      case 'choose': {
        const session = getSession(step.runId, 'choose');
        const r = await guarded(step, 'choose', () => R.phaseChoose(session, io));
        return { outputs: { release: r.release, from: r.from ?? null, environment: session.environment }, summary: r.release };
      }
      case 'undo': {
        const session = getSession(step.runId, 'undo');
        if (session.action !== 'deploy') throw new UsageError('rollback: phase undo belongs in the on_failure steps of a deploy');
        return R.phaseUndo(session, io);
      }
      case 'failed': {
        const session = getSession(step.runId, 'failed');
        return R.phaseRollbackFailed(session);
      }
    }
  },
});
