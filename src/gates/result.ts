/**
 * Recorded gate results: `.ltc/gates/<commit>.json` (one per commit, the last run) and the
 * logs in `.ltc/gates/<commit>/<gate>.log`. Readers for the deploy and go-live checks.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { GateConfig } from '../config/schema/gates.js';
import { processMasker } from '../core/masker.js';
import { byText } from '../core/text-order.js';

export type GateStatus = 'passed' | 'failed' | 'timed_out' | 'cancelled' | 'not_run' | 'interrupted';
/**
 * `running` while ltc works; `passed` when every required gate passed; `incomplete` when the
 * selected gates passed but `--only` left a required gate out; `failed`; `interrupted` (Ctrl-C).
 */
export type RunStatus = 'running' | 'passed' | 'incomplete' | 'failed' | 'interrupted';

export interface GateRecord {
  name: string;
  status: GateStatus;
  required: boolean;
  parallel: boolean;
  /** The command as run (after the shell wrapper), for humans; masked. */
  command: string;
  exitCode: number | null;
  durationMs: number;
  startedAt?: string;
  finishedAt?: string;
  /** Absolute path of the gate's whole output (masked). */
  log: string;
  /** Why it did not pass, in words (timeout, command not found, pwsh missing, …). */
  reason?: string;
  /** sha256 of the gate's definition, to tell when the config changed since this run. */
  definition: string;
}

export interface SetupRecord {
  status: 'passed' | 'failed' | 'skipped' | 'interrupted' | 'not_run';
  command?: string;
  durationMs: number;
  log?: string;
  reason?: string;
}

export interface GateResult {
  version: 1;
  commit: string;
  /** The release candidate tag, when run with --rc. */
  tag?: string;
  /** The ref it was resolved from (`refs/tags/…`, `refs/heads/main`, `HEAD`), when known. */
  ref?: string;
  repo: string;
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  durationMs: number;
  /** Time to resolve the ref to a commit (ls-remote). */
  resolveMs: number;
  /** Time to update the mirror and check the commit out into a clean work tree. */
  checkoutMs: number;
  /** Time from the first gate's start to the last gate's end. */
  gatesMs: number;
  setup: SetupRecord;
  /** `--only` given: the gates asked for. */
  only?: string[];
  failFast: boolean;
  actor?: string;
  gates: GateRecord[];
}

export function gatesDir(stateDir: string): string {
  return join(stateDir, 'gates');
}

export function resultFile(stateDir: string, commit: string): string {
  return join(gatesDir(stateDir), `${commit}.json`);
}

export function logDir(stateDir: string, commit: string): string {
  return join(gatesDir(stateDir), commit);
}

