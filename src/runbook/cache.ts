/**
 * Valid runbooks cached by content (src/config/cache.ts): a hit skips loading yaml, parsing and
 * validating with zod. The cached form is the model without its step types (looked up by name
 * again) and with a position table instead of the parsed YAML, so messages still name
 * file:line:column. Runbooks with values JSON cannot hold (.inf, .nan) are not cached.
 */
import { dirname } from 'node:path';
import { cacheKey, readCached, writeCached } from '../config/cache.js';
import { tableSource, type PositionTable } from '../config/position-table.js';
import type { RunbookRef } from './locate.js';
import type { Runbook, StepDef } from './model.js';
import type { StepType } from './step-type.js';

type CachedStep = Omit<StepDef, 'stepType' | 'onFailure'> & { onFailure: CachedStep[] };

interface CachedRunbook {
  title: string;
  description?: string;
  sha256: string;
  inputs: Runbook['inputs'];
  steps: CachedStep[];
  outputs: Runbook['outputs'];
  positions: PositionTable;
}

const key = (ref: RunbookRef, text: string) => cacheKey(`runbook:${ref.file}`, text);

function strip(step: StepDef): CachedStep {
  const { stepType: _t, onFailure, ...rest } = step;
  return { ...rest, onFailure: onFailure.map(strip) };
}

function dress(step: CachedStep, types: ReadonlyMap<string, StepType>): StepDef | undefined {
  const stepType = types.get(step.type);
  const onFailure = step.onFailure.map((s) => dress(s, types));
  if (!stepType || onFailure.some((s) => !s)) return undefined;
  return { ...step, stepType, onFailure: onFailure as StepDef[] };
}

/** A JSON copy, or undefined when JSON would change a value. */
function jsonCopy<T>(value: T): T | undefined {
  let lossy = false;
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if ((typeof v === 'number' && !Number.isFinite(v)) || typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') lossy = true;
    return v;
  });
  return lossy ? undefined : (JSON.parse(text) as T);
}

function typeNames(steps: CachedStep[], into: Set<string> = new Set()): Set<string> {
  for (const s of steps) {
    into.add(s.type);
    typeNames(s.onFailure, into);
  }
  return into;
}

export async function cachedRunbook(ref: RunbookRef, text: string, types: (names: Iterable<string>) => Promise<ReadonlyMap<string, StepType>>, env: NodeJS.ProcessEnv): Promise<Runbook | undefined> {
  const hit = await readCached<CachedRunbook>('runbook', await key(ref, text), env);
  if (!hit) return undefined;
  const known = await types(typeNames(hit.steps));
  const steps = hit.steps.map((s) => dress(s, known));
  if (steps.some((s) => !s)) return undefined;
  return {
    name: ref.name,
    title: hit.title,
    ...(hit.description !== undefined ? { description: hit.description } : {}),
    file: ref.file,
    dir: dirname(ref.file),
    origin: ref.origin,
    ...(ref.overrides ? { overrides: ref.overrides } : {}),
    sha256: hit.sha256,
    inputs: hit.inputs,
    steps: steps as StepDef[],
    outputs: hit.outputs,
    source: tableSource(hit.positions),
  };
}

export async function cacheRunbook(ref: RunbookRef, text: string, rb: Runbook, positions: PositionTable, env: NodeJS.ProcessEnv): Promise<void> {
  const entry = jsonCopy<CachedRunbook>({
    title: rb.title,
    ...(rb.description !== undefined ? { description: rb.description } : {}),
    sha256: rb.sha256,
    inputs: rb.inputs,
    steps: rb.steps.map(strip),
    outputs: rb.outputs,
    positions,
  });
  if (entry) await writeCached('runbook', await key(ref, text), entry, env);
}
