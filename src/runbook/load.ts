/**
 * Reads a runbook file: YAML with positions, the format schema (each step type's value checked by
 * that type's own schema), then the normalized model. Every problem names file:line:column.
 */
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { describeIssues, type SchemaProblem } from '../config/schema-errors.js';
import { YamlSource } from '../config/yaml-source.js';
import { ConfigError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import { didYouMean } from '../core/suggest.js';
import type { RunbookRef } from './locate.js';
import type { Runbook, Scalar, StepDef } from './model.js';
import { problemsError } from './problems.js';
import { stepTypes } from './registry.js';
import { CONTROL_KEYS, buildRunbookSchema, type RetriesDef } from './schema.js';
import type { LoadedStepType } from './step-type.js';

type Issue = z.core.$ZodIssue;
type Raw = Record<string, unknown>;

let schemaCache: { types: Map<string, LoadedStepType>; schema: ReturnType<typeof buildRunbookSchema> } | undefined;
async function runbookSchema() {
  const types = await stepTypes();
  if (schemaCache?.types !== types) schemaCache = { types, schema: buildRunbookSchema(types) };
  return schemaCache;
}

function isStepPath(path: ReadonlyArray<PropertyKey>): boolean {
  return (path.length === 2 && path[0] === 'steps') || (path.length === 4 && path[0] === 'steps' && path[2] === 'on_failure');
}

function valueAt(data: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v = data;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/** A failed union becomes the issues of the branch that got furthest, or "expected a or b". */
function flattenUnions(issues: readonly Issue[], data: unknown): Issue[] {
  return issues.flatMap((issue): Issue[] => {
    if (issue.code !== 'invalid_union' || !('errors' in issue) || !issue.errors?.length || issue.discriminator) return [issue];
    const branches = issue.errors.map((branch) => branch.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as Issue));
    const rootTypeOnly = branches.every((b) => b.length === 1 && b[0]!.code === 'invalid_type' && b[0]!.path.length === issue.path.length);
    if (rootTypeOnly) {
      const expected = [...new Set(branches.map((b) => (b[0] as { expected?: string }).expected ?? 'value'))];
      const given = valueAt(data, issue.path);
      const got = Array.isArray(given) ? 'array' : given === null ? 'null' : typeof given;
      return [{ ...issue, code: 'custom', message: `expected ${expected.join(' or ')}, got ${got}` } as Issue];
    }
    const depth = (b: Issue[]) => Math.max(...b.map((i) => i.path.length));
    const best = branches.filter((b) => b.length > 0).sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0];
    return best ? flattenUnions(best, data) : [issue];
  });
}

/** Turns schema issues into problems; an unknown key on a step without a type is an unknown step type. */
function problemsOf(schema: z.ZodType, issues: readonly Issue[], source: YamlSource, data: unknown, types: readonly string[]): SchemaProblem[] {
  const flat = flattenUnions(issues, data);
  const typeless = (path: ReadonlyArray<PropertyKey>) => {
    const step = valueAt(data, path);
    return !!step && typeof step === 'object' && !types.some((t) => (step as Raw)[t] !== undefined);
  };
  const unknownTypeAt = new Set(flat.filter((i) => i.code === 'unrecognized_keys' && isStepPath(i.path) && typeless(i.path)).map((i) => i.path.join('/')));
  const problems: SchemaProblem[] = [];
  const rest: Issue[] = [];
  for (const issue of flat) {
    const key = issue.path.join('/');
    if (issue.code === 'custom' && (issue as { params?: { ltc?: string } }).params?.ltc === 'no-type' && unknownTypeAt.has(key)) continue;
    if (issue.code === 'unrecognized_keys' && isStepPath(issue.path) && issue.path.length === 4 && issue.keys.includes('on_failure')) {
      const pos = source.positionOf(issue.path, 'on_failure');
      problems.push({
        path: `${pathText(issue.path)}.on_failure`,
        line: pos.line,
        column: pos.column,
        message: 'an on_failure step has no on_failure of its own',
        hint: 'put the compensation and its own fallback in a runbook, and call it from on_failure with a `runbook` step (its steps may have on_failure)',
      });
      const others = issue.keys.filter((k) => k !== 'on_failure');
      if (others.length) rest.push({ ...issue, keys: others });
      continue;
    }
    if (issue.code === 'unrecognized_keys' && unknownTypeAt.has(key)) {
      for (const k of issue.keys) {
        const pos = source.positionOf(issue.path, k);
        problems.push({
          path: `${pathText(issue.path)}.${k}`,
          line: pos.line,
          column: pos.column,
          message: `unknown step type "${k}"`,
          hint: didYouMean(k, types) ?? didYouMean(k, CONTROL_KEYS) ?? `step types: ${types.join(', ')}`,
        });
      }
      continue;
    }
    rest.push(issue);
  }
  return [...problems, ...describeIssues(schema, rest, source, data)].sort((a, b) => a.line - b.line || a.column - b.column);
}

