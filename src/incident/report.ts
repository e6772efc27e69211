/** ltc incident postmortem and ltc status-page build. */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CommandResult } from '../cli/define.js';
import type { LoadedConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs-atomic.js';
import type { AuditEntry } from '../audit/log.js';
import type { RevisionRecord } from '../targets/target.js';
import { revisionsOf, runningFrom } from './cli.js';
import { changeIncident, readAll, readIncident, sortIncidents, type Incident } from './store.js';
import { escapeHtml, escapeMarkdown, loadTemplate, render } from './template.js';
import { byText } from '../core/text-order.js';

export interface TimelineRow {
  time: string;
  source: string;
  event: string;
  /** Before the impact began (the lookback window). */
  before: boolean;
}

/** Audit actions the timeline shows (deploys/rollbacks/restarts come from the revisions logs). */
const AUDIT_ACTIONS = /^(gates\.run|secret\.rotate|secret\.rotate\.undo|secret\.rollback|lock\.takeover|lock\.release|deploy\.skip_gates|app\.stop|backup\.create|backup\.verify|watch(\..*)?)$/;

/** `2026-03-01 09:41:07` (UTC; the caller says so). */
function short(t: string): string {
  return t.replace(/(\.\d{3})?Z$/, '').replace('T', ' ');
}

function revisionText(r: RevisionRecord): string {
  const dur = ` in ${formatDuration(r.durationMs)}`;
  const who = ` by ${r.actor}`;
  switch (r.action) {
    case 'deploy':
      return r.outcome === 'ok'
        ? `deploy ${r.rc ?? r.release} → ${r.release} ok${dur}${who}`
        : r.outcome === 'rolled_back'
          ? `deploy ${r.rc ?? r.release} FAILED${r.failedPhase ? ` at ${r.failedPhase}` : ''}, rolled back automatically to ${r.rolledBackTo}${dur}${who}`
          : `deploy ${r.rc ?? r.release} ${r.outcome}${r.failedPhase ? ` at ${r.failedPhase}` : ''}${dur}${who}`;
    case 'rollback':
      return `rollback ${r.from ?? '?'} → ${r.release ?? '?'} ${r.outcome}${dur}${who}`;
    case 'restart':
      return `restart of ${r.release ?? '?'} ${r.outcome}${dur}${who}`;
    case 'stop':
      return `app stopped (${r.release ?? '?'})${who}`;
  }
}

function auditText(a: AuditEntry): string {
  const d = a.details ?? {};
  const s = (k: string) => (typeof d[k] === 'string' || typeof d[k] === 'number' ? String(d[k]) : undefined);
  switch (a.action) {
    case 'gates.run':
      return `gates ${s('status') ?? a.outcome} for ${a.rc ?? s('ref') ?? s('commit')?.slice(0, 12) ?? '?'}${s('durationMs') ? ` in ${formatDuration(Number(s('durationMs')))}` : ''} by ${a.actor}`;
    case 'secret.rotate':
      return `secret ${a.secret ?? '?'} rotation ${a.outcome}${a.version ? ` (version ${a.version})` : ''} by ${a.actor}`;
    case 'lock.takeover':
      return `deploy lock taken over from a dead holder by ${a.actor}`;
    case 'watch':
      if (a.outcome === 'started') return `watch started${s('release') ? ` on ${s('release')}` : ''} by ${a.actor}`;
      return `watch ${s('result') ?? a.outcome}${s('figure') ? `: ${s('figure')} ${s('value')} against ${s('threshold')}` : ''}${s('reason') && !s('figure') ? `: ${s('reason')}` : ''} by ${a.actor}`;
    default:
      return `${a.action} ${a.outcome}${a.secret ? ` ${a.secret}` : ''}${a.rc ? ` ${a.rc}` : ''} by ${a.actor}`;
  }
}

export interface Timeline {
  from: string;
  to: string;
  rows: TimelineRow[];
  /** Rows that came from the revisions logs and the audit log (not the incident's own). */
  recorded: number;
  revisions: Array<RevisionRecord>;
}

/** The incident's own events joined with every recorded operation from `lookback` before it began until it closed. */
export async function buildTimeline(i: Incident, loaded: LoadedConfig, stateDir: string, now = new Date()): Promise<Timeline> {
  const lookback = parseDuration(loaded.config.incidents.lookback);
  const start = Date.parse(i.startedAt);
  const from = Math.min(start, Date.parse(i.openedAt)) - lookback;
  const to = i.closedAt ? Date.parse(i.closedAt) : now.getTime();
  const inSpan = (t: string) => {
    const v = Date.parse(t);
    return v >= from && v <= to;
  };
  const rows: TimelineRow[] = [];
  const revisions: RevisionRecord[] = [];
  for (const name of Object.keys(loaded.config.environments)) {
    for (const r of await revisionsOf(loaded, name)) {
      if (!inSpan(r.time)) continue;
      revisions.push(r);
      rows.push({ time: r.time, source: `${name} revisions.log`, event: revisionText(r), before: Date.parse(r.time) < start });
    }
  }
  const { readAudit } = await import('../audit/log.js');
  for (const a of await readAudit(stateDir)) {
    if (!AUDIT_ACTIONS.test(a.action) || !inSpan(a.time)) continue;
    if (a.action === 'secret.rotate' && a.outcome === 'started') continue;
    rows.push({ time: a.time, source: `audit${a.environment ? ` (${a.environment})` : ''}`, event: auditText(a), before: Date.parse(a.time) < start });
  }
  const recorded = rows.length;
  for (const e of i.events) {
    if (e.kind === 'postmortem') continue;
    const event =
      e.kind === 'open'
        ? `incident opened (sev ${i.severity}) by ${e.actor}`
        : e.kind === 'note'
          ? `note by ${e.actor}: ${e.text}`
          : e.kind === 'update'
            ? `status → ${e.status} by ${e.actor}${e.text ? `: ${e.text}` : ''}${e.posts?.some((p) => !p.ok) ? ' (a webhook post failed)' : ''}`
            : e.kind === 'rollback'
              ? `${e.text ?? 'rollback'} (by ${e.actor})`
              : `incident closed by ${e.actor}`;
    rows.push({ time: e.time, source: 'incident', event, before: false });
  }
  if (i.startedAt !== i.openedAt) rows.push({ time: i.startedAt, source: 'incident', event: 'impact began (--started)', before: false });
  rows.sort((a, b) => byText(a.time, b.time));
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), rows, recorded, revisions };
}

