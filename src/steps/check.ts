/**
 * `check`: one go-live item (runbooks/golive.yaml). Run by the runbook engine it decides the item
 * for `inputs.rc` on `inputs.environment` (its probe, then the RC's sign-off or waiver) and fails
 * the step when a blocking item fails or lacks its sign-off. `ltc golive check` reads the same
 * steps and decides them concurrently with a table and a report.
 */
import { CheckFailedError, UsageError } from '../core/errors.js';
import { checkSpec } from '../golive/items.js';
import { defineStep } from '../runbook/step-type.js';

export default defineStep({
  name: 'check',
  description: 'a go-live item: an automated probe, a sign-off, or both (see ltc golive check)',
  schema: checkSpec,
  outputs: ['status'],
  plan(spec) {
    return [{ action: 'check', detail: `${spec.item} (phase ${spec.phase}, ${spec.decided_by}${spec.probe ? `: ${spec.probe}` : ''}${spec.blocking ? '' : ', not blocking'})`, writes: false }];
  },
  async run(spec, step) {
    const rc = step.inputs.rc;
    if (typeof rc !== 'string') throw new UsageError(`check ${spec.item} needs the runbook input rc`, { hint: 'ltc runbook run golive --input rc=<tag> --input environment=<env>' });
    const environment = typeof step.inputs.environment === 'string' ? step.inputs.environment : undefined;
    const { openGoliveScope } = await import('../golive/scope.js');
    const { evaluateItem, checkProbeName } = await import('../golive/evaluate.js');
    const { readSignoffs } = await import('../golive/signoffs.js');
    const item = { ...spec, title: step.stepId, stepId: step.stepId };
    checkProbeName(item, `step ${step.stepId}`);
    const scope = await openGoliveScope(step.ctx, { rc, ...(environment ? { environment } : {}) });
    try {
      const r = await evaluateItem(item, scope, await readSignoffs(scope.stateDir));
      for (const e of r.evidence) step.log(e);
      if (r.blocking && (r.status === 'failed' || r.status === 'needs_signoff')) {
        throw new CheckFailedError(`${spec.item}: ${r.status === 'failed' ? 'failed' : 'needs a sign-off'}: ${r.evidence[0] ?? ''}`, { ...(r.fix ? { hint: r.fix } : {}) });
      }
      return { outputs: { status: r.status }, summary: r.status };
    } finally {
      await scope.close();
    }
  },
});
