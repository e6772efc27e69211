/**
 * The programmatic API: run a runbook (by name or file) with inputs, plan it (--dry-run), or
 * resume a run from its journal. Commands such as `ltc deploy` are thin wrappers over
 * `runRunbook('deploy', inputs, ctx)`. A failed run throws the failing step's LtcError, so its
 * exit code is the run's (a RolledBackError from a deploy step exits 3); `summaryOf(err)` gives
 * the run summary of such an error.
 */
import { currentActor } from '../audit/actor.js';
import type { Context } from '../core/context.js';
import { ConfigError, LockedError, UsageError, type LtcError } from '../core/errors.js';
import { executeRunbook, type RunOutcome } from './engine.js';
import { doneEarlier, readRunHistory, type RunHistory, type StepState } from './history.js';
import { maskedInputs, resolveInputs } from './inputs.js';
import { Journal, newRunId, processStart, type ErrorInfo, type RunStatus } from './journal.js';
import { planRun, type RunPlan } from './plan.js';
import { checkApprovals, configFor, loadValidated, preflight, preflightHint, preflightProblems } from './prepare.js';
import { chooseReporter, type RenderMode } from './report/choose.js';
import { nestedReporter, type Reporter } from './report/types.js';
import { errorInfo, viewOf, type StepRecord } from './step-runner.js';
import type { OutputValue } from './step-type.js';
import type { Validated } from './validate.js';

export type { RunPlan } from './plan.js';
export { formatPlan } from './plan-text.js';
export type InputMap = Record<string, OutputValue>;

let ownStart: string | undefined | null = null;
/** This process's start time for the journal (read once). */
function pidStart(): { pidStart?: string } {
  if (ownStart === null) ownStart = processStart(process.pid);
  return ownStart === undefined ? {} : { pidStart: ownStart };
}

export interface RunOptions {
  /** Plan only: resolve and print what would run, change nothing (default: the --dry-run flag). */
  dryRun?: boolean;
  /** `auto`: listr2 in a colour TTY, plain lines otherwise, nothing but the result under --json. */
  render?: RenderMode;
  /** A reporter of your own (tests, embedding). */
  reporter?: Reporter;
  /** Folder a relative runbook path is resolved against (default: the working directory). */
  baseDir?: string;
  /** Refuse an `--approve <id>` that names no confirm step (`ltc runbook run/resume`: the flags are for this runbook). */
  checkApprovals?: boolean;
}

/** A step as the run summary (and --json) shows it: its record, the error as plain data. */
export type StepSummary = Omit<StepRecord, 'error' | 'reason'> & { error?: ErrorInfo };

export interface RunSummary {
  /** null for a dry run (nothing is journaled). */
  runId: string | null;
  runbook: string;
  file: string;
  status: RunStatus | 'planned';
  outputs: Record<string, OutputValue>;
  steps: StepSummary[];
  durationMs: number;
  /** The journal file (absent for a dry run). */
  journal?: string;
  failedStep?: string;
  error?: ErrorInfo;
  /** The resolved plan (dry run only). */
  plan?: RunPlan;
}

const summaries = new WeakMap<object, RunSummary>();

/** The summary of the run an error ended (when the error came out of `runRunbook`/`resumeRun`). */
export function summaryOf(err: unknown): RunSummary | undefined {
  return err && typeof err === 'object' ? summaries.get(err) : undefined;
}

interface Session {
  ctx: Context;
  stateDir: string;
  reporter: Reporter;
  config: unknown;
  argv: string[];
}

interface JournalSpec {
  runId: string;
  resume?: RunHistory;
  parent?: { runId: string; step: string };
}