export interface Measures {
  detectMs: number;
  mitigateMs: number | null;
  mitigatedBy: string | null;
  resolveMs: number | null;
}

export function measure(i: Incident, revisions: readonly RevisionRecord[]): Measures {
  const start = Date.parse(i.startedAt);
  const mitigations: Array<{ t: number; by: string }> = [];
  for (const r of revisions) {
    const t = Date.parse(r.time);
    if (t < start || (i.environment && r.environment !== i.environment)) continue;
    if (r.action === 'rollback' && r.outcome === 'ok') mitigations.push({ t, by: `rollback to ${r.release} at ${short(r.time)}` });
    if (r.action === 'deploy' && r.outcome === 'rolled_back') mitigations.push({ t, by: `automatic rollback to ${r.rolledBackTo} at ${short(r.time)}` });
  }
  for (const e of i.events) {
    if (e.kind === 'update' && (e.status === 'monitoring' || e.status === 'resolved')) mitigations.push({ t: Date.parse(e.time), by: `status ${e.status} at ${short(e.time)}` });
  }
  mitigations.sort((a, b) => a.t - b.t);
  const m = mitigations[0];
  return {
    detectMs: Math.max(0, Date.parse(i.openedAt) - start),
    mitigateMs: m ? m.t - start : null,
    mitigatedBy: m ? m.by : null,
    resolveMs: i.resolvedAt ? Date.parse(i.resolvedAt) - start : null,
  };
}

