/** `ltc runbook …`: thin command implementations over the runbook API. */
import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { MAX_TEXT_FILE_BYTES } from '../config/read-text.js';
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { UsageError, toLtcError } from '../core/errors.js';
import { resumeRun, runRunbook, summaryOf, type RunSummary } from './api.js';
import { listRunHistory } from './history.js';
import { parseInputFlags } from './inputs.js';
import { listRunbooks } from './locate.js';
import { allSteps } from './model.js';
import { formatPlan } from './plan-text.js';
import { loadValidated, walkValidated } from './prepare.js';

export async function validateCommand(ref: string, ctx: Context): Promise<CommandResult> {
  const v = await loadValidated(ref, ctx);
  const rb = v.runbook;
  const called = [...walkValidated(v)].slice(1).map((r) => r.name);
  return {
    data: { runbook: rb.name, file: rb.file, steps: allSteps(rb).length, inputs: Object.keys(rb.inputs), calls: called },
    text: `${rb.file}: valid (${allSteps(rb).length} step${allSteps(rb).length === 1 ? '' : 's'}${called.length ? `; calls ${called.join(', ')}` : ''})`,
  };
}

function firstSentence(text: string): string {
  const s = text.trim().split(/(?<=\.)\s|\n/)[0]!;
  return s.length > 90 ? `${s.slice(0, 89)}…` : s;
}

function describeFile(file: string): { title?: string; description?: string } {
  try {
    // A FIFO or a device never ends: only a plain file of a sane size is read.
    const st = statSync(file);
    if (!st.isFile() || st.size > MAX_TEXT_FILE_BYTES) return { description: '(not a readable runbook file: see `ltc runbook validate`)' };
    // Only the two top-level scalars are read: no alias expansion, no conversion of the rest.
    const doc = parseDocument(readFileSync(file, 'utf8'));
    const name: unknown = doc.errors.length ? undefined : doc.get('name');
    const description: unknown = doc.errors.length ? undefined : doc.get('description');
    return {
      ...(typeof name === 'string' ? { title: name } : {}),
      ...(typeof description === 'string' ? { description: firstSentence(description) } : {}),
    };
  } catch {
    return { description: '(does not parse: see `ltc runbook validate`)' };
  }
}

export async function listCommand(ctx: Context): Promise<CommandResult> {
  const refs = await listRunbooks(ctx);
  const rows = refs.map((r) => ({ ...r, ...describeFile(r.file) }));
  const { c } = ctx.out;
  const width = Math.max(4, ...rows.map((r) => r.name.length));
  const originOf = (r: (typeof rows)[number]) => (r.overrides ? 'ops (overrides shipped)' : r.origin === 'ops' ? 'ops' : 'shipped');
  const originWidth = Math.max(...rows.map((r) => originOf(r).length));
  const paint = (r: (typeof rows)[number], text: string) => (r.overrides ? c.yellow(text) : r.origin === 'ops' ? text : c.dim(text));
  const text = rows.length
    ? rows
        .map((r) => {
          const origin = paint(r, originOf(r).padEnd(originWidth));
          return `${r.name.padEnd(width)}  ${origin}  ${r.title ?? ''}${r.description ? c.dim(`${r.title ? ' — ' : ''}${r.description}`) : ''}`;
        })
        .join('\n')
    : 'no runbooks found (put YAML files in runbooks/ next to ltc.config.yaml)';
  return { data: { runbooks: rows }, text };
}

export async function showCommand(ref: string, ctx: Context): Promise<CommandResult> {
  const v = await loadValidated(ref, ctx);
  const rb = v.runbook;
  const { c } = ctx.out;
  const inputs = Object.entries(rb.inputs).map(([name, d]) => {
    const bits = [d.type === 'enum' ? `one of ${(d.values ?? []).join('|')}` : d.type, d.required ? 'required' : 'optional'];
    if (d.default !== undefined) bits.push(`default ${d.secret ? '***' : JSON.stringify(d.default)}`);
    if (d.pattern) bits.push(`pattern ${d.pattern}`);
    if (d.secret) bits.push('secret');
    return `  ${name}: ${bits.join(', ')}${d.description ? c.dim(` — ${d.description}`) : ''}`;
  });
  const stepLine = (s: (typeof rb.steps)[number], pad: string) => {
    const controls = [
      s.when !== undefined ? `when ${String(s.when)}` : '',
      s.retries.count ? `retries ${s.retries.count}` : '',
      s.timeoutMs !== undefined ? `timeout ${formatDuration(s.timeoutMs)}` : '',
      s.continueOnError ? 'continue_on_error' : '',
    ].filter(Boolean);
    return `${pad}${s.id}${s.name !== s.id ? ` ${s.name}` : ''} ${c.dim(`[${s.type}]`)}${controls.length ? c.dim(` (${controls.join(', ')})`) : ''}`;
  };
  const steps = rb.steps.flatMap((s, i) => [stepLine(s, `  ${i + 1}. `), ...s.onFailure.map((f) => stepLine(f, '       on_failure: '))]);
  const text = [
    c.bold(`${rb.name}: ${rb.title}`) + c.dim(` (${rb.file}${rb.overrides ? `, overrides ${rb.overrides}` : ''})`),
    ...(rb.description ? [rb.description.trim()] : []),
    '',
    'inputs:',
    ...(inputs.length ? inputs : ['  (none)']),
    'steps:',
    ...steps,
    ...(Object.keys(rb.outputs).length ? ['outputs:', ...Object.entries(rb.outputs).map(([k, val]) => `  ${k}: ${String(val)}`)] : []),
  ].join('\n');
  const data = {
    runbook: rb.name,
    title: rb.title,
    description: rb.description ?? null,
    file: rb.file,
    origin: rb.origin,
    // A secret input's default is a secret value: never printed (the human text shows *** too).
    inputs: Object.fromEntries(Object.entries(rb.inputs).map(([name, d]) => [name, d.secret && d.default !== undefined ? { ...d, default: '***' } : d])),
    steps: allSteps(rb).map((s) => ({ id: s.id, name: s.name, type: s.type, ...(s.parent ? { on_failure_of: s.parent } : {}), value: s.raw })),
    outputs: rb.outputs,
  };
  return { data, text };
}

