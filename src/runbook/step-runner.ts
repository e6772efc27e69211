/**
 * Runs one step: substitutes its values, checks them with the type's schema, runs it with its
 * timeout and retries, evaluates its `outputs:` and journals start, retries, logs and end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { CheckFailedError, ConfigError, InterruptedError, type LtcError, toLtcError } from '../core/errors.js';
import { UNKNOWN, type Resolver } from './expr.js';
import type { ErrorInfo, Journal, Phase, StepStatus } from './journal.js';
import { where, type Runbook, type StepDef } from './model.js';
import type { Reporter, StepView } from './report/types.js';
import { makeStepContext } from './step-context.js';
import { checkSpec, type OutputValue, type StepContext, type StepResult } from './step-type.js';
import { parseTemplate, renderTemplate, resolveDeep } from './template.js';

export interface StepRecord {
  id: string;
  name: string;
  type: string;
  phase: Phase;
  parent?: string;
  status: StepStatus;
  /** Done in an earlier attempt of this run (resume) and not run again. */
  resumed?: boolean;
  continued?: boolean;
  durationMs: number;
  attempts: number;
  outputs: Record<string, OutputValue>;
  summary?: string;
  reason?: string;
  error?: LtcError;
}

export interface StepRunEnv {
  ctx: Context;
  runId: string;
  runbook: Runbook;
  inputs: Readonly<Record<string, OutputValue>>;
  reporter: Reporter;
  journal?: Journal;
  /** The resolver over the results so far; `self` adds the step's own outputs (for its `outputs:`). */
  resolver(self?: { id: string; outputs: Record<string, OutputValue> }): Resolver;
  runRunbook(step: StepDef, view: StepView, signal: AbortSignal): StepContext['runRunbook'];
  /** Aborted on Ctrl-C (main steps); on_failure steps get one that is never aborted. */
  signal: AbortSignal;
  depth: number;
}

/** How long the engine waits for a cancelled step to wind down (its process tree is being ended). */
const CANCEL_GRACE_MS = 6000;

