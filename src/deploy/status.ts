/**
 * `ltc status --env <env>`: a fleet's table (src/fleet/status.ts), or the same columns in one row
 * for a local target: current and previous release, the app, its health now, the lock, the last
 * outcome.
 */
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { refuseHostFilters } from './host-filters.js';
import { danglingAdvice, danglingLinks, newestLive } from './releases-report.js';
import { staleNote } from './stale-note.js';

export async function statusCommand(opts: { hosts?: string; roles?: string }, ctx: Context): Promise<CommandResult> {
  const { name, env, loaded } = await ctx.environment();
  if (env.target?.type === 'ssh') return (await import('../fleet/status.js')).fleetStatus(ctx, opts.hosts, opts.roles);
  refuseHostFilters('status', name, opts);
  const { openTarget } = await import('../targets/index.js');
  const target = openTarget(name, env, loaded);
  const [releases, app, lock, revisions, currentLink, previousLink] = await Promise.all([target.listReleases(), target.status(), target.lockState(), target.readRevisions(), target.readCurrent(), target.readPrevious()]);
  const dangling = danglingLinks(releases, currentLink, previousLink);
  const current = releases.find((r) => r.current)?.name ?? null;
  const previous = releases.find((r) => r.previous)?.name ?? null;
  const last = revisions.at(-1) ?? null;
  let health: { ok: boolean; failing: string[] } | null = null;
  if (env.health?.endpoints.length) {
    const { runHealth } = await import('../health/run.js');
    const h = (await runHealth({}, ctx)).data as { healthy: boolean; endpoints: Array<{ name: string; ok: boolean; status: number | null; error?: string }> };
    health = { ok: h.healthy, failing: h.endpoints.filter((e) => !e.ok).map((e) => `${e.name}: ${e.error ?? `HTTP ${e.status}`}`) };
  }
  const returnTo = dangling.length ? await newestLive(target, releases) : undefined;
  const missingLink = (link: 'current' | 'previous') => {
    const d = dangling.find((x) => x.link === link);
    return d ? ctx.out.c.red(`releases/${d.release} is MISSING (${danglingAdvice(d, name, returnTo)})`) : undefined;
  };
  const { describeHolder } = await import('../targets/local/lock.js');
  const { c } = ctx.out;
  const appText = app.mode === 'service' ? 'managed by the service command' : app.running ? `pid ${app.pid} runs ${app.release}` : `not running${staleNote(app)}`;
  const lockText = lock.state === 'free' ? 'free' : lock.state === 'held' ? c.yellow(`held by ${describeHolder(lock.info)}`) : c.red(`STALE: ${describeHolder(lock.info)} (${lock.why}); the next deploy or rollback takes it over`);
  const healthText = !health ? 'no health endpoints configured' : health.ok ? c.green('healthy') : c.red(`failing: ${health.failing.join('; ')}`);
  const problems = [
    ...(health && !health.ok ? ['not healthy'] : []),
    ...(app.mode === 'supervised' && !app.running && current ? ['the app does not run'] : []),
    ...(lock.state === 'stale' ? ['a stale lock (a killed run)'] : []),
    ...dangling.map((d) => `${d.link} → releases/${d.release}, which is missing`),
  ];
  const text = [
    c.bold(`${name} (${target.description})`),
    `  current   ${current ?? missingLink('current') ?? '(none yet)'}`,
    `  previous  ${previous ?? missingLink('previous') ?? '-'}`,
    `  app       ${appText}`,
    `  health    ${healthText}`,
    `  lock      ${lockText}`,
    `  last      ${last ? `${last.action} ${last.release ?? ''} ${last.outcome} ${last.time}` : '-'}`,
    problems.length ? c.red(`not ok: ${problems.join(', ')}`) : c.green('ok'),
  ].join('\n');
  return {
    exitCode: problems.length ? 1 : 0,
    data: { environment: name, target: 'local', current, previous, app, health, lock: { state: lock.state, ...(lock.state !== 'free' ? { holder: lock.info } : {}) }, last, problems },
    text,
  };
}