/** A stable fingerprint of what a gate runs (not of `parallel`/`required`, which do not change the outcome). */
export function gateDefinitionHash(gate: GateConfig): string {
  const canonical = JSON.stringify({
    run: gate.run,
    shell: gate.shell ?? null,
    cwd: gate.cwd ?? null,
    env: Object.entries(gate.env ?? {}).sort(([a], [b]) => byText(a, b)),
  });
  // node:crypto is loaded on first use (the engine preloads it while git runs): not at startup.
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** Writes the result atomically (temp file + rename), masked. */
export async function writeGateResult(stateDir: string, result: GateResult): Promise<string> {
  const file = resultFile(stateDir, result.commit);
  await mkdir(gatesDir(stateDir), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(processMasker.maskDeep(result), null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
  return file;
}

/** The same, synchronously: for a process 'exit' handler, where nothing asynchronous runs. */
export function writeGateResultSync(stateDir: string, result: GateResult): string {
  const file = resultFile(stateDir, result.commit);
  mkdirSync(gatesDir(stateDir), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(processMasker.maskDeep(result), null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}

function isGateResult(value: unknown): value is GateResult {
  const v = value as Partial<GateResult> | null;
  return !!v && typeof v === 'object' && typeof v.commit === 'string' && typeof v.status === 'string' && Array.isArray(v.gates);
}

/** The recorded result for a commit (full id), or undefined when none was recorded. */
export async function readGateResult(stateDir: string, commit: string): Promise<GateResult | undefined> {
  if (!/^[0-9a-f]{40,64}$/i.test(commit)) return undefined;
  let text: string;
  try {
    text = await readFile(resultFile(stateDir, commit), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isGateResult(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The most recently started recorded result of any commit. */
export async function latestGateResult(stateDir: string): Promise<GateResult | undefined> {
  let names: string[];
  try {
    names = (await readdir(gatesDir(stateDir))).filter((n) => /^[0-9a-f]{40,64}\.json$/i.test(n));
  } catch {
    return undefined;
  }
  let latest: GateResult | undefined;
  for (const name of names) {
    const r = await readGateResult(stateDir, name.slice(0, -5));
    if (r && (!latest || r.startedAt > latest.startedAt)) latest = r;
  }
  return latest;
}

export interface GreenCheck {
  green: boolean;
  /** Why not (or "green since …"), in words. */
  reason: string;
  result?: GateResult;
  /** Age of the result in ms (from its finish), when there is one. */
  ageMs?: number;
}

/**
 * Are the gates green for `commit`: a recorded run with status `passed`, finished no longer
 * than `maxAgeMs` ago, and (when `gates` is given: the current config) every configured
 * required gate passed with the same definition as now.
 */
export async function checkGatesGreen(
  stateDir: string,
  commit: string,
  maxAgeMs: number,
  opts: { gates?: readonly GateConfig[]; now?: number } = {},
): Promise<GreenCheck> {
  const short = commit.slice(0, 12);
  const result = await readGateResult(stateDir, commit);
  if (!result) return { green: false, reason: `no gate result recorded for commit ${short}` };
  const ageMs = (opts.now ?? Date.now()) - Date.parse(result.finishedAt ?? result.startedAt);
  if (result.status !== 'passed') return { green: false, reason: `the last gate run for ${short} ${describeStatus(result.status)}`, result, ageMs };
  if (!(ageMs <= maxAgeMs)) {
    return { green: false, reason: `the gates for ${short} passed ${formatAge(ageMs)} ago, longer than the allowed ${formatAge(maxAgeMs)}`, result, ageMs };
  }
  for (const gate of opts.gates ?? []) {
    if (!gate.required) continue;
    const rec = result.gates.find((g) => g.name === gate.name);
    if (!rec || rec.status !== 'passed') {
      return { green: false, reason: `gate ${gate.name} has not passed for ${short}`, result, ageMs };
    }
    if (rec.definition !== gateDefinitionHash(gate)) {
      return { green: false, reason: `gate ${gate.name} changed in the config since it passed for ${short}`, result, ageMs };
    }
  }
  return { green: true, reason: `gates passed for ${short} ${formatAge(ageMs)} ago`, result, ageMs };
}

/** `checkGatesGreen(...).green`: true only for a recent, passed, complete run. */
export async function gatesGreen(stateDir: string, commit: string, maxAgeMs: number, opts: { gates?: readonly GateConfig[] } = {}): Promise<boolean> {
  return (await checkGatesGreen(stateDir, commit, maxAgeMs, opts)).green;
}

export function describeStatus(status: RunStatus): string {
  switch (status) {
    case 'passed':
      return 'passed';
    case 'failed':
      return 'failed';
    case 'incomplete':
      return 'ran only some gates (--only)';
    case 'interrupted':
      return 'was interrupted';
    case 'running':
      return 'is still running (or ltc was killed)';
  }
}

export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return 'an unknown time';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86_400) return `${(s / 3600).toFixed(1).replace(/\.0$/, '')}h`;
  return `${(s / 86_400).toFixed(1).replace(/\.0$/, '')}d`;
}
