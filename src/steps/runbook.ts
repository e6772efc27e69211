/**
 * `runbook`: runs another runbook as a child of this run (`runbook: rotate-secret`, or
 * `{ name: smoke-test, inputs: { url: "${{ inputs.url }}" } }`). Its outputs are the called
 * runbook's `outputs:`. A cycle of runbooks calling each other is a validation error.
 */
import { z } from 'zod';
import { runbookCallOf } from '../runbook/runbook-call.js';
import { defineStep, type OutputValue } from '../runbook/step-type.js';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const runbookSpec = z.union([
  z.string().min(1),
  z.strictObject({
    name: z.string().min(1).describe('runbook name (ops repo, then shipped) or a path relative to this runbook'),
    inputs: z.record(z.string(), scalar).default({}),
  }),
]);

export default defineStep({
  name: 'runbook',
  description: 'run another runbook with inputs; its outputs become this step\'s outputs',
  schema: runbookSpec,
  plan(spec) {
    const call = runbookCallOf(spec)!;
    const inputs = Object.entries(call.inputs).map(([k, v]) => `${k}=${String(v)}`);
    return [{ action: 'runbook', detail: `${call.ref}${inputs.length ? ` with ${inputs.join(', ')}` : ''}`, writes: true }];
  },
  async run(spec, step) {
    const call = runbookCallOf(spec)!;
    const outputs = await step.runRunbook(call.ref, call.inputs as Record<string, OutputValue>);
    return { outputs };
  },
});
