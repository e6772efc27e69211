/**
 * `ltc golive check | signoff | waive | status`. The items are the `check` steps of the golive
 * runbook (runbooks/golive.yaml, or the ops repo's own runbooks/golive.yaml): the procedure the
 * release manager reads is the one that runs.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { ConfigError, UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { PHASES, checkSpec, type GoliveItem, type ItemResult, type ItemStatus } from './items.js';
import { checkProbeName, evaluateItem } from './evaluate.js';
import { readSignoffs, signoffsPath, updateSignoffs } from './signoffs.js';
import { plainLine, printableLine } from '../core/printable.js';

export interface LoadedItems {
  items: GoliveItem[];
  file: string;
  origin: string;
}

export async function loadItems(ctx: Context): Promise<LoadedItems> {
  const { locateRunbook } = await import('../runbook/locate.js');
  const { readRunbook } = await import('../runbook/read.js');
  const ref = await locateRunbook('golive', ctx);
  const rb = await readRunbook(ref);
  const items: GoliveItem[] = [];
  const seen = new Set<string>();
  for (const [i, step] of rb.steps.entries()) {
    if (step.type !== 'check') continue;
    const spec = checkSpec.parse(step.raw);
    const where = `${rb.file}: steps[${i}] (${step.id})`;
    if (seen.has(spec.item)) throw new ConfigError(`${where}: item ${spec.item} is listed twice`, { hint: 'every go-live item has one id' });
    seen.add(spec.item);
    const item: GoliveItem = { ...spec, title: step.name, stepId: step.id };
    checkProbeName(item, where);
    items.push(item);
  }
  if (items.length === 0) throw new ConfigError(`${rb.file} has no check steps`, { hint: 'a go-live runbook lists its items as steps with check: { item, phase, decided_by, … }' });
  return { items, file: rb.file, origin: ref.origin };
}

function findItem(items: GoliveItem[], id: string, flag = 'item'): GoliveItem {
  const found = items.find((i) => i.item === id);
  if (!found) {
    throw new UsageError(`unknown go-live ${flag} "${id}"`, {
      hint: didYouMean(id, items.map((i) => i.item)) ?? `items: ${items.map((i) => i.item).join(', ')}`,
    });
  }
  return found;
}

async function validRc(ctx: Context, rc: string | undefined): Promise<string> {
  if (!rc) throw new UsageError('--rc <tag> is required', { hint: 'the release candidate tag, e.g. --rc rc-2026-03-01' });
  const loaded = await ctx.config();
  if (!new RegExp(loaded.config.app.tag_pattern).test(rc)) {
    throw new UsageError(`--rc ${JSON.stringify(rc)} does not match app.tag_pattern ${loaded.config.app.tag_pattern}`, { hint: 'give a release candidate tag such as rc-2026-03-01' });
  }
  return rc;
}

/** Runs `fn` over items with at most `limit` at once; results keep the input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}

export interface CheckOptions {
  rc?: string;
  phase?: string;
  item?: string;
  report?: string;
  sendTestAlert?: boolean;
  /** Run the items one after the other (the bench's baseline). */
  sequential?: boolean;
}

export interface CheckRecord {
  rc: string;
  commit: string | null;
  environment: string;
  time: string;
  durationMs: number;
  go: boolean;
  counts: Record<ItemStatus, number>;
  runbook: string;
  items: ItemResult[];
}

