/**
 * `ltc releases` on a local target: the releases newest first (current and previous marked), the
 * last outcome of each from the revisions log, partial folders and whether the app runs. Shared by
 * the command (src/deploy/cli.ts) and its fast path (src/deploy/releases-fast.ts).
 */
import type { LoadedConfig } from '../config/load.js';
import type { EnvironmentConfig } from '../config/schema/index.js';
import type { ReleaseInfo } from '../targets/target.js';
import { staleNote } from './stale-note.js';
import type { Palette } from '../core/output.js';
import { openLocalReleases } from '../targets/local/open.js';
import { listPartials } from '../targets/local/releases.js';
import { lastOutcomes, liveAmong } from './history.js';

export interface DanglingLink {
  link: 'current' | 'previous';
  release: string;
}

/**
 * `current` or `previous` naming a release folder that is not there (removed by hand, a partial
 * restore): the app cannot start from it, and a rollback to it cannot work.
 */
export function danglingLinks(releases: ReadonlyArray<{ name: string }>, current: string | undefined, previous: string | undefined): DanglingLink[] {
  const names = new Set(releases.map((r) => r.name));
  return (
    [
      ['current', current],
      ['previous', previous],
    ] as const
  ).flatMap(([link, release]) => (release !== undefined && !names.has(release) ? [{ link, release }] : []));
}

/** What a `current`/`previous` link to a missing release means, and the way out. */
export function danglingAdvice(d: DanglingLink, environment: string, wasLive: string | undefined): string {
  const to = wasLive ? `ltc rollback --env ${environment} --to ${wasLive} (the newest release that was live once)` : `ltc deploy --env ${environment} --rc <tag> (no release here was ever live)`;
  return d.link === 'current'
    ? `the app cannot start from it; point current at a release that exists: ${to}`
    : `a rollback without --to cannot go there; name one with --to: ${to}`;
}

/** The newest release that answered healthy once (a deploy or rollback ended ok with it): what to return to. */
export async function newestLive(target: Parameters<typeof liveAmong>[0], releases: readonly ReleaseInfo[]): Promise<string | undefined> {
  const live = await liveAmong(target, releases);
  return releases.find((r) => live.has(r.name))?.name;
}

export async function releasesReport(name: string, env: EnvironmentConfig, loaded: LoadedConfig, c: Palette): Promise<{ data: Record<string, unknown>; text: string }> {
  const target = openLocalReleases(name, env, loaded);
  const releases = await target.listReleases();
  const status = await target.status();
  const lastOutcome = await lastOutcomes(target, releases);
  const partials = await listPartials(target.paths.releases);
  const dangling = danglingLinks(releases, await target.readCurrent(), await target.readPrevious());
  const returnTo = dangling.length ? await newestLive(target, releases) : undefined;
  const rows = releases.map((r) => ({
    name: r.name,
    mark: r.current ? 'current' : r.previous ? 'previous' : '',
    rc: r.meta?.rc ?? null,
    commit: r.meta?.commit ?? null,
    createdAt: r.meta?.createdAt ?? new Date(r.createdMs).toISOString(),
    actor: r.meta?.actor ?? null,
    last: lastOutcome.get(r.name) ?? null,
    dir: r.dir,
  }));
  const w = Math.max(7, ...rows.map((r) => r.name.length));
  const lines = rows.map((r) => {
    const mark = r.mark === 'current' ? c.green('* current ') : r.mark === 'previous' ? c.yellow('  previous') : '          ';
    return `${mark}  ${r.name.padEnd(w)}  ${(r.commit ?? '').slice(0, 12).padEnd(12)}  ${r.createdAt}  ${c.dim([r.actor, r.last ? `last: ${r.last}` : undefined].filter(Boolean).join(', '))}`;
  });
  const app =
    status.mode === 'service'
      ? 'app managed by the service command'
      : status.running
        ? `app: pid ${status.pid} runs ${status.release}${status.unrecorded ? ` WITHOUT a pid file (pids ${status.unrecorded.join(', ')}; the next deploy, rollback or ltc stop ends them)` : ''}`
        : `app: not running${staleNote(status)}`;
  const text = [
    c.bold(`releases of ${name} (${target.description}), newest first:`),
    ...(lines.length ? [c.dim(`${' '.repeat(10)}  ${'RELEASE'.padEnd(w)}  ${'COMMIT'.padEnd(12)}  ${'CREATED'.padEnd(24)}  BY, LAST OUTCOME`), ...lines] : ['  (none yet)']),
    ...(partials.length ? [c.yellow(`incomplete (left by an interrupted deploy, removed by the next one): ${partials.join(', ')}`)] : []),
    ...dangling.map((d) => c.red(`${d.link} → releases/${d.release}, which is missing: ${danglingAdvice(d, name, returnTo)}`)),
    c.dim(`${app}; log ${status.logFile}; history ${target.paths.revisions}`),
  ].join('\n');
  return {
    data: {
      environment: name,
      root: target.root,
      current: releases.find((r) => r.current)?.name ?? null,
      previous: releases.find((r) => r.previous)?.name ?? null,
      releases: rows,
      partial: partials,
      missing: dangling,
      app: { running: status.running, pid: status.pid ?? null, release: status.release ?? null, logFile: status.logFile, ...(status.unrecorded ? { unrecorded: status.unrecorded } : {}), ...(status.stale ? { stale: true } : {}), ...(status.elsewhere ? { elsewhere: true } : {}) },
    },
    text,
  };
}
