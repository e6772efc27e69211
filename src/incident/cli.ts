/** ltc incident open/note/update/close/list/show: the records, the audit entries, the status posts. */
import type { CommandResult } from '../cli/define.js';
import type { LoadedConfig } from '../config/load.js';
import type { IncidentsConfig } from '../config/schema/incidents.js';
import type { Context } from '../core/context.js';
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import type { RevisionRecord } from '../targets/target.js';
import { contactLine, contactProblems, escalationFor, tierLabel } from './contacts.js';
import { postWebhook } from './notify.js';
import {
  changeIncident,
  createIncident,
  incidentFile,
  newIncident,
  readAll,
  readIncident,
  sortIncidents,
  STATUSES,
  type Incident,
  type IncidentEvent,
  type IncidentStatus,
  type WebhookPost,
} from './store.js';
import { loadTemplate, render } from './template.js';
import { plainLine } from '../core/printable.js';

export interface OpenOptions {
  sev?: string;
  title?: string;
  commander?: string;
  impact?: string;
  started?: string;
  security?: boolean;
}
export interface UpdateOptions {
  status?: string;
  message?: string;
  impact?: string;
  security?: boolean;
}

export async function actor(): Promise<string> {
  return (await import('../audit/actor.js')).currentActor();
}

export async function audit(ctx: Context, stateDir: string, action: string, incident: Incident, details: Record<string, unknown>): Promise<void> {
  const { appendAudit } = await import('../audit/log.js');
  await appendAudit(stateDir, {
    action,
    outcome: 'ok',
    ...(incident.environment ? { environment: incident.environment } : {}),
    details: { incident: incident.id, ...details },
  }).catch((err: unknown) => ctx.out.warn(`could not write the audit log: ${(err as Error).message}`));
}

function settings(loaded: LoadedConfig): IncidentsConfig {
  return loaded.config.incidents;
}

/** The release live in an environment according to its revisions log (null when never deployed or stopped). */
export function runningFrom(revisions: readonly RevisionRecord[]): { release: string | null; rc: string | null } {
  let state: { release: string | null; rc: string | null } = { release: null, rc: null };
  for (const r of revisions) {
    if (r.action === 'stop' && r.outcome === 'ok') state = { release: null, rc: null };
    else if (r.outcome === 'ok' && r.release) state = { release: r.release, rc: r.rc ?? rcOf(r.release) };
    else if (r.outcome === 'rolled_back' && r.rolledBackTo) state = { release: r.rolledBackTo, rc: rcOf(r.rolledBackTo) };
  }
  return state;
}

/** Release folder names are `<rc>-<UTC timestamp>`. */
function rcOf(release: string): string | null {
  const m = /^(.*)-\d{8}T\d{6}(?:\.\d{3})?Z$/.exec(release);
  return m ? m[1]! : null;
}

/** The environment named by --env / LTC_ENV (an unknown one is an error), else the default one, else none. */
async function chosenEnvironment(ctx: Context, loaded: LoadedConfig): Promise<string | null> {
  const named = ctx.options.env ?? (ctx.env.LTC_ENV || undefined);
  if (named) return loaded.environment(named).name;
  try {
    return loaded.environment(undefined).name;
  } catch {
    return null;
  }
}

export async function revisionsOf(loaded: LoadedConfig, name: string): Promise<RevisionRecord[]> {
  const env = loaded.config.environments[name];
  if (!env?.target) return [];
  const { openTarget } = await import('../targets/index.js');
  return openTarget(name, env, loaded).readRevisions();
}

function parseSeverity(value: string | undefined): number {
  if (value === undefined) throw new UsageError('ltc incident open needs --sev <1-4>', { hint: '1 = critical (all users, no workaround) … 4 = minor; e.g. --sev 2' });
  if (!/^[1-4]$/.test(value.trim())) {
    throw new UsageError(`--sev ${JSON.stringify(value)} is not a severity: give 1, 2, 3 or 4`, { hint: '1 = critical (all users, no workaround), 2 = major, 3 = minor with workaround, 4 = cosmetic/low' });
  }
  return Number(value.trim());
}