export async function goliveCheck(opts: CheckOptions, ctx: Context): Promise<CommandResult> {
  const rc = await validRc(ctx, opts.rc);
  let phase: number | undefined;
  if (opts.phase !== undefined) {
    phase = Number(opts.phase);
    if (!Number.isInteger(phase) || phase < 1 || phase > 4) throw new UsageError(`--phase ${JSON.stringify(opts.phase)} is not a phase`, { hint: '--phase takes 1, 2, 3 or 4' });
  }
  const loadedItems = await loadItems(ctx);
  let items = loadedItems.items;
  if (opts.item) items = [findItem(items, opts.item)];
  if (phase) items = items.filter((i) => i.phase === phase);
  const signoffs = await readSignoffs(await ctx.stateDir());
  const { openGoliveScope } = await import('./scope.js');
  const scope = await openGoliveScope(ctx, { rc, sendTestAlert: opts.sendTestAlert ?? false });
  const started = Date.now();
  let results: ItemResult[];
  let commit: string | null = null;
  try {
    commit = await scope.commit().catch(() => null);
    // Costly checks first (the table keeps the runbook's order).
    const { PROBE_COST } = await import('./probes.js');
    const cost = (i: GoliveItem) => (i.probe ? (PROBE_COST[i.probe] ?? 1) : 0);
    const order = items.map((item, index) => ({ item, index })).sort((a, b) => cost(b.item) - cost(a.item) || a.index - b.index);
    const done = await mapBounded(order, opts.sequential ? 1 : scope.golive.concurrency, (o) => evaluateItem(o.item, scope, signoffs));
    results = new Array<ItemResult>(items.length);
    order.forEach((o, k) => (results[o.index] = done[k]!));
  } finally {
    await scope.close();
  }
  const counts = { passed: 0, failed: 0, needs_signoff: 0, waived: 0, not_applicable: 0 } as Record<ItemStatus, number>;
  for (const r of results) counts[r.status]++;
  const blockers = results.filter((r) => r.blocking && (r.status === 'failed' || r.status === 'needs_signoff'));
  const record: CheckRecord = {
    rc,
    commit,
    environment: scope.environment,
    time: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    go: blockers.length === 0,
    counts,
    runbook: loadedItems.file,
    items: results,
  };
  const dir = join(scope.stateDir, 'golive', 'checks');
  await mkdir(dir, { recursive: true });
  if (!opts.item && !phase) await writeFile(join(dir, `${rc}.json`), JSON.stringify(record, null, 2) + '\n');
  let reportFile: string | undefined;
  if (opts.report) {
    reportFile = resolve(ctx.cwd, opts.report);
    const { renderReport } = await import('./report.js');
    await writeFile(reportFile, ctx.masker.mask(renderReport(record, await readSignoffs(scope.stateDir))));
  }
  const text = renderTable(record, ctx, phase, opts.item) + (reportFile ? `\nreport: ${reportFile}\n` : '');
  return {
    data: { ...record, blockers: blockers.map((b) => b.item), ...(reportFile ? { report: reportFile } : {}) },
    text,
    exitCode: record.go ? 0 : 1,
  };
}

const LABEL: Record<ItemStatus, string> = {
  passed: 'passed',
  failed: 'FAILED',
  needs_signoff: 'needs sign-off',
  waived: 'waived',
  not_applicable: 'n/a',
};

function renderTable(r: CheckRecord, ctx: Context, phase?: number, item?: string): string {
  const c = ctx.out.c;
  const color = (s: ItemStatus, t: string) => (s === 'passed' ? c.green(t) : s === 'failed' ? c.red(t) : s === 'needs_signoff' ? c.yellow(t) : c.dim(t));
  const lines: string[] = [`go-live check for ${r.rc}${r.commit ? ` (${r.commit.slice(0, 12)})` : ''} on ${r.environment} — ${r.runbook}`];
  const waived = r.items.filter((i) => i.status === 'waived');
  if (waived.length) {
    lines.push('', c.yellow('WAIVERS:'));
    for (const w of waived) lines.push(`  ${w.item}: ${printableLine(`by ${w.waiver?.by} until ${w.waiver?.expires}: ${w.waiver?.reason}`)}`);
  }
  const width = Math.max(...r.items.map((i) => i.item.length), 4);
  for (const p of [1, 2, 3, 4]) {
    const list = r.items.filter((i) => i.phase === p);
    if (!list.length) continue;
    lines.push('', c.bold(PHASES[p]!));
    for (const i of list) {
      const status = color(i.status, LABEL[i.status].padEnd(14));
      lines.push(`  ${status} ${i.item.padEnd(width)}  ${i.title}${i.blocking ? '' : ' (not blocking)'}`);
      for (const e of i.evidence.slice(0, 4)) lines.push(`  ${' '.repeat(15)}${' '.repeat(width)}    ${c.dim(e)}`);
      if (i.fix && (i.status === 'failed' || i.status === 'needs_signoff')) lines.push(`  ${' '.repeat(15)}${' '.repeat(width)}    fix: ${i.fix}`);
    }
  }
  const n = r.counts;
  lines.push('', `${n.passed} passed, ${n.failed} failed, ${n.needs_signoff} need sign-off, ${n.waived} waived, ${n.not_applicable} not applicable (${(r.durationMs / 1000).toFixed(1)}s)`);
  const scopeNote = phase || item ? ` (only ${item ? `item ${item}` : `phase ${phase}`} checked)` : '';
  lines.push(r.go ? c.green(`GO: ${r.rc} may go live${scopeNote}`) : c.red(`NO-GO: ${r.items.filter((i) => i.blocking && (i.status === 'failed' || i.status === 'needs_signoff')).length} blocking item(s) open${scopeNote}`));
  return lines.join('\n') + '\n';
}

export interface SignoffOptions {
  rc?: string;
  by?: string;
  note?: string;
}

async function byName(by: string | undefined, cmd: string): Promise<string> {
  if (!by || !by.trim()) throw new UsageError(`${cmd} needs --by <name>: who signs`, { hint: `e.g. ${cmd} … --by "Jane Doe (release manager)"` });
  return plainLine('--by', by.trim());
}

