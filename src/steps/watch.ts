/**
 * `watch`: `ltc watch` inside a runbook (src/watch/run.ts).
 *
 *   # runbooks/deploy.yaml, after the switch: runs only when environments.<env>.watch.after_deploy is true
 *   - id: watch
 *     watch: { environment: '${{ inputs.environment }}', if_enabled: true }
 *     on_failure:
 *       - { id: rollback-watch, rollback: undo }
 *
 * fail → CheckFailedError (the step's on_failure runs, e.g. the rollback). inconclusive never
 * fails the step by itself: a person is asked (confirm; --approve <step-id> or --yes answers
 * ahead); "no" fails it. Without a person to ask the release stays, the alert went out, and the
 * outputs say inconclusive.
 */
import { z } from 'zod';
import { duration } from '../config/schema/common.js';
import { CheckFailedError, UsageError } from '../core/errors.js';
import { defineStep, type StepContext } from '../runbook/step-type.js';

const spec = z.strictObject({
  environment: z.string().min(1).optional().describe('the environment to watch (default --env)'),
  for: duration.optional().describe('how long (default watch.after_deploy_for with if_enabled, else watch.for)'),
  interval: duration.optional().describe('time between samples (default watch.interval)'),
  if_enabled: z.boolean().default(false).describe('run only when environments.<env>.watch.after_deploy is true (else the step is skipped)'),
});
type Spec = z.output<typeof spec>;

async function envOf(s: Spec, step: StepContext) {
  const loaded = await step.ctx.config();
  const { name, env } = loaded.environment(s.environment ?? step.ctx.options.env ?? step.ctx.env.LTC_ENV);
  return { name, env, loaded };
}

function flagsOf(s: Spec) {
  return { ...(s.for !== undefined ? { for: String(typeof s.for === 'number' ? `${s.for}ms` : s.for) } : {}), ...(s.interval !== undefined ? { interval: String(typeof s.interval === 'number' ? `${s.interval}ms` : s.interval) } : {}) };
}

export default defineStep({
  name: 'watch',
  description: 'watch the environment (own probes and Prometheus) against thresholds; fails after failure_limit bad intervals in a row',
  schema: spec,
  outputs: ['outcome', 'samples', 'journal', 'worst_case_ms'],
  async preflight(s, step) {
    if (s.environment?.includes('${{')) return;
    const { name, env, loaded } = await envOf(s, step);
    if (s.if_enabled && !env.watch?.after_deploy) return;
    // Unknown metrics and PromQL syntax errors stop the run before anything changes.
    const { prepareWatch } = await import('../watch/run.js');
    await prepareWatch(name, env, loaded, flagsOf(s), step.ctx, step.signal, { forKey: s.if_enabled ? 'after_deploy_for' : 'for' });
  },
  async plan(s, step) {
    const { name, env } = await envOf(s, step);
    if (s.if_enabled && !env.watch?.after_deploy) return [{ action: 'watch', detail: `off (environments.${name}.watch.after_deploy is false)`, writes: false }];
    return [{ action: 'watch', detail: `${name} for ${s.for ?? env.watch?.[s.if_enabled ? 'after_deploy_for' : 'for'] ?? '3h'} every ${s.interval ?? env.watch?.interval ?? '30s'}`, writes: false }];
  },
  async run(s, step) {
    const { name, env, loaded } = await envOf(s, step);
    if (s.if_enabled && !env.watch?.after_deploy) {
      return { outputs: { outcome: 'off', samples: 0, journal: null, worst_case_ms: null }, summary: `off (environments.${name}.watch.after_deploy is false)` };
    }
    const { prepareWatch, runWatch, sampleLine, worstCaseText } = await import('../watch/run.js');
    const plan = await prepareWatch(name, env, loaded, flagsOf(s), step.ctx, step.signal, { forKey: s.if_enabled ? 'after_deploy_for' : 'for' });
    step.log(worstCaseText(plan));
    const r = await runWatch(plan, step.ctx, step.signal, {
      autoRollback: false,
      failNote: "the runbook's on_failure steps run now (in deploy.yaml: the rollback)",
      onSample: (x, h) => step.log(sampleLine(plan, x, h, false)),
    });
    const outputs = { outcome: r.outcome, samples: r.samples.length, journal: r.journal, worst_case_ms: r.worstCaseMs };
    if (r.outcome === 'fail') throw new CheckFailedError(`watch of ${name} failed: ${r.reason}`, { hint: `the samples are in ${r.journal}` });
    if (r.outcome === 'inconclusive') {
      try {
        const answer = await step.ctx.prompt.approve(`the watch of ${name} was inconclusive (${r.reason}); keep the release?`, step.stepId, step.signal);
        if (!answer.approved) throw new CheckFailedError(`the watch of ${name} was inconclusive and the release was not kept: ${r.reason}`, { hint: `the samples are in ${r.journal}` });
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        step.log(`inconclusive and nobody to ask (no terminal): the release stays; the alert went out`);
        return { outputs, summary: `inconclusive (not rolled back): ${r.reason}` };
      }
    }
    return { outputs, summary: `${r.outcome}: ${r.reason}` };
  },
});
