/**
 * --dry-run: the resolved plan. Every step with its step type's plan items, its values resolved
 * as far as inputs, env and config allow, and whether its `when` is known true, false or only
 * known at run time. Runs nothing, writes nothing.
 */
import type { Context } from '../core/context.js';
import { UNKNOWN, evaluate, truthy } from './expr.js';
import { maskedInputs } from './inputs.js';
import type { Phase } from './journal.js';
import type { StepDef } from './model.js';
import { runbookCallOf } from './runbook-call.js';
import { makeResolver } from './scope.js';
import { staticStepContext } from './step-context.js';
import { checkSpec, type OutputValue, type PlanItem } from './step-type.js';
import { parseCondition, resolveDeep } from './template.js';
import type { Validated } from './validate.js';

export type WhenState = 'always' | 'true' | 'false' | 'unknown';

export interface PlanStep {
  id: string;
  name: string;
  type: string;
  phase: Phase;
  when: WhenState;
  whenText?: string;
  /** The step's values with every `${{ }}` known now substituted (others left as written). */
  resolved: unknown;
  /** Some values are only known at run time. */
  pending: boolean;
  items: PlanItem[];
  retries?: number;
  timeoutMs?: number;
  continueOnError?: boolean;
  onFailure: PlanStep[];
  /** The steps of a called runbook. */
  calls?: { runbook: string; file: string; steps: PlanStep[] };
}

export interface RunPlan {
  runbook: string;
  title: string;
  file: string;
  inputs: Record<string, OutputValue>;
  steps: PlanStep[];
  /**
   * Why the run, as asked, would refuse to start (exit 2): a command not on PATH, a URL that is not
   * http(s), … (`file:line:column: step "id": what`). Confirmations are not here: each confirm step
   * says which flag answers it.
   */
  problems?: string[];
  problemsHint?: string;
}

async function planStep(step: StepDef, v: Validated, inputs: Readonly<Record<string, OutputValue>>, unknownInputs: ReadonlySet<string>, ctx: Context, config: unknown): Promise<PlanStep> {
  const rb = v.runbook;
  const base = makeResolver({ inputs, results: new Map(), env: ctx.env, config, planning: true });
  const resolver = (path: readonly string[]) => (path[0] === 'inputs' && unknownInputs.has(path[1]!) ? UNKNOWN : base(path));
  let when: WhenState = 'always';
  if (typeof step.when === 'boolean') when = step.when ? 'true' : 'false';
  else if (typeof step.when === 'string') {
    const value = evaluate(parseCondition(step.when).expr, resolver);
    when = value === UNKNOWN ? 'unknown' : truthy(value) ? 'true' : 'false';
  }
  const { value: resolved, unknown: pending } = resolveDeep(step.raw, resolver);
  let items: PlanItem[];
  const parsed = await checkSpec(step.stepType, resolved);
  if (!parsed.success) {
    items = [{ action: step.type, detail: `(values known at run time) ${JSON.stringify(resolved)}`, writes: false }];
  } else {
    items = await step.stepType.plan(parsed.data, staticStepContext({ ctx, runId: 'dry-run', runbook: rb, step, inputs, resolver }));
  }
  const onFailure: PlanStep[] = [];
  for (const f of step.onFailure) onFailure.push(await planStep(f, v, inputs, unknownInputs, ctx, config));
  const plan: PlanStep = {
    id: step.id,
    name: step.name,
    type: step.type,
    phase: step.parent ? 'on_failure' : 'main',
    when,
    ...(typeof step.when === 'string' ? { whenText: step.when } : {}),
    resolved,
    pending,
    items,
    ...(step.retries.count ? { retries: step.retries.count } : {}),
    ...(step.timeoutMs !== undefined ? { timeoutMs: step.timeoutMs } : {}),
    ...(step.continueOnError ? { continueOnError: true } : {}),
    onFailure,
  };
  const child = v.calls.get(step.id);
  const call = step.type === 'runbook' ? runbookCallOf(resolved) : undefined;
  if (child && call) {
    const childInputs: Record<string, OutputValue> = {};
    const childUnknown = new Set<string>();
    for (const [name, def] of Object.entries(child.runbook.inputs)) {
      const given = call.inputs[name];
      if (typeof given === 'string' && given.includes('${{')) childUnknown.add(name);
      else childInputs[name] = (given as OutputValue | undefined) ?? (def.default as OutputValue | undefined) ?? null;
    }
    plan.calls = { runbook: child.runbook.name, file: child.runbook.file, steps: await planSteps(child, childInputs, childUnknown, ctx, config) };
  }
  return plan;
}

async function planSteps(v: Validated, inputs: Readonly<Record<string, OutputValue>>, unknownInputs: ReadonlySet<string>, ctx: Context, config: unknown): Promise<PlanStep[]> {
  const steps: PlanStep[] = [];
  for (const step of v.runbook.steps) steps.push(await planStep(step, v, inputs, unknownInputs, ctx, config));
  return steps;
}

export async function planRun(v: Validated, inputs: Readonly<Record<string, OutputValue>>, ctx: Context, config: unknown): Promise<RunPlan> {
  const rb = v.runbook;
  return { runbook: rb.name, title: rb.title, file: rb.file, inputs: maskedInputs(rb, { ...inputs }), steps: await planSteps(v, inputs, new Set(), ctx, config) };
}
