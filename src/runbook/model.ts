/** The loaded, normalized form of a runbook: what the validator, planner and engine work on. */
import type { PositionSource } from '../config/yaml-source.js';
import type { RunbookOrigin } from './locate.js';
import type { InputDef } from './schema.js';
import type { StepType } from './step-type.js';

export type Scalar = string | number | boolean;

export interface RetryPolicy {
  count: number;
  delayMs: number;
  backoff: 'fixed' | 'exponential';
}

export interface StepDef {
  id: string;
  name: string;
  /** The step type key, e.g. "run". */
  type: string;
  stepType: StepType;
  /** The type key's value as written (bare expression keys already wrapped in `${{ }}`). */
  raw: unknown;
  when?: string | boolean;
  retries: RetryPolicy;
  timeoutMs?: number;
  continueOnError: boolean;
  onFailure: StepDef[];
  outputs: Record<string, Scalar>;
  /** Key path in the YAML, e.g. ['steps', 2] or ['steps', 2, 'on_failure', 0]. */
  path: PropertyKey[];
  /** For an on_failure step: the id of the step it compensates. */
  parent?: string;
}

export interface Runbook {
  /** The name it is called by (file name without extension). */
  name: string;
  /** The `name:` in the file. */
  title: string;
  description?: string;
  file: string;
  dir: string;
  origin: RunbookOrigin;
  overrides?: string;
  sha256: string;
  inputs: Record<string, InputDef>;
  steps: StepDef[];
  outputs: Record<string, Scalar>;
  /** Where each key path is (the parsed file, or the position table of a cached runbook). */
  source: PositionSource;
}

/** Every step, main ones and their on_failure steps, in file order. */
export function allSteps(rb: Runbook): StepDef[] {
  return rb.steps.flatMap((s) => [s, ...s.onFailure]);
}

/** `file:line:column` of a key path (with `key`, of that key inside the map). */
export function where(rb: Pick<Runbook, 'file' | 'source'>, path: ReadonlyArray<PropertyKey>, key?: string): string {
  const pos = rb.source.positionOf(path, key);
  return `${rb.file}:${pos.line}:${pos.column}`;
}
