/**
 * --dry-run of a deploy or rollback: each phase says exactly what it would do — resolved
 * commands, paths, and which release would become current — from read-only facts (the tag via
 * `git ls-remote`, the links, the lock, the pid file). Nothing is written.
 */
import { join } from 'node:path';
import { formatDuration, parseDuration } from '../core/duration.js';
import { displayCommand } from '../exec/command.js';
import type { PlanItem, StepContext } from '../runbook/step-type.js';
import { describeHolder } from '../targets/local/lock.js';
import type { AppStatus, LockState, ReleaseInfo } from '../targets/target.js';
import { openTargetScope, type TargetScope } from './session.js';

export interface PlanFacts extends TargetScope {
  action: 'deploy' | 'rollback';
  rc?: string;
  commit?: string;
  repo?: string;
  /** The release that would become current. */
  release?: string;
  current?: string;
  previous?: string;
  lock: LockState;
  app: AppStatus;
  releases: ReleaseInfo[];
  /** The release that was live before (current, unless it never answered and previous did). */
  liveBefore?: string;
}

let facts: PlanFacts | undefined;

/** The facts of the plan being printed (for the command's own summary line). */
export function plannedFacts(): PlanFacts | undefined {
  return facts;
}

async function gather(step: StepContext, action: 'deploy' | 'rollback', environment: string | undefined): Promise<PlanFacts> {
  const scope = await openTargetScope(step.ctx, environment);
  const target = scope.target;
  const current = await target.readCurrent();
  const previous = await target.readPrevious();
  const { liveBeforeOf, liveAmong } = await import('./record.js');
  const liveBefore = liveBeforeOf(current, previous, await liveAmong(target));
  return {
    ...scope,
    action,
    ...(current ? { current } : {}),
    ...(previous ? { previous } : {}),
    ...(liveBefore ? { liveBefore } : {}),
    lock: await target.lockState(),
    app: await target.status(),
    releases: await target.listReleases(),
  };
}

function lockText(f: PlanFacts): string {
  const l = f.lock;
  if (l.state === 'free') return `take ${f.target.paths.lockFile} (free now)`;
  if (l.state === 'stale') return `take ${f.target.paths.lockFile}: it holds a STALE lock (${describeHolder(l.info)}; ${l.why}), which would be reported and taken over`;
  return `take ${f.target.paths.lockFile}: LOCKED now by ${describeHolder(l.info)} (the run would exit 5 unless --lock-wait outlasts it)`;
}

function appText(f: PlanFacts): string {
  if (f.config.service) return `run the service command ${displayCommand(f.config.service)}`;
  const stop = f.app.running
    ? `stop pid ${f.app.pid} (${f.app.release}) with SIGTERM to its process group, SIGKILL after ${formatDuration(parseDuration(f.config.stop_grace))}`
    : `nothing to stop (${f.app.stale ? `stale pid file ${f.app.pidFile}` : 'no app running'})`;
  return `${stop}; start ${displayCommand(f.config.start ?? [])} in ${f.target.paths.current} (log ${f.target.paths.logFile}, pid file ${f.target.paths.pidFile})`;
}

function healthItems(f: PlanFacts, what: string): PlanItem[] {
  const endpoints = f.env.health?.endpoints ?? [];
  const deadline = formatDuration(parseDuration(f.config.health_deadline));
  if (!endpoints.length) return [{ action: 'health', detail: `no health endpoints: check that ${what} keeps running`, writes: false }];
  return endpoints.map((e) => ({
    action: 'health',
    detail: `${e.method} ${e.url.startsWith('/') && f.env.url ? f.env.url.replace(/\/+$/, '') + e.url : e.url} until ${e.conditions.join(' && ')} (retried until ${deadline} after the start)`,
    writes: false,
  }));
}

function rel(name: string | undefined): string {
  return name ? `releases/${name}` : '(none)';
}