export function errorInfo(err: LtcError): ErrorInfo {
  return { code: err.code, exitCode: err.exitCode, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
}

export function viewOf(step: StepDef, depth: number): StepView {
  return { id: step.id, name: step.name, type: step.type, phase: step.parent ? 'on_failure' : 'main', depth };
}

function retryable(err: LtcError): boolean {
  return !(err instanceof InterruptedError) && err.code !== 'config' && err.code !== 'usage';
}

/** Resolves `${{ }}` and checks the result with the step type's schema. */
export async function resolveSpec(env: Pick<StepRunEnv, 'runbook'>, step: StepDef, resolver: Resolver): Promise<unknown> {
  const typed = await checkSpec(step.stepType, resolveDeep(step.raw, resolver).value);
  if (typed.success) return typed.data;
  // `${{ steps.x.outputs.count }}` is a number; as an argument-array element it is its text.
  const parsed = await checkSpec(step.stepType, resolveDeep(step.raw, resolver, { asText: true }).value);
  if (!parsed.success) {
    const issues = issueList(parsed.error.issues, [step.type]).join('; ');
    throw new ConfigError(`${where(env.runbook, [...step.path, step.type])}: step "${step.id}": after substitution, ${issues}`, {
      hint: 'check the values the ${{ }} expressions of this step produce',
    });
  }
  return parsed.data;
}

type Issue = { path: PropertyKey[]; message: string; code: string; errors?: Issue[][] };

/** Zod issues as `key.path: message`, a failed union reported by its branch that got furthest. */
function issueList(issues: readonly Issue[], base: PropertyKey[]): string[] {
  return issues.flatMap((i) => {
    const path = [...base, ...i.path];
    if (i.code === 'invalid_union' && i.errors?.length) {
      const best = [...i.errors].sort((a, b) => Math.max(0, ...b.map((x) => x.path.length)) - Math.max(0, ...a.map((x) => x.path.length)))[0]!;
      return issueList(best, path);
    }
    return [`${path.map(String).join('.')}: ${i.message}`];
  });
}

/** Settles with the step, or rejects a grace period after the signal aborted if the step ignores it. */
function untilSettledOrAbandoned<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(signal.reason instanceof Error ? signal.reason : new InterruptedError()), CANCEL_GRACE_MS);
      timer.unref();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => (clearTimeout(timer), signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (clearTimeout(timer), signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

function stepOutputs(step: StepDef, result: StepResult, env: StepRunEnv): Record<string, OutputValue> {
  const outputs: Record<string, OutputValue> = { ...(result.outputs ?? {}) };
  if (!Object.keys(step.outputs).length) return outputs;
  const resolver = env.resolver({ id: step.id, outputs });
  for (const [name, value] of Object.entries(step.outputs)) {
    if (typeof value !== 'string') {
      outputs[name] = value;
      continue;
    }
    const v = renderTemplate(parseTemplate(value), resolver);
    outputs[name] = v === UNKNOWN ? null : v;
  }
  return outputs;
}

async function attempt(step: StepDef, view: StepView, env: StepRunEnv, n: number): Promise<{ result: StepResult; outputs: Record<string, OutputValue> }> {
  const controller = new AbortController();
  const onRunAbort = () => controller.abort(new InterruptedError(`step "${step.id}" interrupted`));
  if (env.signal.aborted) onRunAbort();
  else env.signal.addEventListener('abort', onRunAbort, { once: true });
  let timedOut = false;
  const timer =
    step.timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          controller.abort(new CheckFailedError(`step "${step.id}" timed out`));
        }, step.timeoutMs)
      : undefined;
  try {
    const resolver = env.resolver();
    const spec = await resolveSpec(env, step, resolver);
    const sctx = makeStepContext({
      ctx: env.ctx,
      runId: env.runId,
      runbook: env.runbook,
      step,
      view,
      signal: controller.signal,
      attempt: n,
      inputs: env.inputs,
      resolver,
      reporter: env.reporter,
      ...(env.journal ? { journal: env.journal } : {}),
      runRunbook: env.runRunbook(step, view, controller.signal),
    });
    const result = await untilSettledOrAbandoned(step.stepType.run(spec, sctx), controller.signal);
    if (controller.signal.aborted) throw controller.signal.reason;
    return { result, outputs: stepOutputs(step, result, env) };
  } catch (raw) {
    if (timedOut) {
      throw new CheckFailedError(`step "${step.id}" timed out after ${formatDuration(step.timeoutMs!)}; its processes were ended`, {
        hint: `raise timeout: at ${where(env.runbook, step.path, 'timeout')}, or find out what the step waits for (--verbose)`,
        cause: raw,
      });
    }
    const resume = `continue with \`ltc runbook resume ${env.runId}\``;
    const hint = step.onFailure.length ? `its on_failure steps ran; ${resume}` : resume;
    if (env.signal.aborted) {
      throw new InterruptedError(`step "${step.id}" interrupted; its processes were ended`, { hint, cause: raw });
    }
    // Ctrl-C at a prompt reaches the prompt, not the process: the step ends interrupted.
    if (raw instanceof InterruptedError) throw new InterruptedError(`step "${step.id}" interrupted: ${raw.message}`, { hint, cause: raw });
    throw toLtcError(raw);
  } finally {
    clearTimeout(timer);
    env.signal.removeEventListener('abort', onRunAbort);
  }
}