function outputsText(outputs: Record<string, unknown>): string[] {
  return Object.entries(outputs).map(([k, v]) => `  ${k}: ${String(v)}`);
}

function summaryText(s: RunSummary): string {
  const lines = [`run ${s.runId}: ${s.status}${s.failedStep ? ` at step ${s.failedStep}` : ''} (journal ${s.journal})`];
  if (Object.keys(s.outputs).length) lines.push('outputs:', ...outputsText(s.outputs));
  return lines.join('\n');
}

/** A failed run: with --json, the summary plus the error; otherwise the CLI prints the error. */
function failure(err: unknown, ctx: Context): CommandResult {
  const summary = summaryOf(err);
  const e = toLtcError(err);
  if (!ctx.options.json || !summary) {
    if (summary?.runId && !ctx.options.json && !e.hint?.includes('ltc runbook resume')) ctx.out.info(`run ${summary.runId}: resume it with \`ltc runbook resume ${summary.runId}\``);
    throw err;
  }
  return { data: { ...summary, error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } }, exitCode: e.exitCode };
}

export async function runCommand(ref: string, inputFlags: string[] | undefined, ctx: Context): Promise<CommandResult> {
  const inputs = parseInputFlags(inputFlags);
  try {
    const summary = await runRunbook(ref, inputs, ctx, { checkApprovals: true });
    if (summary.plan) return { data: { ...summary }, text: formatPlan(summary.plan, ctx.out.c) };
    return { data: { ...summary }, text: summaryText(summary) };
  } catch (err) {
    return failure(err, ctx);
  }
}

export async function resumeCommand(runId: string, inputFlags: string[] | undefined, ctx: Context): Promise<CommandResult> {
  if (ctx.options.dryRun) throw new UsageError('resume has no --dry-run', { hint: 'see what the run did with `ltc runbook runs --json`' });
  try {
    const summary = await resumeRun(runId, parseInputFlags(inputFlags), ctx, { checkApprovals: true });
    return { data: { ...summary }, text: summaryText(summary) };
  } catch (err) {
    return failure(err, ctx);
  }
}

export async function runsCommand(limit: string | undefined, ctx: Context): Promise<CommandResult> {
  const n = Number(limit ?? 20);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--limit "${limit}" is not a positive whole number`, { hint: 'e.g. --limit 10' });
  const runs = listRunHistory(await ctx.stateDir()).slice(0, n);
  const rows = runs.map((h) => ({
    runId: h.runId,
    runbook: h.header.runbook,
    status: h.status,
    actor: h.header.actor,
    startedAt: h.startedAt,
    ...(h.durationMs !== undefined ? { durationMs: h.durationMs } : {}),
    ...(h.failedStep ? { failedStep: h.failedStep } : {}),
    ...(h.openStep ? { openStep: h.openStep } : {}),
    ...(h.header.parent ? { parent: h.header.parent.runId } : {}),
    resumes: h.resumes.length,
    journal: h.journal,
  }));
  const { c } = ctx.out;
  const colour = (s: string) => (s === 'ok' ? c.green(s) : s === 'running' ? c.cyan(s) : c.red(s));
  const text = rows.length
    ? rows
        .map((r) => {
          const where = r.failedStep ? ` at ${r.failedStep}` : r.openStep ? ` in ${r.openStep}` : '';
          const extra = [r.durationMs !== undefined ? formatDuration(r.durationMs) : '', r.resumes ? `resumed ${r.resumes}×` : '', r.parent ? `called by ${r.parent}` : ''].filter(Boolean).join(', ');
          return `${r.runId}  ${colour(r.status)}${where}  ${r.runbook}  ${c.dim(`${r.startedAt} by ${r.actor}${extra ? `, ${extra}` : ''}`)}`;
        })
        .join('\n')
    : 'no runs yet';
  return { data: { runs: rows }, text };
}
