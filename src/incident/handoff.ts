/**
 * A rollback hands off to the incident: `--incident <id>` adds it (with its duration) to that
 * incident's timeline, `--no-incident` says there is none; without either, a person at a
 * terminal is asked (add it to the environment's open incident, or open one), and without a
 * terminal one hint line is printed and nothing waits.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import type { Incident } from './store.js';

// The incident store (zod) and commands load only when an incident is involved: a rollback with
// no incident on file must not pay for them (issue 17: rollback time).
const store = () => import('./store.js');
const commands = () => import('./cli.js');

/** `--incident <id>` → the id, `--no-incident` → false, neither → undefined. */
export type IncidentChoice = string | false | undefined;

export interface RollbackFacts {
  environment: string;
  from: string | null;
  release: string | null;
  durationMs: number;
  /** An automatic rollback of a failed deploy of this rc (ltc deploy, exit 3). */
  failedRc?: string;
}

export interface Handoff {
  incident: string | null;
  /** added = to an existing incident; opened = a new one; hinted = a hint line only; none = --no-incident or declined. */
  how: 'added' | 'opened' | 'hinted' | 'none';
}

/** Before the rollback: an --incident that does not exist or is closed is refused while nothing has changed. */
export async function checkIncidentChoice(choice: IncidentChoice, ctx: Context): Promise<void> {
  if (typeof choice !== 'string') return;
  const i = await (await store()).readIncident(await ctx.stateDir(), choice);
  (await commands()).notClosed(i, 'a rollback added to');
}

function describe(f: RollbackFacts): string {
  const what = f.failedRc ? `automatic rollback of ${f.environment} after the failed deploy of ${f.failedRc}:` : `rollback of ${f.environment}`;
  // A failed first deploy has nothing to go back to: the app was stopped and current removed.
  const to = f.release ?? (f.failedRc ? '(no earlier release: app stopped)' : '?');
  return `${what} ${f.from ?? '(none)'} → ${to} done in ${formatDuration(f.durationMs)}`;
}

async function addTo(id: string, f: RollbackFacts, ctx: Context): Promise<Incident> {
  const { changeIncident } = await store();
  const { actor, audit, notClosed } = await commands();
  const stateDir = await ctx.stateDir();
  const who = await actor();
  const text = describe(f);
  const incident = await changeIncident(stateDir, id, (i) => {
    notClosed(i, 'a rollback added to');
    // Under the lock, as every event's time: the timeline's order is the order of its times.
    i.events.push({ time: new Date().toISOString(), actor: who, kind: 'rollback', text, durationMs: Math.round(f.durationMs) });
  });
  await audit(ctx, stateDir, 'incident.rollback', incident, { rollback: text, durationMs: Math.round(f.durationMs), release: f.release, from: f.from });
  return incident;
}

async function openFor(f: RollbackFacts, ctx: Context): Promise<Incident> {
  const { createIncident, newIncident } = await store();
  const { actor, audit } = await commands();
  const stateDir = await ctx.stateDir();
  const who = await actor();
  const now = new Date();
  const title = `${f.environment} rolled back to ${f.release ?? 'the previous release'}`;
  const incident = await createIncident(
    stateDir,
    (id) => newIncident(id, { title, severity: 3, environment: f.environment, release: f.from, rc: null, commander: who, impact: null, security: false, actor: who, now }),
    now,
  );
  await audit(ctx, stateDir, 'incident.open', incident, { title, severity: 3, release: f.from, commander: who, via: 'rollback' });
  return addTo(incident.id, f, ctx);
}

/** The open incident of the environment (newest), if any. */
async function openOf(environment: string, ctx: Context): Promise<Incident | undefined> {
  const stateDir = await ctx.stateDir();
  const names = await readdir(join(stateDir, 'incidents')).catch(() => [] as string[]);
  if (!names.some((n) => n.endsWith('.json'))) return undefined;
  const { readAll, sortIncidents } = await store();
  const all = sortIncidents(await readAll(stateDir).catch(() => [] as Incident[]));
  return all.find((i) => i.state === 'open' && i.environment === environment);
}

/** After a rollback that worked: hands it to the incident as chosen; never throws (the rollback is done). */
export async function rollbackHandoff(choice: IncidentChoice, f: RollbackFacts, ctx: Context, say: (line: string) => void = (l) => ctx.out.info(l)): Promise<Handoff> {
  try {
    if (choice === false) return { incident: null, how: 'none' };
    if (typeof choice === 'string') {
      const i = await addTo(choice, f, ctx);
      say(`added the rollback (${formatDuration(f.durationMs)}) to ${i.id}'s timeline`);
      return { incident: i.id, how: 'added' };
    }
    const current = await openOf(f.environment, ctx);
    if (ctx.prompt.interactive && !ctx.options.yes && !ctx.options.json) {
      const question = current
        ? `Add this ${f.failedRc ? 'automatic ' : ''}rollback (${formatDuration(f.durationMs)}) to ${current.id} "${current.title}" (open on ${f.environment})?`
        : `Open an incident for this ${f.failedRc ? 'automatic ' : ''}rollback of ${f.environment} (severity 3; ltc incident update sets its status)?`;
      const { approved } = await ctx.prompt.approve(question);
      if (!approved) return { incident: null, how: 'none' };
      const i = current ? await addTo(current.id, f, ctx) : await openFor(f, ctx);
      say(current ? `added the rollback to ${i.id}'s timeline` : `opened ${i.id} "${i.title}"; next: ltc incident update ${i.id} --status identified --message "…"`);
      return { incident: i.id, how: current ? 'added' : 'opened' };
    }
    say(
      current
        ? `hint: ${current.id} is open on ${f.environment} and was not told of this rollback: \`ltc incident note ${current.id} "${describe(f)}"\`; next time pass --incident ${current.id} (or --no-incident)`
        : `hint: no incident was opened for this rollback: \`ltc incident open --sev 2 --title "…" --env ${f.environment}\` (its post-mortem picks up the rollback from the revisions log); --incident <id> or --no-incident decides without this line`,
    );
    return { incident: current?.id ?? null, how: 'hinted' };
  } catch (err) {
    ctx.out.warn(`the rollback is done, but it could not be added to an incident: ${(err as Error).message}`);
    return { incident: null, how: 'none' };
  }
}
