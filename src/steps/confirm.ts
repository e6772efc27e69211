/**
 * `confirm`: a person signs off (`confirm: "Smoke tests passed?"`). Asked with the prompt
 * adapter; without a TTY (or with CI=true) it fails with exit 2 naming `--yes` and
 * `--approve <step-id>`. Who approved, when and how (prompt, --yes, --approve) are outputs, so
 * the journal records them.
 */
import { z } from 'zod';
import { currentActor } from '../audit/actor.js';
import { CheckFailedError, UsageError } from '../core/errors.js';
import { defineStep } from '../runbook/step-type.js';

export const confirmSpec = z.union([z.string().min(1), z.strictObject({ message: z.string().min(1) })]);

const messageOf = (spec: z.output<typeof confirmSpec>) => (typeof spec === 'string' ? spec : spec.message);

export default defineStep({
  name: 'confirm',
  description: 'a human sign-off: asks a yes/no question (or --yes / --approve <step-id>)',
  schema: confirmSpec,
  outputs: ['approved_by', 'approved_at', 'via'],
  plan(spec, step) {
    return [{ action: 'confirm', detail: `ask "${messageOf(spec)}" (answer ahead with --approve ${step.stepId} or --yes)`, writes: false }];
  },
  async preflight(spec, step) {
    // Without a person to ask, an approval must come from --yes / --approve before anything runs.
    if (step.ctx.prompt.interactive) return;
    try {
      await step.ctx.prompt.approve(messageOf(spec), step.stepId);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      throw new UsageError(`needs a person to confirm "${messageOf(spec)}", and there is no terminal (or CI=true)`, {
        hint: `approve it ahead with --approve ${step.stepId} (or --yes for every confirmation)`,
        details: { approve: step.stepId },
      });
    }
  },
  async run(spec, step) {
    const message = messageOf(spec);
    // The step's signal ends the prompt on Ctrl-C and on the step's timeout.
    const answer = await step.ctx.prompt.approve(message, step.stepId, step.signal);
    if (!answer.approved) {
      throw new CheckFailedError(`not approved: ${message}`, { hint: `step "${step.stepId}" needs a yes to go on; resume the run when it can be approved` });
    }
    const outputs = { approved_by: await currentActor(), approved_at: new Date().toISOString(), via: answer.via };
    return { outputs, summary: `approved by ${outputs.approved_by} (${answer.via})` };
  },
});
