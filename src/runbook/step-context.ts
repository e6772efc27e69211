/** Builds the StepContext a step type plans and runs with. */
import type { Context } from '../core/context.js';
import { execCommand } from '../exec/exec.js';
import { UNKNOWN, evaluate, type Resolver } from './expr.js';
import type { Journal } from './journal.js';
import type { Runbook, StepDef } from './model.js';
import { plainReporter } from './report/plain.js';
import type { Reporter, StepView } from './report/types.js';
import type { OutputValue, StepContext } from './step-type.js';
import { parseCondition } from './template.js';

export interface StepContextInit {
  ctx: Context;
  runId: string;
  runbook: Runbook;
  step: StepDef;
  view: StepView;
  signal: AbortSignal;
  attempt: number;
  inputs: Readonly<Record<string, OutputValue>>;
  resolver: Resolver;
  reporter: Reporter;
  journal?: Journal;
  runRunbook: StepContext['runRunbook'];
}

/** A context whose prompts pause the renderer while a person answers. */
function promptingContext(ctx: Context, reporter: Reporter): Context {
  const real = ctx.prompt;
  const around = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (real.interactive) await reporter.suspend();
      try {
        return await fn.apply(real, args);
      } finally {
        if (real.interactive) reporter.resume();
      }
    };
  const prompt = Object.create(real) as typeof real;
  prompt.approve = around(real.approve);
  prompt.typeToConfirm = around(real.typeToConfirm);
  prompt.secret = around(real.secret);
  return { ...ctx, prompt };
}

export function makeStepContext(init: StepContextInit): StepContext {
  const { ctx, step, view, reporter, journal, signal } = init;
  const log = (line: string) => {
    const masked = ctx.masker.mask(line);
    journal?.write({ t: 'log', id: view.id, line: masked });
    reporter.stepLog(view, masked);
  };
  let prompting: Context | undefined;
  return {
    // Made on first use: most steps never prompt, and a step's allocations add up over a long run.
    get ctx() {
      return (prompting ??= promptingContext(ctx, reporter));
    },
    runId: init.runId,
    stepId: step.id,
    signal,
    log,
    exec: (argv, opts = {}) => execCommand(argv, { baseEnv: ctx.env, cwd: ctx.cwd, processes: ctx.processes, ...opts, signal, onLine: (line) => log(line) }, ctx.masker),
    inputs: init.inputs,
    runRunbook: init.runRunbook,
    evaluate(expression: string): OutputValue {
      const value = evaluate(parseCondition(expression).expr, init.resolver);
      return value === UNKNOWN ? null : value;
    },
    runbook: { name: init.runbook.name, file: init.runbook.file, dir: init.runbook.dir },
    attempt: init.attempt,
    raw: step.raw,
  };
}

/**
 * A context for planning (--dry-run) and preflight: nothing runs, nothing is reported, and a
 * `runbook` step's call does nothing.
 */
export function staticStepContext(init: Pick<StepContextInit, 'ctx' | 'runbook' | 'step' | 'inputs' | 'resolver'> & { runId: string }): StepContext {
  const { ctx, step } = init;
  return makeStepContext({
    ...init,
    view: { id: step.id, name: step.name, type: step.type, phase: step.parent ? 'on_failure' : 'main', depth: 0 },
    signal: ctx.signal,
    attempt: 0,
    reporter: plainReporter(ctx.out, { verbose: false, quiet: true }),
    runRunbook: async () => ({}),
  });
}
