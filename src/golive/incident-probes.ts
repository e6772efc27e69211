/**
 * The go-live items that read the incident records (.ltc/incidents/*.json): no security incident
 * in the window, and every incident of the window closed with its post-mortem written and filled in.
 * The window is the last golive.incident_window (default 7d, the handbook's first week); an open
 * incident counts whatever its age.
 */
import { readFile } from 'node:fs/promises';
import { formatDuration, parseDuration } from '../core/duration.js';
import type { Incident } from '../incident/store.js';
import type { Probe, ProbeOutcome } from './probes.js';
import type { GoliveScope } from './scope.js';

async function inWindow(s: GoliveScope): Promise<{ list: Incident[]; dir: string; window: string }> {
  const { readAll, incidentsDir, sortIncidents } = await import('../incident/store.js');
  const windowMs = parseDuration(s.golive.incident_window);
  const from = s.now - windowMs;
  const list = sortIncidents(await readAll(s.stateDir)).filter(
    (i) => (i.environment === null || i.environment === s.environment) && (i.state === 'open' || Date.parse(i.openedAt) >= from || (i.closedAt !== null && Date.parse(i.closedAt) >= from)),
  );
  const w = s.golive.incident_window;
  return { list, dir: incidentsDir(s.stateDir), window: typeof w === 'string' ? w : formatDuration(w) };
}

function label(i: Incident): string {
  return `${i.id} (sev ${i.severity}${i.security ? ', security' : ''}, ${i.state}${i.state === 'closed' ? ` ${i.closedAt}` : `, ${i.status}`}) "${i.title}"`;
}

export const noSecurityIncident: Probe = async (s): Promise<ProbeOutcome> => {
  const { list, dir, window } = await inWindow(s);
  const security = list.filter((i) => i.security);
  const scope = `on ${s.environment} in the last ${window} or still open (${dir})`;
  if (security.length === 0) {
    return { status: 'passed', evidence: [`no security incident ${scope}; ${list.length} other incident(s) in that span`] };
  }
  return {
    status: 'failed',
    evidence: [`${security.length} security incident(s) ${scope}:`, ...security.map(label)],
    fix: `resolve and review ${security[0]!.id}; go live only with a recorded waiver: ltc golive waive incidents.none --rc ${s.rc} --reason "…"`,
  };
};

const UNFILLED = /_TODO\b|_owner_/;

export const incidentsReviewed: Probe = async (s): Promise<ProbeOutcome> => {
  const { list, dir, window } = await inWindow(s);
  const due = list.filter((i) => i.severity <= s.golive.review_severity);
  const scope = `sev ≤ ${s.golive.review_severity} on ${s.environment} in the last ${window} or still open (${dir})`;
  if (due.length === 0) return { status: 'passed', evidence: [`no incident ${scope}: no review due`] };
  const evidence: string[] = [];
  const problems: string[] = [];
  let fix: string | undefined;
  for (const i of due) {
    if (i.state === 'open') {
      problems.push(`${label(i)}: still open`);
      fix ??= `ltc incident close ${i.id}, then ltc incident postmortem ${i.id} --out postmortems/${i.id}.md`;
      continue;
    }
    const written = i.events.filter((e) => e.kind === 'postmortem' && e.file).at(-1);
    if (!written?.file) {
      problems.push(`${label(i)}: no post-mortem written`);
      fix ??= `ltc incident postmortem ${i.id} --out postmortems/${i.id}.md, then fill it in with the team`;
      continue;
    }
    const text = await readFile(written.file, 'utf8').catch(() => undefined);
    if (text === undefined) {
      problems.push(`${label(i)}: its post-mortem ${written.file} (written ${written.time}) is gone`);
      fix ??= `restore ${written.file} or write it again: ltc incident postmortem ${i.id} --out <file>`;
      continue;
    }
    const open = text.split('\n').filter((l) => UNFILLED.test(l)).length;
    if (open > 0) {
      problems.push(`${label(i)}: ${written.file} still has ${open} line(s) marked _TODO_ or _owner_ (the review is not finished)`);
      fix ??= `finish the review: fill in the _TODO_ sections and action item owners of ${written.file}`;
      continue;
    }
    evidence.push(`${label(i)}: reviewed, post-mortem ${written.file} (written ${written.time}, no _TODO_ left)`);
  }
  if (problems.length) return { status: 'failed', evidence: [`${problems.length} of ${due.length} incident(s) ${scope} not reviewed:`, ...problems, ...evidence], ...(fix ? { fix } : {}) };
  return { status: 'passed', evidence: [`${due.length} incident(s) ${scope}, all reviewed:`, ...evidence] };
};
