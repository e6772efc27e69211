/**
 * `switch`: points the target's `current` at a release, atomically (a new symlink renamed over
 * the old one), so `current` is always a complete release — the new one or the old one.
 *
 *   - id: switch
 *     switch: {}                              # the release this deploy made (or rollback chose)
 *   - id: switch
 *     switch: { release: '${{ steps.choose.outputs.release }}' }
 *
 * In a deploy the old current becomes `previous`; in a rollback `previous` moves only once the
 * release answers healthy (the record phase).
 */
import type { z } from 'zod';
import { UsageError } from '../core/errors.js';
import { defineStep } from '../runbook/step-type.js';
import { guarded, stepIO } from './deploy.js';
import type { switchSpec } from './phase-specs.js';
import { optionalText, plainCopy } from './quick-parse.js';

type Spec = z.output<typeof switchSpec>;

/** `{}` or `{ release: … }`: what switchSpec gives for these, without zod. */
export function quickSwitchSpec(value: unknown): Spec | undefined {
  const v = plainCopy(value, ['release']);
  return v && optionalText(v.release) ? (v as Spec) : undefined;
}

export default defineStep({
  name: 'switch',
  description: "point the target's current at a release atomically (new symlink, rename over the old)",
  schema: async () => (await import('./phase-specs.js')).switchSpec,
  quickParse: quickSwitchSpec,
  outputs: ['release', 'from'],
  async plan(s, step) {
    const { planDeployPhase } = await import('../deploy/plan.js');
    return planDeployPhase({ phase: 'switch', ...(s.release && !s.release.includes('${{') ? { release: s.release } : {}) }, step);
  },
  async run(s, step) {
    const { getSession } = await import('../deploy/session.js');
    const { phaseSwitch } = await import('../deploy/phases.js');
    const { isReleaseName } = await import('../targets/local/releases.js');
    if (s.release && !isReleaseName(s.release)) throw new UsageError(`switch: "${s.release}" is not a release name`);
    const session = getSession(step.runId, 'switch');
    const r = await guarded(step, 'switch', () => phaseSwitch(session, stepIO(step), s.release));
    return { outputs: { release: r.to, from: r.from ?? null }, summary: `current → ${r.to}${r.from && r.from !== r.to ? ` (was ${r.from})` : ''}` };
  },
});
