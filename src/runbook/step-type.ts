import type { z } from 'zod';
import type { Context } from '../core/context.js';
import type { ExecOptions, ExecResult } from '../exec/exec.js';

export type OutputValue = string | number | boolean | null;

/** One line of a dry-run plan: what the step would do, with its resolved arguments. */
export interface PlanItem {
  /** e.g. "run", "GET", "switch". */
  action: string;
  /** Human text: the resolved command line, URL or path. */
  detail: string;
  /** Does it change anything? (read-only items may still run under --dry-run) */
  writes: boolean;
}

/** What a step type receives when it plans or runs. The spec it gets is already resolved. */
export interface StepContext {
  /** The CLI context: config, environment, output, prompts, masker. */
  ctx: Context;
  runId: string;
  stepId: string;
  /** Aborted on the step's timeout, on Ctrl-C, or when the run is cancelled. */
  signal: AbortSignal;
  /** A line of step output: journaled, streamed with the step id prefix under --verbose; masked. */
  log(line: string): void;
  /** Runs a command (argument array) tied to this step's signal, with its output logged. */
  exec(argv: readonly string[], opts?: Omit<ExecOptions, 'signal' | 'onLine'>): Promise<ExecResult>;
  /** The run's inputs (secret ones are registered with the masker). */
  inputs: Readonly<Record<string, OutputValue>>;
  /** Runs another runbook (by name or file) as a child of this run. */
  runRunbook(ref: string, inputs: Record<string, OutputValue>): Promise<Record<string, OutputValue>>;
  /** Evaluates an expression (`inputs.x == "a"`, bare or inside `${{ }}`) with the run's values. */
  evaluate(expression: string): OutputValue;
  /** The runbook this step belongs to (for paths relative to it). */
  runbook: { name: string; file: string; dir: string };
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /** The step's value as written in the YAML, before `${{ }}` substitution (for messages). */
  raw: unknown;
}

export interface StepResult {
  outputs?: Record<string, OutputValue>;
  /** A short human summary shown next to the step, e.g. "200 in 12ms". */
  summary?: string;
}

/**
 * A step type: the value under its key in a runbook step (`run: [...]`, `http: {...}`), how to
 * plan it for --dry-run and how to run it. Failures are thrown as LtcError subclasses; their
 * exit code becomes the run's when nothing handles them.
 */
export interface StepType<S extends z.ZodType = z.ZodType> {
  /** The YAML key, e.g. "run". */
  name: string;
  description: string;
  /**
   * The step's value as zod checks it. A type on the path of a command that must start fast
   * (the deploy and rollback phases) gives a function that imports its schema instead, so that
   * zod loads only when a value is not one of its `quickParse` shapes; see schemaOf.
   */
  schema: S | (() => Promise<S>);
  /**
   * The value's usual shapes checked without zod: the value as the schema would give it, or
   * undefined to let the schema decide (and word any problem). Never accepts what the schema refuses.
   */
  quickParse?(value: unknown): z.output<S> | undefined;
  /** Output names the step always sets (for validating `steps.<id>.outputs.<name>`). */
  outputs?: readonly string[];
  /** The step sets outputs whose names are only known at run time: references are not checked. */
  dynamicOutputs?: boolean;
  /**
   * Keys of the step's value that hold a bare expression (`that: inputs.x == 1`); `''` is the
   * value itself when it is a string. The engine treats them as `${{ … }}` and validates them.
   */
  expressionKeys?: readonly string[];
  /**
   * Checks before anything in the run starts (e.g. the command exists). Gets the spec resolved
   * as far as inputs allow (step outputs are still `${{ … }}` text). Throw ConfigError/UsageError.
   */
  preflight?(spec: z.output<S>, step: StepContext): void | Promise<void>;
  plan(spec: z.output<S>, step: StepContext): PlanItem[] | Promise<PlanItem[]>;
  run(spec: z.output<S>, step: StepContext): Promise<StepResult>;
}

export function defineStep<S extends z.ZodType>(step: StepType<S>): StepType<S> {
  return step;
}

/** A step type whose schema is at hand (what validating a runbook and the generators need). */
export type LoadedStepType = Omit<StepType, 'schema'> & { schema: z.ZodType };

/** The step type's zod schema, imported first when the type gives it lazily. */
export async function schemaOf<S extends z.ZodType>(type: Pick<StepType<S>, 'schema'>): Promise<S> {
  return typeof type.schema === 'function' ? type.schema() : type.schema;
}

/** Checks a step's value: its quickParse first, the zod schema (loaded then) when that leaves it open. */
export async function checkSpec(type: StepType, value: unknown): Promise<z.ZodSafeParseResult<unknown>> {
  const quick = type.quickParse?.(value);
  return quick !== undefined ? { success: true, data: quick } : (await schemaOf(type)).safeParse(value);
}

/**
 * The same step type with its schema loaded: a lazy schema is imported once and kept in its place,
 * so a type stays one object (a cached runbook's steps and a freshly parsed one's are the same types).
 */
export async function loaded(type: StepType): Promise<LoadedStepType> {
  if (typeof type.schema === 'function') type.schema = await type.schema();
  return type as LoadedStepType;
}