function parseStatus(value: string | undefined): IncidentStatus {
  if (value === undefined) throw new UsageError('ltc incident update needs --status <status>', { hint: `one of ${STATUSES.join(', ')}` });
  const v = value.trim().toLowerCase();
  if ((STATUSES as readonly string[]).includes(v)) return v as IncidentStatus;
  throw new UsageError(`--status ${JSON.stringify(value)} is not an incident status`, {
    hint: `${didYouMean(v, STATUSES) ?? ''} one of ${STATUSES.join(', ')}`.trim(),
  });
}

export function notClosed(i: Incident, what: string): void {
  if (i.state === 'closed') {
    throw new UsageError(`${i.id} was closed at ${i.closedAt}: ${what} a closed incident is refused`, {
      hint: `open a new incident (ltc incident open --sev … --title …) if it came back; ltc incident show ${i.id} shows its record`,
    });
  }
}

function scopeOf(i: Incident): string {
  return `${i.environment ?? 'all environments'}${i.release ? ` (release ${i.release})` : ''}`;
}

/** The status entry of an update, from templates/incident-update.txt. */
async function statusEntry(loaded: LoadedConfig, i: Incident, status: IncidentStatus, message: string | undefined, time: Date): Promise<string> {
  const { text } = await loadTemplate('incident-update.txt', loaded.dir);
  const interval = parseDuration(settings(loaded).update_interval);
  const next = status === 'resolved' ? 'none planned (resolved)' : new Date(time.getTime() + interval).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return render(text, {
    id: i.id,
    title: i.title,
    severity: String(i.severity),
    status,
    status_upper: status.toUpperCase(),
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    scope: scopeOf(i),
    environment: i.environment ?? 'all environments',
    impact: i.impact ?? 'being assessed',
    message: message ?? (status === 'investigating' ? 'We are investigating.' : `Status: ${status}.`),
    next_update: next,
    commander: i.commander,
  }).trimEnd();
}

/** Posts the entry to every configured webhook (concurrently); failures are reported, never thrown. */
async function postAll(ctx: Context, loaded: LoadedConfig, entry: string): Promise<WebhookPost[]> {
  const s = settings(loaded);
  for (const url of s.webhooks) if (new URL(url).pathname.length > 1) ctx.masker.add(url);
  const o = {
    retries: s.retries,
    backoffMs: parseDuration(s.retry_backoff),
    timeoutMs: parseDuration(s.post_timeout),
    signal: ctx.signal,
    onRetry: (origin: string, attempt: number, why: string, wait: number) => ctx.out.info(`webhook ${origin}: attempt ${attempt} failed (${why}); trying again in ${wait} ms`),
  };
  const posts = await Promise.all(s.webhooks.map((url) => postWebhook(url, entry, o)));
  for (const p of posts) {
    if (!p.ok) ctx.out.warn(`webhook ${p.webhook}: the status entry was NOT posted after ${p.attempts} attempt(s): ${p.error}; the update is recorded, post it by hand`);
  }
  return posts;
}

/** Records the webhook answers on the event at `index`. */
async function recordPosts(stateDir: string, id: string, index: number, posts: WebhookPost[]): Promise<void> {
  if (posts.length === 0) return;
  await changeIncident(stateDir, id, (i) => {
    const ev = i.events[index];
    if (ev) ev.posts = posts;
  });
}

function postsLine(posts: readonly WebhookPost[]): string {
  if (posts.length === 0) return 'no webhook configured (incidents.webhooks): nothing posted\n';
  return posts.map((p) => (p.ok ? `posted to ${p.webhook} (${p.attempts} attempt${p.attempts === 1 ? '' : 's'})` : `NOT posted to ${p.webhook}: ${p.error}`)).join('\n') + '\n';
}