/** Runs a validated runbook with a journal; called runbooks run as child runs with their own journals. */
async function runValidated(v: Validated, inputs: InputMap, s: Session, spec: JournalSpec, depth: number, reporter: Reporter, stack: string[]): Promise<RunOutcome & { journal: string }> {
  const rb = v.runbook;
  const journal = Journal.open(s.stateDir, spec.runId, s.ctx.masker);
  try {
    const actor = await currentActor();
    const prior: ReadonlyMap<string, StepState> = spec.resume?.steps ?? new Map();
    const from = rb.steps.find((st) => !doneEarlier(prior.get(st.id)));
    if (spec.resume) {
      journal.write({ t: 'resume', at: new Date().toISOString(), actor, pid: process.pid, ...pidStart(), argv: s.argv, from: from?.id ?? null });
    } else {
      journal.write({
        t: 'run',
        v: 1,
        runId: spec.runId,
        runbook: rb.name,
        title: rb.title,
        file: rb.file,
        sha256: rb.sha256,
        actor,
        inputs: maskedInputs(rb, inputs),
        argv: s.argv,
        pid: process.pid,
        ...pidStart(),
        cwd: s.ctx.cwd,
        at: new Date().toISOString(),
        ...(spec.parent ? { parent: spec.parent } : {}),
      });
    }
    if (depth === 0) {
      reporter.runStart({
        runId: spec.runId,
        runbook: rb.name,
        title: rb.title,
        steps: rb.steps.map((st) => viewOf(st, 0)),
        ...(spec.resume && from ? { resumedFrom: from.id } : {}),
      });
    }
    const priorChildren = spec.resume?.children ?? new Map<string, string>();
    const outcome = await executeRunbook(
      v,
      inputs,
      {
        ctx: s.ctx,
        runId: spec.runId,
        reporter,
        journal,
        depth,
        config: s.config,
        callRunbook: async (call) => {
          const child = v.calls.get(call.step.id) ?? (await loadValidated(call.ref, s.ctx, rb.dir));
          const chain = [...stack, rb.file];
          if (chain.includes(child.runbook.file)) {
            throw new ConfigError(`runbooks call each other in a cycle: ${[...chain, child.runbook.file].join(' → ')}`, { hint: `remove the call in step "${call.step.id}"` });
          }
          const childInputs = resolveInputs(child.runbook, call.inputs, s.ctx.masker);
          const earlierRun = priorChildren.get(call.step.id);
          const earlier = earlierRun ? readRunHistory(s.stateDir, earlierRun) : undefined;
          // The run this step started before: continued (a finished one keeps its results and runs
          // again only the steps whose outputs held a secret).
          const resume = earlier;
          const childRunId = resume ? resume.runId : newRunId(child.runbook.name);
          journal.write({ t: 'child', id: call.step.id, runId: childRunId });
          const childSession = { ...s, ctx: { ...s.ctx, signal: call.signal } };
          const result = await runValidated(
            child,
            childInputs,
            childSession,
            { runId: childRunId, ...(resume ? { resume } : {}), parent: { runId: spec.runId, step: call.step.id } },
            depth + 1,
            nestedReporter(reporter, call.view.id),
            chain,
          );
          if (result.error) throw result.error;
          return result.outputs;
        },
      },
      prior,
    );
    return { ...outcome, journal: journal.file };
  } finally {
    journal.close();
  }
}

function summarize(v: Validated, runId: string, o: RunOutcome & { journal: string }): RunSummary {
  return {
    runId,
    runbook: v.runbook.name,
    file: v.runbook.file,
    status: o.status,
    outputs: o.outputs,
    steps: o.steps.map(({ error, reason: _reason, ...r }): StepSummary => ({ ...r, ...(error ? { error: errorInfo(error) } : {}) })),
    durationMs: o.durationMs,
    journal: o.journal,
    ...(o.failedStep ? { failedStep: o.failedStep } : {}),
    ...(o.error ? { error: errorInfo(o.error) } : {}),
  };
}

async function finish(v: Validated, runId: string, o: RunOutcome & { journal: string }, reporter: Reporter, ctx: Context): Promise<RunSummary> {
  await reporter.runEnd({ status: o.status, durationMs: o.durationMs });
  const summary = ctx.masker.maskDeep(summarize(v, runId, o));
  if (o.error) {
    summaries.set(o.error as LtcError, summary);
    throw o.error;
  }
  return summary;
}

/**
 * Runs a runbook by name (ops repo first, then shipped) or file path. Inputs are checked against
 * the runbook's declarations (strings are converted to the declared type). Resolves with the run
 * summary when every step passed; otherwise throws the failing step's LtcError (see `summaryOf`).
 * With `dryRun` (or --dry-run) nothing runs: the summary's `plan` holds the resolved plan.
 */
