/**
 * `assert`: fails with a message when an expression is false. `assert: inputs.env != "prod"` or
 * `{ that: steps.check.outputs.exit_code == 0, message: "the check failed" }` (the expression may be
 * bare or inside `${{ }}`).
 */
import { z } from 'zod';
import { CheckFailedError } from '../core/errors.js';
import { truthy } from '../runbook/expr.js';
import { defineStep } from '../runbook/step-type.js';

const value = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const assertSpec = z.union([value, z.strictObject({ that: value, message: z.string().optional() })]);

function source(raw: unknown): string {
  const text = typeof raw === 'object' && raw !== null ? (raw as { that?: unknown }).that : raw;
  return String(text).replace(/^\s*\$\{\{\s*/, '').replace(/\s*\}\}\s*$/, '');
}

export default defineStep({
  name: 'assert',
  description: 'fail with a message when an expression is false',
  schema: assertSpec,
  expressionKeys: ['', 'that'],
  plan(spec, step) {
    const that = typeof spec === 'object' && spec !== null ? spec.that : spec;
    const known = typeof that === 'string' && that.includes('${{') ? 'known at run time' : truthy(that) ? 'holds now' : 'FAILS with the inputs given';
    return [{ action: 'assert', detail: `${source(step.raw)} (${known})`, writes: false }];
  },
  async run(spec, step) {
    const obj = typeof spec === 'object' && spec !== null ? spec : { that: spec };
    if (!truthy(obj.that)) {
      throw new CheckFailedError(obj.message ?? `assertion failed: ${source(step.raw)}`, { hint: `the expression at step "${step.stepId}" is false` });
    }
    return {};
  },
});
