import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { isScalar } from 'yaml';
import type { YamlSource } from './yaml-source.js';

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  /** z.discriminatedUnion: the key that picks the option. */
  discriminator?: string;
  /** z.literal: its values. */
  values?: unknown[];
}

function defOf(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (!inner) return s;
    s = inner;
  }
}

/** The keys an object schema at `path` allows (following records, arrays and unions). */
export function knownKeysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>, data: unknown): string[] {
  let nodes: z.ZodType[] = [unwrap(schema)];
  let value: unknown = data;
  for (const part of path) {
    value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[part] : undefined;
    const next: z.ZodType[] = [];
    for (const node of nodes) {
      const def = defOf(node);
      if (def.type === 'object' && def.shape && typeof part === 'string' && def.shape[part]) next.push(def.shape[part]);
      else if (def.type === 'record' && def.valueType) next.push(def.valueType);
      else if (def.type === 'array' && def.element) next.push(def.element);
    }
    nodes = next.flatMap((n) => expandUnion(n, value)).map(unwrap);
  }
  const keys = new Set<string>();
  for (const node of nodes.flatMap((n) => expandUnion(n, value))) {
    const def = defOf(unwrap(node));
    if (def.type === 'object' && def.shape) for (const k of Object.keys(def.shape)) keys.add(k);
  }
  return [...keys];
}

/**
 * The options of a union; of a discriminated one only the option the data picks (`backend: vault`
 * allows vault's keys, not file's `path`), or all of them when the data picks none.
 */
function expandUnion(schema: z.ZodType, value?: unknown): z.ZodType[] {
  const s = unwrap(schema);
  const def = defOf(s);
  if (def.type !== 'union' || !def.options) return [s];
  let options = def.options;
  const picked = def.discriminator && value && typeof value === 'object' ? (value as Record<string, unknown>)[def.discriminator] : undefined;
  if (picked !== undefined) {
    const matching = options.filter((o) => {
      const key = defOf(unwrap(o)).shape?.[def.discriminator!];
      return key !== undefined && (defOf(unwrap(key)).values ?? []).includes(picked);
    });
    if (matching.length) options = matching;
  }
  return options.flatMap((o) => expandUnion(o, value));
}

function pathText(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

export interface SchemaProblem {
  path: string;
  line: number;
  column: number;
  message: string;
  hint?: string;
}

/**
 * `command: [sleep, 5]` or `run: [test, -e, x, true]`: YAML reads an unquoted 5 / true as a
 * number / boolean where a string is expected. The problem says to quote it. In an argument array
 * the value is shown as written (a command word); elsewhere (an env map may hold a password) it
 * is not. Shared by the config and the runbook loaders.
 */
export function unquotedScalarProblem(issue: z.core.$ZodIssue, source: YamlSource, data: unknown): SchemaProblem | undefined {
  if (issue.code !== 'invalid_type' || issue.expected !== 'string') return undefined;
  const given = pathValue(data, issue.path);
  if (typeof given !== 'boolean' && typeof given !== 'number') return undefined;
  const pos = source.positionOf(issue.path);
  const base = { path: pathText(issue.path), line: pos.line, column: pos.column };
  const kind = typeof given;
  if (typeof issue.path.at(-1) !== 'number') {
    return { ...base, message: `expected a string, got a ${kind}`, hint: `YAML reads an unquoted ${kind === 'number' ? 'number' : 'true/false'} as a ${kind}: quote the value` };
  }
  const node = source.doc.getIn(issue.path as Iterable<unknown>, true);
  const written = isScalar(node) && typeof node.source === 'string' && node.source ? node.source : String(given);
  return {
    ...base,
    message: `expected a string, got the ${kind} ${written}`,
    hint: `YAML reads an unquoted ${written} as a ${kind}: quote it, e.g. "${written}"`,
  };
}

/** Turns zod issues into problems that name file:line:column, the key path, what was expected and a hint. */
export function describeIssues(schema: z.ZodType, issues: z.core.$ZodIssue[], source: YamlSource, data: unknown): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path, data);
      for (const key of issue.keys) {
        const pos = source.positionOf(issue.path, key);
        problems.push({
          path: pathText([...issue.path, key]),
          ...{ line: pos.line, column: pos.column },
          message: `unknown key "${key}"`,
          hint: didYouMean(key, known.filter((k) => k !== key)) ?? (known.length ? `allowed keys here: ${known.join(', ')}` : undefined),
        });
      }
      continue;
    }
    const unquoted = unquotedScalarProblem(issue, source, data);
    if (unquoted) {
      problems.push(unquoted);
      continue;
    }
    // A bad key is shown at the key itself, not at its value.
    const pos =
      issue.code === 'invalid_key' ? source.positionOf(issue.path.slice(0, -1), String(issue.path.at(-1))) : source.positionOf(issue.path);
    let message = issue.message;
    let hint: string | undefined;
    if (issue.code === 'invalid_union' && issue.discriminator && 'options' in issue && issue.options) {
      message = `expected ${issue.discriminator} to be one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`;
      const at = pathValue(data, issue.path);
      const given = issue.path.at(-1) === issue.discriminator ? at : (at as Record<string, unknown> | undefined)?.[issue.discriminator];
      if (typeof given === 'string') hint = didYouMean(given, issue.options.map(String));
    } else if (issue.code === 'invalid_key' && issue.issues[0]) {
      message = `key "${String(issue.path.at(-1))}": ${issue.issues[0].message}`;
    } else if (issue.code === 'invalid_type' && pathValue(data, issue.path) === undefined) {
      message = `missing required key (${issue.message.replace(/^Invalid input: /, '')})`;
    } else if (issue.code === 'invalid_type' && issue.expected === 'boolean' && typeof pathValue(data, issue.path) === 'string') {
      hint = 'write true or false (in YAML 1.2, yes/no/on/off are strings)';
    }
    problems.push({ path: pathText(issue.path), line: pos.line, column: pos.column, message, hint });
  }
  return problems;
}

function schemaHintPath(): string {
  try {
    return join(packageRoot(), 'schema', 'config.schema.json');
  } catch {
    return 'schema/config.schema.json (in the ltc package)';
  }
}

function pathValue(data: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v = data;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/** Validates YAML data with a schema; the first problems become one ConfigError. */
export function parseWithSchema<S extends z.ZodType>(schema: S, source: YamlSource, what: string): z.output<S> {
  const data = source.toJS();
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = describeIssues(schema, result.error.issues, source, data).sort((a, b) => a.line - b.line || a.column - b.column);
  const lines = problems.map(
    (p) => `${source.file}:${p.line}:${p.column}: ${p.path || '(top level)'}: ${p.message}${problems.length > 1 && p.hint ? `\n      (${p.hint})` : ''}`,
  );
  const hints = problems.map((p) => p.hint).filter((h): h is string => !!h);
  throw new ConfigError(`${what} is invalid:\n  ${lines.join('\n  ')}`, {
    hint:
      problems.length === 1
        ? (hints[0] ?? `the JSON Schema ${schemaHintPath()} says what every key expects`)
        : `${hints.length ? "each problem's hint is under it; " : ''}the JSON Schema ${schemaHintPath()} says what every key expects`,
    details: { file: source.file, problems },
  });
}
