/**
 * The run loop: steps in order, `when`, on_failure compensation, continue_on_error, Ctrl-C,
 * resume (steps done in an earlier attempt are not run again) and the runbook's outputs.
 */
import type { Context } from '../core/context.js';
import { ExitCode, InterruptedError, type LtcError } from '../core/errors.js';
import { UNKNOWN, evaluate, truthy } from './expr.js';
import { doneEarlier, type StepState } from './history.js';
import type { Journal, RunStatus } from './journal.js';
import type { StepDef } from './model.js';
import type { Reporter, StepView } from './report/types.js';
import { makeResolver, type StepResultState } from './scope.js';
import { errorInfo, runStep, skipStep, viewOf, type StepRecord, type StepRunEnv } from './step-runner.js';
import type { OutputValue, StepContext } from './step-type.js';
import { parseCondition, parseTemplate, renderTemplate } from './template.js';
import type { Validated } from './validate.js';

export interface EngineDeps {
  ctx: Context;
  runId: string;
  reporter: Reporter;
  journal?: Journal;
  depth: number;
  config?: unknown;
  /** Runs a runbook called by a `runbook` step (wired by the API: journal, nesting, resume). */
  callRunbook(call: { ref: string; inputs: Record<string, OutputValue>; step: StepDef; view: StepView; signal: AbortSignal }): Promise<Record<string, OutputValue>>;
}

export interface RunOutcome {
  status: RunStatus;
  outputs: Record<string, OutputValue>;
  steps: StepRecord[];
  durationMs: number;
  error?: LtcError;
  failedStep?: string;
}

const NEVER = new AbortController().signal;

export async function executeRunbook(
  v: Validated,
  inputs: Readonly<Record<string, OutputValue>>,
  deps: EngineDeps,
  prior: ReadonlyMap<string, StepState> = new Map(),
): Promise<RunOutcome> {
  const rb = v.runbook;
  const started = performance.now();
  const results = new Map<string, StepResultState>();
  const records: StepRecord[] = [];
  const scope = { inputs, results, env: deps.ctx.env, config: deps.config };
  const whole = makeResolver(scope);
  const env = (signal: AbortSignal): StepRunEnv => ({
    ctx: deps.ctx,
    runId: deps.runId,
    runbook: rb,
    inputs,
    reporter: deps.reporter,
    ...(deps.journal ? { journal: deps.journal } : {}),
    resolver: (self) => {
      if (!self) return whole;
      // The results so far plus the step's own outputs (a view; copying the map made each step O(n)).
      const mine: StepResultState = { status: 'ok', outputs: self.outputs };
      const withSelf: Pick<ReadonlyMap<string, StepResultState>, 'get'> = { get: (id) => (id === self.id ? mine : results.get(id)) };
      return makeResolver({ ...scope, results: withSelf });
    },
    runRunbook:
      (step, view, stepSignal): StepContext['runRunbook'] =>
      (ref, childInputs) =>
        deps.callRunbook({ ref, inputs: childInputs, step, view, signal: stepSignal }),
    signal,
    depth: deps.depth,
  });
  const mainEnv = env(deps.ctx.signal);
  const compensationEnv = env(NEVER);

  const whenSays = (step: StepDef): boolean => {
    if (step.when === undefined) return true;
    if (typeof step.when === 'boolean') return step.when;
    const value = evaluate(parseCondition(step.when).expr, makeResolver(scope));
    return value !== UNKNOWN && truthy(value);
  };
  const record = (r: StepRecord) => {
    records.push(r);
    results.set(r.id, { status: r.status, outputs: r.outputs });
  };

  let error: LtcError | undefined;
  let failedStep: string | undefined;
  for (const step of rb.steps) {
    const earlier = prior.get(step.id);
    if (earlier && doneEarlier(earlier)) {
      record({ id: step.id, name: step.name, type: step.type, phase: 'main', status: earlier.status, resumed: true, durationMs: earlier.durationMs, attempts: 0, outputs: earlier.outputs });
      deps.reporter.stepEnd({ ...viewOf(step, deps.depth), status: 'resumed', durationMs: earlier.durationMs, attempts: 0 });
      continue;
    }
    if (deps.ctx.signal.aborted) {
      error = new InterruptedError(`interrupted before step "${step.id}"`);
      failedStep = step.id;
      break;
    }
    if (!whenSays(step)) {
      record(skipStep(step, mainEnv, `when is false: ${String(step.when)}`));
      continue;
    }
    const again = earlier?.secretOutputs.length ? `its outputs held a secret (${earlier.secretOutputs.join(', ')}), which the journal does not keep: running it again` : undefined;
    const r = await runStep(step, mainEnv, again);
    record(r);
    if (r.status === 'ok') continue;

    let compensationError: LtcError | undefined;
    for (const f of step.onFailure) {
      if (!whenSays(f)) {
        record(skipStep(f, compensationEnv, `when is false: ${String(f.when)}`));
        continue;
      }
      const fr = await runStep(f, compensationEnv);
      record(fr);
      if (fr.status !== 'ok' && !fr.continued) {
        compensationError = fr.error;
        break;
      }
    }
    if (r.status === 'interrupted') {
      error = r.error;
      failedStep = step.id;
      break;
    }
    if (r.continued && !compensationError) continue;
    error = compensationError ?? r.error;
    failedStep = compensationError ? step.onFailure.find((f) => results.get(f.id)?.status === 'failed')?.id ?? step.id : step.id;
    break;
  }

  const status: RunStatus = !error ? 'ok' : error instanceof InterruptedError ? 'interrupted' : 'failed';
  const outputs: Record<string, OutputValue> = {};
  if (status === 'ok') {
    const resolver = makeResolver(scope);
    for (const [name, value] of Object.entries(rb.outputs)) {
      const out = typeof value === 'string' ? renderTemplate(parseTemplate(value), resolver) : value;
      outputs[name] = out === UNKNOWN ? null : out;
    }
  }
  const durationMs = Math.round(performance.now() - started);
  deps.journal?.write({
    t: 'done',
    status,
    durationMs,
    outputs,
    ...(error ? { error: errorInfo(error) } : {}),
    ...(failedStep ? { failedStep } : {}),
    at: new Date().toISOString(),
  });
  // Exit 2 says "nothing changed": a run whose first step refused its input (a tag that does not
  // exist, an unknown --to) is no run worth a journal.
  const ran = records.filter((r) => r.status !== 'skipped');
  if (status === 'failed' && error?.exitCode === ExitCode.usage && prior.size === 0 && ran.length === 1 && ran[0]!.id === failedStep) deps.journal?.discard();
  return { status, outputs, steps: records, durationMs, ...(error ? { error } : {}), ...(failedStep ? { failedStep } : {}) };
}
