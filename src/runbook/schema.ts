/**
 * The runbook format, defined once in zod. The step schema is built from the registered step
 * types: each type's key holds a value validated by that type's own schema. The JSON Schema in
 * schema/runbook.schema.json is generated from here (src/schema/generate.ts).
 */
import { z } from 'zod';
import { duration, regexString, timeoutDuration } from '../config/schema/common.js';
import type { LoadedStepType } from './step-type.js';
import { userRegex, userRegexProblem } from '../core/user-regex.js';
import { BOOLEAN_WORDS } from './boolean-words.js';

export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const name = (what: string) =>
  z.string().regex(NAME_PATTERN, { message: `expected a ${what} of letters, digits, _ and - (starting with a letter or _)` });

const scalar = z.union([z.string(), z.number(), z.boolean()]);

type InputShape = { type: 'string' | 'number' | 'boolean' | 'enum'; default?: string | number | boolean | undefined; pattern?: string | undefined; values?: Array<string | number> | undefined; secret: boolean };

/** A default that its own input would refuse as a value (checked when the runbook is validated, not when a run needs it). */
function defaultProblem(input: InputShape): string | undefined {
  const d = input.default!;
  const shown = input.secret ? 'the default of this secret input' : `the default ${JSON.stringify(d)}`;
  switch (input.type) {
    case 'number':
      return typeof d === 'number' || (typeof d === 'string' && d.trim() !== '' && !Number.isNaN(Number(d))) ? undefined : `${shown} is not a number`;
    case 'boolean':
      return typeof d === 'boolean' || [...BOOLEAN_WORDS.true, ...BOOLEAN_WORDS.false].includes(String(d).toLowerCase()) ? undefined : `${shown} is not true or false`;
    case 'enum':
      return !input.values || input.values.some((v) => String(v) === String(d)) ? undefined : `${shown} is not one of ${input.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'string': {
      if (input.pattern === undefined) return undefined;
      if (userRegexProblem(input.pattern) !== undefined) return undefined; // the pattern's own problem is reported
      const re = userRegex(input.pattern);
      return re.test(String(d)) ? undefined : `${shown} does not match the pattern ${input.pattern}`;
    }
  }
}

export const inputSchema = z
  .strictObject({
    type: z.enum(['string', 'number', 'boolean', 'enum']).default('string'),
    description: z.string().optional(),
    required: z.boolean().default(false).describe('the run fails before anything starts when it is not given and has no default'),
    default: scalar.optional(),
    pattern: regexString.optional().describe('a string input must match this regular expression'),
    values: z.array(z.union([z.string(), z.number()])).min(1).optional().describe('the allowed values of an enum input'),
    secret: z.boolean().default(false).describe('masked as *** in every output, journal and error'),
  })
  .superRefine((input, c) => {
    if (input.type === 'enum' && !input.values) c.addIssue({ code: 'custom', path: ['values'], message: 'an enum input needs values: [a, b, …]' });
    if (input.type !== 'enum' && input.values) c.addIssue({ code: 'custom', path: ['values'], message: 'values is only for type: enum' });
    if (input.pattern !== undefined && input.type !== 'string') c.addIssue({ code: 'custom', path: ['pattern'], message: 'pattern is only for type: string' });
    const problem = input.default === undefined ? undefined : defaultProblem(input);
    if (problem) c.addIssue({ code: 'custom', path: ['default'], message: problem });
  })
  .describe('one input of the runbook, given with --input name=value');

export const retriesSchema = z
  .union([
    z.number().int().min(0),
    z.strictObject({
      count: z.number().int().min(0).describe('extra attempts after a failure'),
      delay: duration.default('1s').describe('wait before the first retry'),
      backoff: z.enum(['fixed', 'exponential']).default('exponential').describe('exponential doubles the delay each retry'),
    }),
  ])
  .describe('retry a failed step: a count, or { count, delay, backoff }');

const condition = z
  .union([z.string().min(1), z.boolean()])
  .describe('an expression, e.g. inputs.env == "prod" && steps.check.outputs.exit_code == 0 (with or without ${{ }})');

const outputsMap = z
  .record(name('output name'), scalar)
  .describe('named values, usually expressions: { version: "${{ steps.read.outputs.stdout }}" }');

/** The keys every step has besides its one type key. */
export const CONTROL_KEYS = ['id', 'name', 'when', 'retries', 'timeout', 'continue_on_error', 'on_failure', 'outputs'] as const;

function controlShape() {
  return {
    id: name('step id').describe('unique in the runbook; referenced as steps.<id>.outputs.<name>'),
    name: z.string().optional().describe('what the step does, shown while it runs (default: the id)'),
    when: condition.optional().describe('run the step only when this expression is true'),
    retries: retriesSchema.optional(),
    timeout: timeoutDuration.optional().describe('per attempt; the step (and its child processes) is ended after it'),
    continue_on_error: z.boolean().default(false).describe('a failure is recorded and the run goes on'),
    outputs: outputsMap.optional(),
  };
}

/** Exactly one type key per step. */
function oneTypeKey(types: readonly string[]) {
  return (step: Record<string, unknown>, c: z.core.$RefinementCtx<Record<string, unknown>>) => {
    const present = types.filter((t) => step[t] !== undefined);
    if (present.length === 0) {
      c.addIssue({ code: 'custom', path: [], message: `a step needs one step type key: ${types.join(', ')}`, params: { ltc: 'no-type' } });
    } else if (present.length > 1) {
      c.addIssue({
        code: 'custom',
        path: [present[1]!],
        message: `a step has exactly one step type key, this one has ${present.join(' and ')}: split it into ${present.length} steps`,
      });
    }
  };
}

/** The step schema for these step types (on_failure steps have no on_failure of their own). */
export function buildStepSchema(types: ReadonlyMap<string, LoadedStepType>) {
  const names = [...types.keys()];
  const typeShape = Object.fromEntries([...types].map(([key, t]) => [key, t.schema.optional().describe(t.description)]));
  // For editors: exactly one type key (the runtime check is oneTypeKey, with better messages).
  const oneOf = names.map((n) => ({ required: [n] }));
  const inner = z
    .strictObject({ ...controlShape(), ...typeShape })
    .superRefine(oneTypeKey(names))
    .meta({ description: 'a step run when its parent step fails', oneOf });
  return z
    .strictObject({
      ...controlShape(),
      on_failure: z.array(inner).min(1).optional().describe('steps run when this step fails (compensation, e.g. a rollback)'),
      ...typeShape,
    })
    .superRefine(oneTypeKey(names))
    .meta({ description: 'one step: an id, a name, one step type key and control keys', oneOf });
}

export function buildRunbookSchema(types: ReadonlyMap<string, LoadedStepType>) {
  return z
    .strictObject({
      $schema: z.string().optional(),
      name: z.string().min(1).describe('the runbook title'),
      description: z.string().optional(),
      inputs: z.record(name('input name'), inputSchema).default({}).describe('typed inputs, given with --input name=value'),
      steps: z.array(buildStepSchema(types)).min(1).describe('run in order'),
      outputs: outputsMap.optional().describe('what the runbook returns to a caller (a runbook step) and in --json'),
    })
    .describe('an ltc runbook: executable YAML');
}

export type InputDef = z.output<typeof inputSchema>;
export type RetriesDef = z.output<typeof retriesSchema>;