export async function goliveSignoff(id: string, opts: SignoffOptions, ctx: Context): Promise<CommandResult> {
  const rc = await validRc(ctx, opts.rc);
  const by = await byName(opts.by, 'ltc golive signoff');
  if (opts.note !== undefined) plainLine('--note', opts.note);
  const { items } = await loadItems(ctx);
  const item = findItem(items, id);
  if (item.decided_by === 'check') {
    throw new UsageError(`${id} is an automated item: it is decided by its check, not by a sign-off`, {
      hint: `run ltc golive check --rc ${rc} --item ${id}; if it must pass anyway, record a waiver: ltc golive waive ${id} --rc ${rc} --by <name> --reason … --expires <date>`,
    });
  }
  const stateDir = await ctx.stateDir();
  const { currentActor } = await import('../audit/actor.js');
  const actor = await currentActor();
  const time = new Date().toISOString();
  await updateSignoffs(stateDir, (f) => {
    f.signoffs.push({ item: id, rc, by, actor, time, ...(opts.note ? { note: opts.note } : {}) });
  });
  const { appendAudit } = await import('../audit/log.js');
  await appendAudit(stateDir, { action: 'golive.signoff', outcome: 'ok', rc, details: { item: id, by, ...(opts.note ? { note: opts.note } : {}) } });
  return { data: { item: id, rc, by, actor, time, file: signoffsPath(stateDir) }, text: `signed off ${id} for ${rc} by ${by} (run by ${actor}) in ${signoffsPath(stateDir)}\n` };
}

export interface WaiveOptions extends SignoffOptions {
  reason?: string;
  expires?: string;
}

export async function goliveWaive(id: string, opts: WaiveOptions, ctx: Context): Promise<CommandResult> {
  const rc = await validRc(ctx, opts.rc);
  const by = await byName(opts.by, 'ltc golive waive');
  if (!opts.reason?.trim()) throw new UsageError('ltc golive waive needs --reason <text>: why the item may go live failing', { hint: 'e.g. --reason "cert renewal scheduled, CAB-123"' });
  plainLine('--reason', opts.reason);
  if (!opts.expires) throw new UsageError('ltc golive waive needs --expires <date>: a waiver never lasts for ever', { hint: 'e.g. --expires 2026-03-08 or --expires 2026-03-08T18:00Z' });
  const exp = Date.parse(opts.expires);
  if (Number.isNaN(exp)) throw new UsageError(`--expires ${JSON.stringify(opts.expires)} is not a date`, { hint: 'give an ISO date such as 2026-03-08 or 2026-03-08T18:00:00Z' });
  if (exp <= Date.now()) throw new UsageError(`--expires ${opts.expires} is in the past: the waiver would never count`, { hint: 'give a date after now' });
  const { items } = await loadItems(ctx);
  findItem(items, id);
  const stateDir = await ctx.stateDir();
  const { currentActor } = await import('../audit/actor.js');
  const actor = await currentActor();
  const time = new Date().toISOString();
  const expires = new Date(exp).toISOString();
  await updateSignoffs(stateDir, (f) => {
    f.waivers.push({ item: id, rc, by, actor, time, reason: opts.reason!.trim(), expires });
  });
  const { appendAudit } = await import('../audit/log.js');
  await appendAudit(stateDir, { action: 'golive.waive', outcome: 'ok', rc, details: { item: id, by, reason: opts.reason!.trim(), expires } });
  return { data: { item: id, rc, by, actor, time, expires, file: signoffsPath(stateDir) }, text: `waived ${id} for ${rc} until ${expires} (by ${by}, run by ${actor})\n` };
}

export async function goliveStatus(ctx: Context): Promise<CommandResult> {
  const stateDir = await ctx.stateDir();
  const dir = join(stateDir, 'golive', 'checks');
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort();
  const checks: Omit<CheckRecord, 'items'>[] = [];
  for (const f of files) {
    const r = JSON.parse(await readFile(join(dir, f), 'utf8')) as CheckRecord;
    const { items: _items, ...rest } = r;
    checks.push(rest);
  }
  const signoffs = await readSignoffs(stateDir);
  if (checks.length === 0) return { data: { checks, signoffs: signoffs.signoffs.length, waivers: signoffs.waivers.length }, text: 'no go-live check recorded yet: run ltc golive check --rc <tag> --env <env>\n' };
  const lines = checks.map((c) => {
    const n = c.counts;
    return `${c.rc.padEnd(18)} ${c.environment.padEnd(10)} ${c.go ? 'GO   ' : 'NO-GO'} ${c.time}  ${n.passed} passed, ${n.failed} failed, ${n.needs_signoff} need sign-off, ${n.waived} waived`;
  });
  return {
    data: { checks, signoffs: signoffs.signoffs.length, waivers: signoffs.waivers.length },
    text: `latest go-live check per RC:\n${lines.join('\n')}\n${signoffs.signoffs.length} sign-off(s), ${signoffs.waivers.length} waiver(s) in ${signoffsPath(stateDir)}\n`,
  };
}
