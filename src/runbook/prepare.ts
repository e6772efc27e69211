/**
 * Everything checked before a run changes anything: the runbook and the runbooks it calls are
 * loaded and validated, config references exist, and each step type's preflight passes.
 */
import type { Context } from '../core/context.js';
import { ConfigError, LtcError, UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { UNKNOWN, evaluate, truthy } from './expr.js';
import { parseCondition } from './template.js';
import { makeResolver } from './scope.js';
import { readRunbook } from './read.js';
import { locateRunbook, type RunbookRef } from './locate.js';
import { allSteps, type Runbook } from './model.js';
import { checkConfigRefs, readsConfig } from './scope.js';
import { staticStepContext } from './step-context.js';
import { resolveSpec } from './step-runner.js';
import { validateRunbook, type Validated } from './validate.js';
import type { OutputValue } from './step-type.js';

/** Loads and validates a runbook by name or path (and everything it calls). */
export async function loadValidated(ref: string | RunbookRef, ctx: Context, baseDir?: string): Promise<Validated> {
  const located = typeof ref === 'string' ? await locateRunbook(ref, ctx, baseDir) : ref;
  const rb = await readRunbook(located);
  return validateRunbook(rb, async (callRef, caller) => readRunbook(await locateRunbook(callRef, ctx, caller.dir)));
}

export function* walkValidated(v: Validated, seen = new Set<string>()): Generator<Runbook> {
  if (seen.has(v.runbook.file)) return;
  seen.add(v.runbook.file);
  yield v.runbook;
  for (const child of v.calls.values()) yield* walkValidated(child, seen);
}

/** The loaded config when any runbook in the tree reads `config.…` (each reference checked). */
export async function configFor(v: Validated, ctx: Context): Promise<unknown> {
  const readers = [...walkValidated(v)].filter(readsConfig);
  if (!readers.length) return undefined;
  const loaded = await ctx.config();
  for (const rb of readers) checkConfigRefs(rb, loaded.config, loaded.file);
  return loaded.config;
}

/** A step that cannot run as it is: `file:line:column: step "id": what`, and the flag that answers it for a confirmation. */
export interface PreflightProblem {
  text: string;
  hint?: string;
  /** The step id of a confirmation that needs --approve <id> (or --yes). */
  approve?: string;
}

/**
 * Runs every step type's preflight with what is known before the run: the inputs, env and config
 * for the runbook itself; env and config for the runbooks it calls (their inputs are known later).
 * Returns every problem found (used by the run, which refuses to start, and by --dry-run, which shows them).
 */
export async function preflightProblems(v: Validated, inputs: Readonly<Record<string, OutputValue>>, ctx: Context, config: unknown): Promise<PreflightProblem[]> {
  const problems: PreflightProblem[] = [];
  const base = makeResolver({ inputs, results: new Map(), env: ctx.env, config, planning: true });
  const childResolver: typeof base = (path) => (path[0] === 'inputs' ? UNKNOWN : base(path));
  let root = true;
  for (const rb of walkValidated(v)) {
    const resolver = root ? base : childResolver;
    root = false;
    for (const step of allSteps(rb)) {
      if (!step.stepType.preflight) continue;
      if (typeof step.when === 'string' || step.when === false) {
        const known = step.when === false ? false : evaluate(parseCondition(step.when).expr, resolver);
        if (known !== UNKNOWN && !truthy(known)) continue; // skipped for these inputs
      }
      let spec: unknown;
      try {
        spec = await resolveSpec({ runbook: rb }, step, resolver);
      } catch {
        continue; // depends on values only known at run time
      }
      try {
        await step.stepType.preflight(spec, staticStepContext({ ctx, runId: 'preflight', runbook: rb, step, inputs, resolver }));
      } catch (err) {
        if (!(err instanceof LtcError)) throw err;
        const pos = rb.source.positionOf([...step.path, step.type]);
        const approve = err.details?.approve;
        problems.push({
          text: `${rb.file}:${pos.line}:${pos.column}: step "${step.id}": ${err.message}`,
          ...(err.hint ? { hint: err.hint } : {}),
          ...(typeof approve === 'string' ? { approve } : {}),
        });
      }
    }
  }
  return problems;
}

/** The hint for a list of preflight problems: the first other problem's hint, else the flags that answer the confirmations. */
export function preflightHint(problems: readonly PreflightProblem[]): string {
  const other = problems.find((p) => !p.approve && p.hint)?.hint;
  if (other) return other;
  const approvals = problems.flatMap((p) => (p.approve ? [p.approve] : []));
  if (approvals.length) return `approve ahead with ${approvals.map((id) => `--approve ${id}`).join(' ')} (or --yes for every confirmation)`;
  return 'fix the steps above';
}

/** Refuses the run (exit 2, nothing run) when a step cannot run as it is. */
export async function preflight(v: Validated, inputs: Readonly<Record<string, OutputValue>>, ctx: Context, config: unknown): Promise<void> {
  const problems = await preflightProblems(v, inputs, ctx, config);
  if (problems.length) {
    // A missing approval is a usage problem (exit 2), as is everything else found here.
    throw new ConfigError(`runbook ${v.runbook.file} cannot run (nothing was run):\n  ${problems.map((p) => p.text).join('\n  ')}`, { hint: preflightHint(problems) });
  }
}

/**
 * Every `--approve <id>` must name a confirm step of the runbook or of a runbook it calls: an id
 * that names none (a typo) would approve nothing, silently.
 */
export function checkApprovals(v: Validated, approvals: readonly string[]): void {
  const ids = [...new Set([...walkValidated(v)].flatMap((rb) => allSteps(rb).filter((s) => s.type === 'confirm').map((s) => s.id)))];
  const unknown = approvals.filter((id) => !ids.includes(id));
  if (!unknown.length) return;
  throw new UsageError(`--approve ${unknown.join(', --approve ')}: runbook ${v.runbook.name} has no confirm step ${unknown.map((id) => `"${id}"`).join(', ')}`, {
    hint: didYouMean(unknown[0]!, ids) ?? (ids.length ? `its confirm steps: ${ids.join(', ')}` : 'it has no confirm steps: leave --approve out'),
  });
}