/** Runs a step with its retries; never throws: a failure is a record with `error`. */
/** `note`: a line logged before the step starts (e.g. why a resumed run runs it again). */
export async function runStep(step: StepDef, env: StepRunEnv, note?: string): Promise<StepRecord> {
  const view = viewOf(step, env.depth);
  const base = { id: step.id, name: step.name, type: step.type, phase: view.phase, ...(step.parent ? { parent: step.parent } : {}) };
  const started = performance.now();
  env.journal?.write({ t: 'start', id: step.id, name: step.name, type: step.type, phase: view.phase, at: new Date().toISOString() });
  env.reporter.stepStart(view);
  if (note) {
    env.journal?.write({ t: 'log', id: view.id, line: note });
    env.reporter.stepLog(view, note);
  }
  const attempts = step.retries.count + 1;
  let record: StepRecord | undefined;
  for (let n = 1; ; n++) {
    try {
      const { result, outputs } = await attempt(step, view, env, n);
      record = { ...base, status: 'ok', durationMs: Math.round(performance.now() - started), attempts: n, outputs, ...(result.summary ? { summary: result.summary } : {}) };
      break;
    } catch (raw) {
      const err = toLtcError(raw);
      if (n < attempts && retryable(err)) {
        const delay = step.retries.backoff === 'exponential' ? step.retries.delayMs * 2 ** (n - 1) : step.retries.delayMs;
        env.journal?.write({ t: 'retry', id: step.id, attempt: n + 1, error: err.message, delayMs: delay, at: new Date().toISOString() });
        env.reporter.stepRetry(view, n + 1, attempts, env.ctx.masker.mask(err.message), delay);
        try {
          await sleep(delay, undefined, { signal: env.signal });
          continue;
        } catch {
          record = failed(base, new InterruptedError(`step "${step.id}" interrupted while waiting to retry`), started, n, step);
          break;
        }
      }
      record = failed(base, err, started, n, step);
      break;
    }
  }
  const secretOutputs = secretOutputNames(record.outputs, env.ctx);
  env.journal?.write({
    t: 'end',
    id: step.id,
    status: record.status,
    phase: view.phase,
    durationMs: record.durationMs,
    attempts: record.attempts,
    outputs: record.outputs,
    ...(record.continued ? { continued: true } : {}),
    ...(secretOutputs.length ? { secretOutputs } : {}),
    ...(record.reason ? { reason: record.reason } : {}),
    ...(record.error ? { error: errorInfo(record.error) } : {}),
    at: new Date().toISOString(),
  });
  const mask = (text: string) => env.ctx.masker.mask(text);
  env.reporter.stepEnd({
    ...view,
    status: record.status,
    durationMs: record.durationMs,
    attempts: record.attempts,
    ...(record.summary ? { summary: mask(record.summary) } : {}),
    ...(record.reason ? { reason: mask(record.reason) } : {}),
    ...(record.continued ? { continued: true } : {}),
    ...(record.status === 'failed' && record.error?.exitCode === 3 ? { rolledBack: true } : {}),
  });
  return record;
}

/** The outputs the masker changes: they hold a secret and are journaled as ***. */
function secretOutputNames(outputs: Record<string, OutputValue>, ctx: Context): string[] {
  if (ctx.masker.size === 0) return [];
  return Object.entries(outputs)
    .filter(([, v]) => (typeof v === 'string' || typeof v === 'number') && ctx.masker.mask(String(v)) !== String(v))
    .map(([name]) => name);
}

function failed(base: Omit<StepRecord, 'status' | 'durationMs' | 'attempts' | 'outputs'>, err: LtcError, started: number, attempts: number, step: StepDef): StepRecord {
  const interrupted = err instanceof InterruptedError;
  return {
    ...base,
    status: interrupted ? 'interrupted' : 'failed',
    durationMs: Math.round(performance.now() - started),
    attempts,
    outputs: {},
    reason: err.message,
    error: err,
    ...(step.continueOnError && !interrupted ? { continued: true } : {}),
  };
}

/** A step whose `when` is false: journaled and reported, not run. */
export function skipStep(step: StepDef, env: StepRunEnv, reason: string): StepRecord {
  const view = viewOf(step, env.depth);
  const record: StepRecord = { id: step.id, name: step.name, type: step.type, phase: view.phase, ...(step.parent ? { parent: step.parent } : {}), status: 'skipped', durationMs: 0, attempts: 0, outputs: {}, reason };
  env.journal?.write({ t: 'end', id: step.id, status: 'skipped', phase: view.phase, durationMs: 0, attempts: 0, outputs: {}, reason, at: new Date().toISOString() });
  env.reporter.stepEnd({ ...view, status: 'skipped', durationMs: 0, attempts: 0, reason });
  return record;
}