function human(ms: number | null): string {
  if (ms === null) return 'not yet';
  if (ms < 60_000) return formatDuration(ms);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.round((ms % 3_600_000) / 60_000);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m`;
}

export async function incidentPostmortem(id: string, opts: { out?: string }, ctx: Context): Promise<CommandResult> {
  const stateDir = await ctx.stateDir();
  const i = await readIncident(stateDir, id);
  const out = opts.out ? resolve(ctx.cwd, opts.out) : undefined;
  if (out && existsSync(out)) {
    throw new UsageError(`${out} exists: a post-mortem being written by hand is never overwritten`, { hint: 'remove it first or choose another --out file' });
  }
  const loaded = await ctx.config();
  const tl = await buildTimeline(i, loaded, stateDir);
  const m = measure(i, tl.revisions);
  const trigger = [...tl.revisions]
    .filter((r) => r.action === 'deploy' && Date.parse(r.time) <= Date.parse(i.startedAt) && (!i.environment || r.environment === i.environment))
    .at(-1);
  const md = (s: string) => escapeMarkdown(s);
  // escapeMarkdown already escapes | (a table cell needs nothing more).
  const cell = md;
  const table = [
    '| Time (UTC) | Source | Event |',
    '|---|---|---|',
    ...tl.rows.map((r) => `| ${short(r.time)}${r.before ? ' (before)' : ''} | ${cell(r.source)} | ${cell(r.event)} |`),
  ];
  if (tl.recorded === 0) table.push('', `_No deploy, rollback, gate run, secret rotation or lock takeover was recorded between ${short(tl.from)} and ${short(tl.to)}._`);
  const { text, file: templateFile } = await loadTemplate('postmortem.md', loaded.dir);
  const doc = render(
    text,
    {
      id: i.id,
      title: md(i.title),
      severity: String(i.severity),
      environment: md(i.environment ?? 'all environments'),
      release: md(i.release ?? 'none recorded'),
      commander: md(i.commander),
      impact: md(i.impact ?? '_TODO: who was affected, how, for how long_'),
      started: short(i.startedAt),
      opened: short(i.openedAt),
      resolved: i.resolvedAt ? `${short(i.resolvedAt)} UTC` : 'not yet',
      closed: i.closedAt ? `${short(i.closedAt)} UTC` : 'not yet',
      ttd: human(m.detectMs),
      ttm: human(m.mitigateMs) + (m.mitigatedBy ? ` (${md(m.mitigatedBy)})` : ''),
      ttr: human(m.resolveMs),
      trigger: trigger
        ? `Suggested from the records: ${md(revisionText(trigger))} at ${short(trigger.time)}, the last deploy before the impact began. Confirm or correct.`
        : '_TODO: no deploy was recorded before the impact began; what triggered it?_',
      window: `${short(tl.from)} – ${short(tl.to)}`,
      timeline: table.join('\n'),
      generated: short(new Date().toISOString()),
    },
    (s) => s,
  );
  const data = { id: i.id, file: out ?? null, template: templateFile, timeline: tl.rows, recorded: tl.recorded, ...m };
  if (!out) return { data: { ...data, markdown: doc }, text: doc };
  await writeFileAtomic(out, doc, 0o644);
  // The go-live item incidents.reviewed reads this: the post-mortem of the incident and where it is.
  await changeIncident(stateDir, i.id, (r) => {
    r.events.push({ time: new Date().toISOString(), actor: 'ltc', kind: 'postmortem', file: out });
  });
  const { appendAudit } = await import('../audit/log.js');
  await appendAudit(stateDir, { action: 'incident.postmortem', outcome: 'ok', ...(i.environment ? { environment: i.environment } : {}), details: { incident: i.id, file: out } }).catch(
    (err: unknown) => ctx.out.warn(`could not write the audit log: ${(err as Error).message}`),
  );
  return { data, text: `wrote ${out} (${tl.rows.length} timeline rows, ${tl.recorded} from the revisions and audit logs)\n` };
}

const STATE_LABEL: Record<number, string> = { 1: 'Major outage', 2: 'Partial outage', 3: 'Degraded performance', 4: 'Degraded performance' };

export async function statusPageBuild(opts: { out?: string }, ctx: Context): Promise<CommandResult> {
  if (!opts.out) throw new UsageError('ltc status-page build needs --out <dir>', { hint: 'e.g. --out public/status (writes index.html there)' });
  const loaded = await ctx.config();
  const stateDir = await ctx.stateDir();
  const all = sortIncidents(await readAll(stateDir));
  const now = Date.now();
  const recent = all.filter((i) => i.state === 'open' || now - Date.parse(i.openedAt) <= 90 * 86_400_000);
  const h = escapeHtml;
  const envs: string[] = [];
  const states: Record<string, string> = {};
  for (const name of Object.keys(loaded.config.environments)) {
    const open = all.filter((i) => i.state === 'open' && i.status !== 'resolved' && (i.environment === name || i.environment === null));
    const worst = Math.min(5, ...open.map((i) => i.severity));
    const label = worst <= 4 ? STATE_LABEL[worst]! : 'Operational';
    states[name] = label;
    const cls = worst <= 2 ? 'bad' : worst <= 4 ? 'warn' : 'ok';
    const running = runningFrom(await revisionsOf(loaded, name)).rc;
    envs.push(
      `<tr class="${cls}"><th scope="row">${h(name)}</th><td>${h(label)}</td><td>${open.length > 0 ? open.map((i) => `<a href="#${h(i.id)}">${h(i.title)}</a>`).join('<br>') : '—'}</td><td>${h(running ?? '—')}</td></tr>`,
    );
  }
  const incidents = recent.map((i) => {
    const updates = i.events
      .filter((e) => e.kind === 'open' || e.kind === 'update' || e.kind === 'close')
      .reverse()
      .map((e) => {
        const label = e.kind === 'close' ? 'Closed' : (e.status ?? 'investigating').replace(/^./, (c) => c.toUpperCase());
        const body = e.kind === 'open' ? (i.impact ?? 'We are investigating.') : e.kind === 'close' ? 'This incident is closed.' : (e.text ?? `Status: ${e.status}.`);
        return `<li><strong>${h(label)}</strong> <time datetime="${h(e.time)}">${h(short(e.time))} UTC</time><p>${h(body)}</p></li>`;
      });
    const state = i.state === 'open' ? (i.status === 'resolved' ? 'Resolved' : 'Ongoing') : 'Resolved';
    return (
      `<article id="${h(i.id)}" class="${i.state === 'open' && i.status !== 'resolved' ? 'open' : 'closed'}"><h3>${h(i.title)}</h3>` +
      `<p class="meta">${h(i.id)} · ${h(state)} · severity ${i.severity} · ${h(i.environment ?? 'all environments')} · since ${h(short(i.startedAt))} UTC${i.resolvedAt ? ` · resolved ${h(short(i.resolvedAt))} UTC` : ''}</p>` +
      `<ol class="updates">${updates.join('')}</ol></article>`
    );
  });
  const { text } = await loadTemplate('status-page.html', loaded.dir);
  const page = render(
    text,
    {
      title: loaded.config.incidents.status_page_title,
      generated: short(new Date().toISOString()) + ' UTC',
      environments: envs.join('\n'),
      incidents: incidents.length > 0 ? incidents.join('\n') : '<p>No incidents in the last 90 days.</p>',
    },
    escapeHtml,
  );
  const dir = resolve(ctx.cwd, opts.out);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'index.html');
  await writeFileAtomic(file, page, 0o644);
  return {
    data: { file, environments: states, incidents: recent.map((i) => i.id) },
    text: `wrote ${file}: ${Object.entries(states).map(([n, s]) => `${n} ${s}`).join(', ') || 'no environments'}; ${recent.length} incident(s) of the last 90 days\n`,
  };
}