export async function incidentOpen(opts: OpenOptions, ctx: Context): Promise<CommandResult> {
  const severity = parseSeverity(opts.sev);
  const title = opts.title?.trim();
  if (!title) throw new UsageError('ltc incident open needs --title <text>', { hint: 'what users see, e.g. --title "checkout returns 500"' });
  plainLine('--title', title);
  for (const [flag, v] of [['--impact', opts.impact], ['--commander', opts.commander]] as const) if (v !== undefined) plainLine(flag, v.trim());
  const now = new Date();
  let started = now;
  if (opts.started !== undefined) {
    const t = Date.parse(opts.started);
    if (Number.isNaN(t)) throw new UsageError(`--started ${JSON.stringify(opts.started)} is not a time`, { hint: 'an ISO time such as 2026-03-01T09:40:00Z' });
    if (t > now.getTime()) throw new UsageError(`--started ${opts.started} is in the future`, { hint: 'the time the impact began: now or earlier' });
    started = new Date(t);
  }
  const loaded = await ctx.config();
  const environment = await chosenEnvironment(ctx, loaded);
  const running = environment ? runningFrom(await revisionsOf(loaded, environment)) : { release: null, rc: null };
  const commander = opts.commander?.trim() || (await actor());
  const who = await actor();
  const stateDir = await ctx.stateDir();
  const incident = await createIncident(
    stateDir,
    (id) =>
      newIncident(id, {
        title,
        severity,
        environment,
        release: running.release,
        rc: running.rc,
        commander,
        impact: opts.impact?.trim() || null,
        security: opts.security === true,
        actor: who,
        now,
        startedAt: started,
      }),
    now,
  );
  const entry = await statusEntry(loaded, incident, 'investigating', undefined, now);
  await changeIncident(stateDir, incident.id, (i) => {
    i.events[0]!.entry = entry;
  });
  await audit(ctx, stateDir, 'incident.open', incident, { title, severity, release: running.release, commander, ...(incident.security ? { security: true } : {}) });
  const posts = await postAll(ctx, loaded, entry);
  await recordPosts(stateDir, incident.id, 0, posts);
  const tiers = escalationFor(loaded.config, severity);
  const page = (tiers[0]?.afterMs === 0 ? tiers[0].contacts : []).map(contactLine);
  const escalation = tiers.map((t) => ({ afterMs: t.afterMs, contacts: t.contacts.map(contactLine) }));
  if (tiers.some((t) => t.contacts.some((c) => contactProblems(c).length > 0))) {
    ctx.out.warn(`the escalation list still has placeholders: who to page may be unknown (ltc contacts; ${loaded.file})`);
  }
  return {
    data: { id: incident.id, file: incidentFile(stateDir, incident.id), severity, environment, release: running.release, rc: running.rc, commander, security: incident.security, posts, page, escalation },
    text:
      `opened ${incident.id} (sev ${severity}${incident.security ? ', security' : ''}) ${title}\n` +
      `  environment: ${environment ?? 'all'}${running.release ? `, running ${running.release}` : ''}\n` +
      `  commander:   ${commander}\n` +
      (tiers.length > 0
        ? tiers.map((t) => `  page ${tierLabel(t)}: ${t.contacts.map(contactLine).join('; ')}\n`).join('')
        : `  page:        nobody configured for sev ${severity} (ltc contacts; incidents.escalation)\n`) +
      postsLine(posts) +
      `next: ltc incident update ${incident.id} --status identified --message "…"\n`,
  };
}

export async function incidentNote(id: string, text: string, ctx: Context): Promise<CommandResult> {
  const note = text.trim();
  if (!note) throw new UsageError('ltc incident note needs a text', { hint: `ltc incident note ${id} "restarted the worker, no change"` });
  plainLine('the note', note);
  const stateDir = await ctx.stateDir();
  const who = await actor();
  // The time is taken under the lock: events of two people at once are in the order of their times.
  let time = '';
  const incident = await changeIncident(stateDir, id, (i) => {
    notClosed(i, 'a note on');
    time = new Date().toISOString();
    i.events.push({ time, actor: who, kind: 'note', text: note });
  });
  await audit(ctx, stateDir, 'incident.note', incident, { note });
  return { data: { id: incident.id, time }, text: `noted on ${incident.id} at ${time}\n` };
}

export async function incidentUpdate(id: string, opts: UpdateOptions, ctx: Context): Promise<CommandResult> {
  const status = parseStatus(opts.status);
  for (const [flag, v] of [['--message', opts.message], ['--impact', opts.impact]] as const) if (v !== undefined) plainLine(flag, v.trim());
  const loaded = await ctx.config();
  const stateDir = await ctx.stateDir();
  const who = await actor();
  let now = new Date();
  let index = -1;
  let entry = '';
  const incident = await changeIncident(stateDir, id, async (i) => {
    notClosed(i, 'an update of');
    now = new Date();
    if (opts.impact?.trim()) i.impact = opts.impact.trim();
    if (opts.security) i.security = true;
    i.status = status;
    if (status === 'resolved') i.resolvedAt ??= now.toISOString();
    entry = await statusEntry(loaded, i, status, opts.message?.trim() || undefined, now);
    const ev: IncidentEvent = { time: now.toISOString(), actor: who, kind: 'update', status, entry };
    if (opts.message?.trim()) ev.text = opts.message.trim();
    if (opts.impact?.trim()) ev.impact = opts.impact.trim();
    index = i.events.push(ev) - 1;
  });
  await audit(ctx, stateDir, 'incident.update', incident, { status, ...(opts.message ? { message: opts.message.trim() } : {}), ...(opts.security ? { security: true } : {}) });
  const posts = await postAll(ctx, loaded, entry);
  await recordPosts(stateDir, incident.id, index, posts);
  return {
    data: { id: incident.id, status, time: now.toISOString(), entry, posts, posted: posts.every((p) => p.ok) },
    text: `${incident.id}: ${status}\n${entry.replace(/^/gm, '  ')}\n${postsLine(posts)}`,
  };
}

