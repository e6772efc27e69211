/**
 * `.ltc/incidents/<id>.json`: one file per incident, written atomically (temp file + fsync + rename)
 * under one lock for the folder, so two people updating the same incident at once both keep their
 * update, in the order they got the lock. A file that does not parse or has a shape ltc does not
 * know is refused (the file named) and never overwritten.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { withLock, writeFileAtomic } from '../core/fs-atomic.js';
import { byText } from '../core/text-order.js';

export const STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type IncidentStatus = (typeof STATUSES)[number];
export const SEVERITIES = [1, 2, 3, 4] as const;

const post = z.strictObject({
  /** The webhook's origin only (the path of a Slack webhook is its token). */
  webhook: z.string(),
  ok: z.boolean(),
  attempts: z.number().int(),
  status: z.number().int().optional(),
  error: z.string().optional(),
});

const event = z.strictObject({
  time: z.string().min(1),
  actor: z.string().min(1),
  kind: z.enum(['open', 'note', 'update', 'close', 'rollback', 'postmortem']),
  status: z.enum(STATUSES).optional(),
  text: z.string().optional(),
  impact: z.string().optional(),
  /** The status entry rendered from templates/incident-update.txt (updates). */
  entry: z.string().optional(),
  posts: z.array(post).optional(),
  /** A rollback handed off to the incident (ltc rollback --incident): how long it took. */
  durationMs: z.number().optional(),
  /** The post-mortem written with `ltc incident postmortem --out` (absolute path). */
  file: z.string().optional(),
});

export const incidentSchema = z.strictObject({
  version: z.literal(1),
  id: z.string().regex(/^INC-\d{8}-\d+$/),
  title: z.string().min(1),
  severity: z.number().int().min(1).max(4),
  environment: z.string().nullable(),
  release: z.string().nullable(),
  rc: z.string().nullable(),
  commander: z.string().min(1),
  impact: z.string().nullable(),
  /** A security incident (--security): the go-live item incidents.none reads it. */
  security: z.boolean().default(false),
  status: z.enum(STATUSES),
  state: z.enum(['open', 'closed']),
  openedAt: z.string().min(1),
  /** When the impact began (--started), default the opening time. */
  startedAt: z.string().min(1),
  resolvedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  events: z.array(event),
});

export type Incident = z.output<typeof incidentSchema>;

export interface NewIncident {
  title: string;
  severity: number;
  environment: string | null;
  release: string | null;
  rc: string | null;
  commander: string;
  impact: string | null;
  security: boolean;
  actor: string;
  now: Date;
  startedAt?: Date;
}

/** The record of a just-opened incident: status investigating, one `open` event. */
export function newIncident(id: string, f: NewIncident): Incident {
  const opened = f.now.toISOString();
  return {
    version: 1,
    id,
    title: f.title,
    severity: f.severity,
    environment: f.environment,
    release: f.release,
    rc: f.rc,
    commander: f.commander,
    impact: f.impact,
    security: f.security,
    status: 'investigating',
    state: 'open',
    openedAt: opened,
    startedAt: (f.startedAt ?? f.now).toISOString(),
    resolvedAt: null,
    closedAt: null,
    events: [{ time: opened, actor: f.actor, kind: 'open', status: 'investigating', text: f.title }],
  };
}
export type IncidentEvent = z.output<typeof event>;
export type WebhookPost = z.output<typeof post>;

export function incidentsDir(stateDir: string): string {
  return join(stateDir, 'incidents');
}

export function incidentFile(stateDir: string, id: string): string {
  return join(incidentsDir(stateDir), `${id}.json`);
}

export function parseIncident(text: string, file: string): Incident {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON (${(err as Error).message})`, {
      hint: 'the incident record is damaged: restore it from a backup or fix it by hand; ltc did not change it',
    });
  }
  const r = incidentSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(`${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`, {
      hint: 'the incident record was edited into a shape ltc does not know; fix that field or restore the file (ltc did not change it)',
    });
  }
  return r.data;
}

async function ids(stateDir: string): Promise<string[]> {
  const names = await readdir(incidentsDir(stateDir)).catch(() => [] as string[]);
  return names.filter((n) => /^INC-\d{8}-\d+\.json$/.test(n)).map((n) => n.slice(0, -5));
}

/** Every incident; a damaged file throws ConfigError naming it. */
export async function readAll(stateDir: string): Promise<Incident[]> {
  const list: Incident[] = [];
  for (const id of await ids(stateDir)) {
    const file = incidentFile(stateDir, id);
    list.push(parseIncident(await readFile(file, 'utf8'), file));
  }
  return list;
}

/** Open first (newest first), then closed (newest first). */
export function sortIncidents(list: Incident[]): Incident[] {
  return [...list].sort((a, b) => (a.state === b.state ? byText(b.openedAt, a.openedAt) || byText(b.id, a.id) : a.state === 'open' ? -1 : 1));
}

export async function readIncident(stateDir: string, given: string): Promise<Incident> {
  const id = given.trim().toUpperCase();
  if (!/^INC-\d{8}-\d+$/.test(id)) {
    throw new UsageError(`${JSON.stringify(given)} is not an incident id`, { hint: 'ids look like INC-20260301-1; ltc incident list shows them' });
  }
  const file = incidentFile(stateDir, id);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const known = await ids(stateDir);
    const open: string[] = [];
    for (const k of known) {
      const t = await readFile(incidentFile(stateDir, k), 'utf8').catch(() => '');
      if (/"state":\s*"open"/.test(t)) open.push(k);
    }
    const guess = didYouMean(id, open.length > 0 ? open : known);
    throw new UsageError(`no incident ${JSON.stringify(id)} in ${incidentsDir(stateDir)}`, {
      hint: guess
        ? guess
        : open.length > 0
          ? `open incidents: ${open.join(', ')}`
          : 'ltc incident list shows the recorded incidents',
    });
  }
  return parseIncident(text, file);
}

function lockOf(stateDir: string): string {
  return join(incidentsDir(stateDir), '.lock');
}

async function write(stateDir: string, incident: Incident): Promise<void> {
  await writeFileAtomic(incidentFile(stateDir, incident.id), JSON.stringify(incident, null, 2) + '\n', 0o600);
}

/** A new incident with the next id of the day (INC-YYYYMMDD-N). */
export async function createIncident(stateDir: string, make: (id: string) => Incident, now = new Date()): Promise<Incident> {
  return withLock(lockOf(stateDir), `the incident records ${incidentsDir(stateDir)}`, async () => {
    const day = now.toISOString().slice(0, 10).replaceAll('-', '');
    const taken = (await ids(stateDir)).filter((i) => i.startsWith(`INC-${day}-`)).map((i) => Number(i.split('-')[2]));
    const id = `INC-${day}-${Math.max(0, ...taken) + 1}`;
    const incident = make(id);
    await write(stateDir, incident);
    return incident;
  });
}

/**
 * Reads, changes and writes one incident under the lock. `change` may throw (a bad request):
 * nothing is written then.
 */
export async function changeIncident(stateDir: string, id: string, change: (i: Incident) => void | Promise<void>): Promise<Incident> {
  // Outside the lock first: an unknown id or a damaged file is reported without waiting.
  id = (await readIncident(stateDir, id)).id;
  return withLock(lockOf(stateDir), `the incident records ${incidentsDir(stateDir)}`, async () => {
    const incident = await readIncident(stateDir, id);
    await change(incident);
    await write(stateDir, incident);
    return incident;
  });
}