function pathText(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

function retryPolicy(r: RetriesDef | undefined): StepDef['retries'] {
  if (r === undefined) return { count: 0, delayMs: 0, backoff: 'fixed' };
  if (typeof r === 'number') return { count: r, delayMs: 1000, backoff: 'exponential' };
  return { count: r.count, delayMs: parseDuration(r.delay), backoff: r.backoff };
}

/** Bare expressions in a type's expression keys become `${{ … }}` so one code path handles them. */
function wrapExpressionKeys(value: unknown, keys: readonly string[] | undefined): unknown {
  if (!keys?.length) return value;
  const wrap = (v: unknown) => (typeof v === 'string' && !v.trim().startsWith('${{') ? `\${{ ${v} }}` : v);
  if (typeof value === 'string') return keys.includes('') ? wrap(value) : value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, keys.includes(k) ? wrap(v) : v]));
  }
  return value;
}

function normalizeStep(parsed: Raw, raw: Raw, path: PropertyKey[], types: Map<string, LoadedStepType>, parent?: string): StepDef {
  const type = [...types.keys()].find((t) => raw[t] !== undefined)!;
  const stepType = types.get(type)!;
  const onFailure = ((parsed.on_failure as Raw[] | undefined) ?? []).map((p, i) =>
    normalizeStep(p, (raw.on_failure as Raw[])[i]!, [...path, 'on_failure', i], types, parsed.id as string),
  );
  return {
    id: parsed.id as string,
    name: (parsed.name as string | undefined) ?? (parsed.id as string),
    type,
    stepType,
    raw: wrapExpressionKeys(raw[type], stepType.expressionKeys),
    ...(parsed.when !== undefined ? { when: parsed.when as string | boolean } : {}),
    retries: retryPolicy(parsed.retries as RetriesDef | undefined),
    ...(parsed.timeout !== undefined ? { timeoutMs: parseDuration(parsed.timeout as string | number) } : {}),
    continueOnError: parsed.continue_on_error === true,
    onFailure,
    outputs: (parsed.outputs as Record<string, Scalar> | undefined) ?? {},
    path,
    ...(parent ? { parent } : {}),
  };
}

/** Parses runbook text; throws ConfigError naming file:line:column for every problem. */
export async function parseRunbook(ref: RunbookRef, text: string): Promise<Runbook> {
  const source = YamlSource.parse(ref.file, text, 'runbook');
  const data = source.toJS();
  if (data == null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`${ref.file}:1:1: a runbook is a YAML map with name, inputs and steps`, {
      hint: 'start from a shipped runbook: `ltc runbook show <name>`',
    });
  }
  const { types, schema } = await runbookSchema();
  const result = schema.safeParse(data);
  if (!result.success) {
    const problems = problemsOf(schema, result.error.issues, source, data, [...types.keys()]);
    const lines = problems.map((p) => ({ text: `${ref.file}:${p.line}:${p.column}: ${p.path || '(top level)'}: ${p.message}`, hint: p.hint }));
    throw problemsError(`runbook ${ref.file} is invalid:`, lines, 'see schema/runbook.schema.json for what each key expects', { file: ref.file, problems });
  }
  const parsed = result.data as unknown as Raw;
  const rawSteps = (data as Raw).steps as Raw[];
  return {
    name: ref.name,
    title: parsed.name as string,
    ...(parsed.description !== undefined ? { description: parsed.description as string } : {}),
    file: ref.file,
    dir: dirname(ref.file),
    origin: ref.origin,
    ...(ref.overrides ? { overrides: ref.overrides } : {}),
    sha256: createHash('sha256').update(text).digest('hex'),
    inputs: parsed.inputs as Runbook['inputs'],
    steps: (parsed.steps as Raw[]).map((s, i) => normalizeStep(s, rawSteps[i]!, ['steps', i], types)),
    outputs: (parsed.outputs as Record<string, Scalar> | undefined) ?? {},
    source,
  };
}