export async function runRunbook(ref: string, inputs: InputMap, ctx: Context, opts: RunOptions = {}): Promise<RunSummary> {
  // Asks git for the actor now, so that git runs while the runbook loads (the journal needs it).
  if (!(opts.dryRun ?? ctx.options.dryRun)) void currentActor();
  const v = await loadValidated(ref, ctx, opts.baseDir);
  if (opts.checkApprovals) checkApprovals(v, ctx.options.approve);
  const values = resolveInputs(v.runbook, inputs, ctx.masker);
  const config = await configFor(v, ctx);
  if (opts.dryRun ?? ctx.options.dryRun) {
    const plan = await planRun(v, values, ctx, config);
    // What the run would refuse to start for (confirmations aside: each confirm step names its flag).
    const refusals = (await preflightProblems(v, values, ctx, config)).filter((p) => !p.approve);
    if (refusals.length) Object.assign(plan, { problems: refusals.map((p) => p.text), problemsHint: preflightHint(refusals) });
    return ctx.masker.maskDeep({ runId: null, runbook: v.runbook.name, file: v.runbook.file, status: 'planned', outputs: {}, steps: [], durationMs: 0, plan });
  }
  await preflight(v, values, ctx, config);
  const reporter = opts.reporter ?? (await chooseReporter(ctx, opts.render));
  const runId = newRunId(v.runbook.name);
  const session: Session = { ctx, stateDir: await ctx.stateDir(), reporter, config, argv: [...ctx.argv] };
  const outcome = await runValidated(v, values, session, { runId }, 0, reporter, []);
  return finish(v, runId, outcome, reporter, ctx);
}

/**
 * Continues a failed, interrupted or killed run from its first unfinished step, with the outputs
 * of the steps done before. Secret inputs are not journaled: give them again in `inputs`.
 */
export async function resumeRun(runId: string, inputs: InputMap, ctx: Context, opts: RunOptions = {}): Promise<RunSummary> {
  const stateDir = await ctx.stateDir();
  const history = readRunHistory(stateDir, runId);
  if (history.header.parent) {
    throw new UsageError(`run ${runId} was started by step "${history.header.parent.step}" of run ${history.header.parent.runId}`, {
      hint: `resume that run: ltc runbook resume ${history.header.parent.runId}`,
    });
  }
  if (history.status === 'running') {
    throw new LockedError(`run ${runId} is still running (pid ${history.resumes.at(-1)?.pid ?? history.header.pid})`, { hint: 'wait for it to end, or stop it first' });
  }
  if (history.status === 'ok') throw new UsageError(`run ${runId} finished ok; there is nothing to resume`, { hint: 'start a new run with `ltc runbook run`' });
  const v = await loadValidated({ name: history.header.runbook, file: history.header.file, origin: 'file' }, ctx);
  if (opts.checkApprovals) checkApprovals(v, ctx.options.approve);
  if (v.runbook.sha256 !== history.header.sha256) ctx.out.warn(`${v.runbook.file} changed since run ${runId} started; resuming with the current file`);
  const given: InputMap = {};
  for (const [name, value] of Object.entries(history.header.inputs)) {
    const def = v.runbook.inputs[name];
    if (!def) continue;
    if (def.secret && value === '***') {
      if (inputs[name] === undefined) {
        throw new UsageError(`input "${name}" is secret and was not journaled`, { hint: `give it again: ltc runbook resume ${runId} --input ${name}=…` });
      }
      given[name] = inputs[name]!;
    } else given[name] = value;
  }
  for (const name of Object.keys(inputs)) {
    if (!v.runbook.inputs[name]?.secret) throw new UsageError(`input "${name}" cannot change on resume`, { hint: 'only secret inputs (not journaled) are given again' });
  }
  const values = resolveInputs(v.runbook, given, ctx.masker);
  const config = await configFor(v, ctx);
  await preflight(v, values, ctx, config);
  const reporter = opts.reporter ?? (await chooseReporter(ctx, opts.render));
  const session: Session = { ctx, stateDir, reporter, config, argv: [...ctx.argv] };
  const outcome = await runValidated(v, values, session, { runId, resume: history }, 0, reporter, []);
  return finish(v, runId, outcome, reporter, ctx);
}