/** Plan items of one phase; the resolve/start phase gathers the facts the later ones print. */
export async function planDeployPhase(p: { phase: string; rc?: string; environment?: string; to?: string; release?: string }, step: StepContext): Promise<PlanItem[]> {
  if (p.phase === 'resolve') {
    const f = await gather(step, 'deploy', p.environment);
    facts = f;
    if (!p.rc) return [{ action: 'resolve', detail: 'no rc given', writes: false }];
    const { resolveRc } = await import('./phases.js');
    const r = await resolveRc(step.ctx, p.rc, step.signal);
    f.rc = p.rc;
    f.commit = r.commit;
    f.repo = r.repo;
    f.release = f.target.newReleaseName(p.rc);
    return [
      { action: 'resolve', detail: `${p.rc} matches ${f.loaded.config.app.tag_pattern} and exists in ${r.repo} (git ls-remote --tags): commit ${r.commit}`, writes: false },
      { action: 'target', detail: `${f.target.description}; current ${rel(f.current)}; previous ${rel(f.previous)}`, writes: false },
    ];
  }
  if (p.phase === 'rollback_start') {
    const f = await gather(step, 'rollback', p.environment);
    facts = f;
    const { pickRelease, checkTo } = await import('./rollback.js');
    if (p.to) checkTo(p.to);
    // As the run: an unknown --to or no previous release fails the dry run too (exit 2).
    const chosen = pickRelease(f.releases, f.previous, p.to, { environment: f.environment, releasesDir: f.target.paths.releases, previousLink: f.target.paths.previous });
    f.release = chosen.name;
    f.rc = chosen.meta?.rc;
    f.commit = chosen.meta?.commit;
    return [
      {
        action: 'choose',
        detail: `roll back to ${rel(chosen.name)} (${chosen.meta?.rc ?? '?'}, ${chosen.meta?.commit?.slice(0, 12) ?? '?'})${p.to ? ` named by --to ${p.to}` : ' (previous)'}; current now ${rel(f.current)}`,
        writes: false,
      },
    ];
  }
  const f = facts;
  if (!f) return [{ action: p.phase, detail: `deploy phase ${p.phase}`, writes: true }];
  const t = f.target;
  const staging = f.release ? join(t.paths.releases, `.partial-${f.release}`) : '';
  const final = f.release ? join(t.paths.releases, f.release) : '';
  switch (p.phase) {
    case 'lock':
      return [{ action: 'lock', detail: lockText(f), writes: true }];
    case 'confirm':
      return [{ action: 'confirm', detail: f.env.protected ? `environment ${f.environment} is protected: type "${f.environment}" to go on (or --yes)` : `environment ${f.environment} is not protected: no confirmation`, writes: false }];
    case 'skip_gates':
      return [{ action: 'audit', detail: `record in ${join(f.stateDir, 'audit.jsonl')} that the gates were skipped`, writes: true }];
    case 'fetch': {
      const { mirrorDirFor } = await import('../git/repo.js');
      const mirror = f.repo ? mirrorDirFor(f.repo, join(f.stateDir, 'cache')) : join(f.stateDir, 'cache');
      return [
        { action: 'fetch', detail: `git clone --mirror (once) / git fetch ${f.repo ?? 'app.repo'} into ${mirror}, unless it has ${f.commit?.slice(0, 12) ?? 'the commit'}`, writes: true },
        { action: 'export', detail: `git archive ${f.commit ?? '<commit>'} | tar -x -C ${staging}`, writes: true },
      ];
    }
    case 'build':
      return f.config.build.length
        ? f.config.build.map((argv) => ({ action: 'run', detail: `${displayCommand(argv)}  (in ${staging}; env ${Object.keys(f.config.env).join(', ') || 'none'} + LTC_RELEASE, LTC_RC, LTC_COMMIT)`, writes: true }))
        : [{ action: 'build', detail: 'no build commands configured', writes: false }];
    case 'env': {
      const names = f.env.secrets ? (f.env.secrets.required.length ? f.env.secrets.required.map((r) => r.name).join(', ') : 'every secret of the environment') : 'no secrets (no secrets: section)';
      return [
        { action: 'env', detail: `write ${t.paths.envFile} (mode 0600) with ${names}${f.env.secrets ? ` from the ${f.env.secrets.backend} backend` : ''}`, writes: true },
        { action: 'link', detail: `${join(staging, '.env')} → ${t.paths.envFile}; write .ltc-release.json; rename ${staging} → ${final}`, writes: true },
      ];
    }
    case 'pre_switch':
      return f.config.pre_switch.length
        ? f.config.pre_switch.map((argv) => ({ action: 'run', detail: `${displayCommand(argv)}  (in ${final}, with the app's environment)`, writes: true }))
        : [{ action: 'hooks', detail: 'no pre-switch hooks configured', writes: false }];
    case 'switch': {
      const to = p.release ?? f.release;
      const items: PlanItem[] = [{ action: 'switch', detail: `current → ${rel(to)} (now ${rel(f.current)}): new symlink, renamed over the old`, writes: true }];
      if (f.action === 'deploy' && f.current) {
        const note = f.liveBefore !== f.current ? ` (stays: ${rel(f.current)} never answered healthy)` : '';
        items.push({ action: 'previous', detail: `previous → ${rel(f.liveBefore)}${note}`, writes: true });
      }
      return items;
    }
    case 'restart':
      return [{ action: 'restart', detail: appText(f), writes: true }];
    case 'health':
      return healthItems(f, 'the app');
    case 'smoke':
      return f.config.smoke.length
        ? f.config.smoke.map((argv) => ({ action: 'run', detail: `${displayCommand(argv)}  (in ${t.paths.current}, LTC_URL=${f.env.url ?? ''})`, writes: false }))
        : [{ action: 'smoke', detail: 'no smoke tests configured', writes: false }];
    case 'log_scan':
      return [{ action: 'scan', detail: `${t.paths.logFile} from the start on for ${f.config.log_scan.map((x) => `/${x}/`).join(', ') || 'nothing (log_scan is empty)'}`, writes: false }];
    case 'record': {
      const items: PlanItem[] = [{ action: 'record', detail: `append to ${t.paths.revisions} and ${join(f.stateDir, 'audit.jsonl')}; release the lock`, writes: true }];
      if (f.action === 'deploy') {
        // as LocalTarget.prune: the new release and the one that becomes previous (the live one before) first, then the newest others
        const keepSet = new Set([f.release, f.liveBefore].filter((x): x is string => Boolean(x)));
        for (const r of f.releases) if (keepSet.size < f.config.keep_releases) keepSet.add(r.name);
        const removed = f.releases.filter((r) => !keepSet.has(r.name)).map((r) => r.name);
        items.push({ action: 'prune', detail: `keep the newest ${f.config.keep_releases} releases${removed.length ? `: would remove ${removed.join(', ')}` : ' (nothing to remove)'}`, writes: removed.length > 0 });
      } else {
        items.push({ action: 'previous', detail: 'previous → the newest release older than the new current that was once live', writes: true });
      }
      return items;
    }
    case 'rollback_choose':
      return [{ action: 'choose', detail: `again under the lock: ${rel(f.release)}`, writes: false }];
    case 'rollback_undo':
      return [
        {
          action: 'rollback',
          detail: f.liveBefore
            ? `on a failure after the switch: current → ${rel(f.liveBefore)}${f.liveBefore === f.current ? ' again' : ' (the release that ran)'}, previous → ${f.liveBefore === f.previous ? 'the release before it' : rel(f.previous)}, restart it, health-check it; exit 3 (exit 4 when that fails too)`
            : 'on a failure after the switch: no earlier release, so stop the app and remove current; exit 3',
          writes: true,
        },
      ];
    case 'rollback_failed':
      return [{ action: 'report', detail: 'on a failure: record it, print the state (current, app, logs) and the next commands; exit 4', writes: true }];
    default:
      return [{ action: p.phase, detail: `phase ${p.phase}`, writes: true }];
  }
}