export async function incidentClose(id: string, ctx: Context): Promise<CommandResult> {
  const stateDir = await ctx.stateDir();
  const who = await actor();
  let now = new Date().toISOString();
  const incident = await changeIncident(stateDir, id, (i) => {
    now = new Date().toISOString();
    if (i.state === 'closed') {
      throw new UsageError(`${i.id} is already closed (at ${i.closedAt})`, { hint: `ltc incident postmortem ${i.id} writes its post-mortem` });
    }
    i.state = 'closed';
    i.closedAt = now;
    if (i.status !== 'resolved') {
      i.status = 'resolved';
      i.resolvedAt = now;
    }
    i.events.push({ time: now, actor: who, kind: 'close' });
  });
  await audit(ctx, stateDir, 'incident.close', incident, { openedFor: Date.parse(now) - Date.parse(incident.openedAt) });
  return { data: { id: incident.id, closedAt: now }, text: `closed ${incident.id}\nnext: ltc incident postmortem ${incident.id} --out ${incident.id}-postmortem.md\n` };
}

function summary(i: Incident) {
  return {
    id: i.id,
    state: i.state,
    status: i.status,
    severity: i.severity,
    title: i.title,
    environment: i.environment,
    release: i.release,
    commander: i.commander,
    openedAt: i.openedAt,
    resolvedAt: i.resolvedAt,
    closedAt: i.closedAt,
  };
}

export async function incidentList(ctx: Context): Promise<CommandResult> {
  const stateDir = await ctx.stateDir();
  const list = sortIncidents(await readAll(stateDir));
  if (list.length === 0) return { data: { incidents: [] }, text: 'no incidents recorded\n' };
  const rows = list.map((i) => [i.id, i.state, `sev ${i.severity}`, i.status, i.environment ?? 'all', i.openedAt.replace(/\.\d{3}Z$/, 'Z'), i.title]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const text = rows.map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]!))).join('  ')).join('\n') + '\n';
  return { data: { incidents: list.map(summary) }, text };
}

export async function incidentShow(id: string, ctx: Context): Promise<CommandResult> {
  const stateDir = await ctx.stateDir();
  const i = await readIncident(stateDir, id);
  const lines = [
    `${i.id}  sev ${i.severity}  ${i.state}, ${i.status}`,
    `title:       ${i.title}`,
    `environment: ${i.environment ?? 'all'}${i.release ? ` (release ${i.release})` : ''}`,
    `commander:   ${i.commander}`,
    `impact:      ${i.impact ?? '-'}`,
    `started:     ${i.startedAt}`,
    `opened:      ${i.openedAt}`,
    `resolved:    ${i.resolvedAt ?? '-'}`,
    `closed:      ${i.closedAt ?? '-'}`,
    '',
    ...i.events.map((e) => {
      const what = e.kind === 'update' ? `update → ${e.status}${e.text ? `: ${e.text}` : ''}` : e.kind === 'note' || e.kind === 'rollback' ? `${e.kind}: ${e.text}` : e.kind === 'postmortem' ? `post-mortem written: ${e.file}` : e.kind;
      const posted = e.posts && e.posts.length > 0 ? `  [${e.posts.map((p) => (p.ok ? `posted ${p.webhook}` : `NOT posted ${p.webhook}`)).join(', ')}]` : '';
      return `${e.time}  ${e.actor}  ${what}${posted}`;
    }),
  ];
  return { data: { incident: i, file: incidentFile(stateDir, i.id) }, text: lines.join('\n') + '\n' };
}
