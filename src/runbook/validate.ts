/**
 * Semantic checks after the schema: duplicate step ids, expressions that do not parse,
 * references to unknown inputs, steps and outputs, a step read before it runs, and runbooks
 * calling each other in a cycle. All problems are reported at once with file:line:column.
 */
import { ConfigError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { allSteps, where, type Runbook, type StepDef } from './model.js';
import { problemsError } from './problems.js';
import { collectExpressions, refsIn, type FoundExpr } from './refs.js';
import { runbookCallOf } from './runbook-call.js';
import { hasTemplate } from './template.js';

export interface Problem {
  at: string;
  message: string;
  hint?: string;
}

/** Loads the runbook a `runbook` step calls (by name or path relative to the caller's folder). */
export type CallResolver = (ref: string, caller: Runbook) => Promise<Runbook>;

export interface Validated {
  runbook: Runbook;
  /** Runbooks called by `runbook` steps with a fixed name, by step id. */
  calls: Map<string, Validated>;
}

const NAMESPACES = ['inputs', 'steps', 'env', 'config'];

/** Step ids a step may read: steps before it (and, for on_failure steps, the failed step and earlier siblings). */
function visibleSteps(rb: Runbook, step: StepDef | undefined, inOutputs: boolean): Set<string> {
  if (!step) return new Set(allSteps(rb).map((s) => s.id));
  const ids = new Set<string>();
  if (inOutputs) ids.add(step.id);
  const mainIndex = rb.steps.findIndex((s) => s.id === (step.parent ?? step.id));
  for (const earlier of rb.steps.slice(0, mainIndex)) {
    ids.add(earlier.id);
    for (const f of earlier.onFailure) ids.add(f.id);
  }
  if (step.parent) {
    ids.add(step.parent);
    const parent = rb.steps[mainIndex]!;
    for (const sibling of parent.onFailure) {
      if (sibling.id === step.id) break;
      ids.add(sibling.id);
    }
  }
  return ids;
}

function outputsOf(step: StepDef, calls: Map<string, Validated>): string[] | undefined {
  if (step.stepType.dynamicOutputs) return undefined;
  const called = calls.get(step.id);
  if (step.type === 'runbook' && !called) return undefined;
  return [...(step.stepType.outputs ?? []), ...Object.keys(step.outputs), ...(called ? Object.keys(called.runbook.outputs) : [])];
}

function checkReference(rb: Runbook, f: FoundExpr, path: string[], calls: Map<string, Validated>): Omit<Problem, 'at'> | undefined {
  const [ns, a, b, c, ...more] = path;
  const text = path.join('.');
  if (!NAMESPACES.includes(ns!)) {
    return { message: `unknown name "${ns}" in ${text}`, hint: didYouMean(ns!, NAMESPACES) ?? `an expression reads ${NAMESPACES.map((n) => `${n}.…`).join(', ')}` };
  }
  if (ns === 'inputs') {
    if (a === undefined || b !== undefined) return { message: `${text}: expected inputs.<name>` };
    if (!Object.hasOwn(rb.inputs, a)) {
      const names = Object.keys(rb.inputs);
      return { message: `unknown input "${a}"`, hint: didYouMean(a, names) ?? (names.length ? `declared inputs: ${names.join(', ')}` : 'declare it under inputs:') };
    }
    return undefined;
  }
  if (ns === 'env') return a === undefined || b !== undefined ? { message: `${text}: expected env.<NAME>` } : undefined;
  if (ns === 'config') return a === undefined ? { message: `${text}: expected config.<key>…` } : undefined;
  // steps.<id>.outputs.<name> | steps.<id>.status
  if (a === undefined) return { message: `${text}: expected steps.<id>.outputs.<name>` };
  const all = allSteps(rb);
  const target = all.find((s) => s.id === a);
  if (!target) {
    return { message: `unknown step "${a}" in ${text}`, hint: didYouMean(a, all.map((s) => s.id)) ?? `step ids: ${all.map((s) => s.id).join(', ')}` };
  }
  if (!visibleSteps(rb, f.step, f.inOutputs).has(a)) {
    return {
      message: `${text} reads step "${a}" before it runs`,
      hint: f.step ? `step "${f.step.id}" can only read steps that run before it; move "${a}" earlier` : undefined,
    };
  }
  if (b === 'status' && c === undefined) return undefined;
  if (b !== 'outputs' || c === undefined || more.length) return { message: `${text}: expected steps.${a}.outputs.<name> or steps.${a}.status` };
  const known = outputsOf(target, calls);
  if (known && !known.includes(c)) {
    return {
      message: `step "${a}" has no output "${c}"`,
      hint: didYouMean(c, known) ?? (known.length ? `its outputs: ${known.join(', ')}` : `a ${target.type} step has no outputs; add outputs: to it`),
    };
  }
  return undefined;
}

/** Adds one problem, or a problem followed by the problems under it (a called runbook's). */
type AddProblem = (first: Problem, ...under: Problem[]) => void;

async function checkCalls(rb: Runbook, resolve: CallResolver, stack: Runbook[], add: AddProblem, cache: Map<string, Validated>): Promise<Map<string, Validated>> {
  const calls = new Map<string, Validated>();
  for (const step of allSteps(rb).filter((s) => s.type === 'runbook')) {
    const call = runbookCallOf(step.raw);
    if (!call || hasTemplate(call.ref)) continue;
    const at = where(rb, [...step.path, 'runbook']);
    let child: Runbook;
    try {
      child = await resolve(call.ref, rb);
    } catch (err) {
      add({ at, message: `step "${step.id}" calls runbook "${call.ref}": ${(err as Error).message}`, hint: (err as ConfigError).hint });
      continue;
    }
    const chain = [...stack, rb];
    const cycleStart = chain.findIndex((r) => r.file === child.file);
    if (cycleStart >= 0) {
      const names = [...chain.slice(cycleStart), child].map((r) => r.name);
      add({ at, message: `runbooks call each other in a cycle: ${names.join(' → ')}`, hint: `remove the call to "${call.ref}" in step "${step.id}"` });
      continue;
    }
    for (const name of Object.keys(call.inputs)) {
      if (!Object.hasOwn(child.inputs, name)) {
        add({ at, message: `step "${step.id}" passes input "${name}", which runbook "${child.name}" does not declare`, hint: didYouMean(name, Object.keys(child.inputs)) });
      }
    }
    for (const [name, def] of Object.entries(child.inputs)) {
      if (def.required && def.default === undefined && !Object.hasOwn(call.inputs, name)) {
        add({ at, message: `step "${step.id}" does not pass the required input "${name}" of runbook "${child.name}"` });
      }
    }
    const done = cache.get(child.file);
    if (done) {
      calls.set(step.id, done);
      continue;
    }
    const nested = await validateInner(child, resolve, [...stack, rb], cache).catch((err: unknown) => {
      // The called runbook's own problems, each with its file:line:column and hint, under one line.
      const inner = err instanceof ConfigError ? (err.details?.problems as Problem[] | undefined) : undefined;
      if (inner?.length) add({ at, message: `runbook "${child.name}" called by step "${step.id}" is invalid:` }, ...inner);
      else add({ at, message: `runbook "${child.name}" called by step "${step.id}" is invalid: ${(err as Error).message}` });
      return undefined;
    });
    if (nested) calls.set(step.id, nested);
  }
  return calls;
}

async function validateInner(rb: Runbook, resolve: CallResolver, stack: Runbook[], cache: Map<string, Validated>): Promise<Validated> {
  // Each problem with the problems under it, kept in file order (by line and column).
  const entries: Array<{ line: number; column: number; problems: Problem[] }> = [];
  const add: AddProblem = (first, ...under) => {
    const m = /:(\d+):(\d+)$/.exec(first.at);
    entries.push({ line: m ? Number(m[1]) : 0, column: m ? Number(m[2]) : 0, problems: [first, ...under] });
  };
  const seen = new Map<string, StepDef>();
  for (const step of allSteps(rb)) {
    if (seen.has(step.id)) {
      add({ at: where(rb, [...step.path, 'id']), message: `duplicate step id "${step.id}" (also at ${where(rb, [...seen.get(step.id)!.path, 'id'])})`, hint: 'step ids are unique in a runbook' });
    } else seen.set(step.id, step);
  }
  const calls = await checkCalls(rb, resolve, stack, add, cache);
  const { found, problems: syntax } = collectExpressions(rb);
  for (const s of syntax) add({ at: where(rb, s.path), message: s.message, hint: 'expressions look like ${{ inputs.rc }}, ${{ steps.build.outputs.stdout }}, inputs.env == "prod" && !inputs.force' });
  for (const f of found) {
    for (const ref of refsIn(f)) {
      const p = checkReference(rb, f, ref.path, calls);
      if (p) add({ at: where(rb, f.path), ...p });
    }
  }
  if (entries.length) {
    const problems = entries.sort((a, b) => a.line - b.line || a.column - b.column).flatMap((e) => e.problems);
    const lines = problems.map((p) => ({ text: `${p.at}: ${p.message}`, hint: p.hint }));
    throw problemsError(`runbook ${rb.file} is invalid:`, lines, 'fix the runbook and run `ltc runbook validate` again', { file: rb.file, problems });
  }
  const validated = { runbook: rb, calls };
  cache.set(rb.file, validated);
  return validated;
}

/** Validates a runbook and every runbook it calls; throws one ConfigError listing every problem. */
export function validateRunbook(rb: Runbook, resolve: CallResolver): Promise<Validated> {
  return validateInner(rb, resolve, [], new Map());
}
