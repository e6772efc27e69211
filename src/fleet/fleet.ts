/**
 * `ltc deploy` / `ltc rollback` for a `type: ssh` target: the local target's phases, per host,
 * with nothing but POSIX sh, tar and coreutils on the hosts.
 *
 *   preflight (every host reachable, deploy root writable, disk space)  → nothing switched if one fails
 *   lock      (mkdir <root>/.ltc-lock on the primary host: atomic)
 *   upload    git archive <commit> | ssh host tar -x -C releases/.partial-<name>     (all hosts)
 *   env       shared/.env from stdin, mode 0600 (values never on a command line, a local file or a log)
 *   build     configured build commands in the release on the host
 *   finalize  .env link, .ltc-release.json, rename into releases/<name>
 *   rolling   per batch: switch current (ln -s + mv -T), restart, health via the host's url
 *             a failing batch rolls back every host switched in this run (exit 3; 4 if one cannot be)
 *   record    revisions.log line on every host; lock released last
 */
import { join } from 'node:path';
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { CheckFailedError, UsageError, toLtcError } from '../core/errors.js';
import { buildLocally, envFileText, must, prepareHost, pruneOn, recordOn, secretValues, STOP_APP, stopGraceArg, type Source } from './host-ops.js';
import { openFleet, primaryOf, useListrProgress, type Fleet, type FleetHost, type HostReport, type Links } from './open.js';
import { planBatches, planLines, rolling, stateLines } from './rolling.js';
import { partialReleaseDir, releaseLayout } from '../targets/layout.js';
import { auditFleetRun, hostOutcome, runOutcomeOf, type RunOutcome } from './outcome.js';
import { currentActor } from '../audit/actor.js';

export { openFleet, primaryOf, type Fleet, type FleetHost, type HostReport } from './open.js';

/** `fn` on every host at once; when one fails, one error naming every failed host and saying nothing was switched. */
async function onEveryHost<T>(f: Fleet, what: string, fn: (h: FleetHost) => Promise<T>): Promise<T[]> {
  const results = await Promise.allSettled(f.hosts.map(fn));
  const bad = results.map((r, i) => ({ r, h: f.hosts[i]! })).filter((x) => x.r.status === 'rejected');
  if (bad.length) {
    const first = toLtcError((bad[0]!.r as PromiseRejectedResult).reason);
    const lines = bad.map((x) => `  ${x.h.name}: ${toLtcError((x.r as PromiseRejectedResult).reason).message}`);
    const msg = `${what} failed on ${bad.map((x) => x.h.name).join(', ')}: nothing was switched on any host\n${lines.join('\n')}`;
    throw first.exitCode === 2 ? Object.assign(first, { message: msg }) : new CheckFailedError(msg, { hint: first.hint ?? 'fix the host and run the command again', details: { hosts: bad.map((x) => x.h.name) } });
  }
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}


/**
 * Every host reachable (connected first with a command that changes nothing, so a refused host
 * key or a host that is down stops the run before any host is touched), its deploy root writable,
 * free space ≥ 50 MB; returns current and previous per host.
 */
async function preflight(f: Fleet, needRelease?: (h: FleetHost) => string | undefined): Promise<Links> {
  await onEveryHost(f, 'connecting', (h) => must(f, h, 'connecting', 'true', []));
  if (f.lb) {
    try {
      await f.lb.check(f.hosts);
    } catch (err) {
      const e = toLtcError(err);
      throw Object.assign(e, { message: `${e.message.replace(/: nothing was switched$/, '')}: nothing was switched on any host` });
    }
  }
  const script = [
    'set -e',
    'mkdir -p "$1/releases" "$1/shared/logs"',
    't="$1/.ltc-probe.$$"; : > "$t" && rm -f "$t"',
    'kb=$(df -Pk "$1" | awk \'NR==2 {print $4}\')',
    'c=$(readlink "$1/current" 2>/dev/null || true); p=$(readlink "$1/previous" 2>/dev/null || true)',
    'echo "kb=$kb"; echo "current=${c##*/}"; echo "previous=${p##*/}"',
    'if [ -n "$2" ] && [ ! -d "$1/releases/$2" ]; then echo "missing=$2"; fi',
    'if [ -n "$c" ] && [ ! -d "$1/current/" ]; then echo "broken=${c##*/}"; fi',
  ].join('\n');
  const states = await onEveryHost(f, 'preflight', async (h) => {
    const out = await must(f, h, `preflight of ${h.root}`, script, [h.root, needRelease?.(h) ?? '']);
    const kv = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    if (Number(kv.kb) < 50 * 1024) throw new CheckFailedError(`host ${h.name}: only ${kv.kb} KB free in ${h.root}`, { hint: 'free disk space on the host' });
    if (kv.broken) throw new CheckFailedError(`host ${h.name}: current points to ${kv.broken}, which is not in ${h.root}/releases: neither a deploy (nothing to go back to) nor a rollback from it is safe`, { hint: `ltc releases --env ${f.environment} --hosts ${h.name}; then ltc rollback --env ${f.environment} --hosts ${h.name} --to <a release it has>` });
    if (kv.missing) throw new CheckFailedError(`host ${h.name}: release ${kv.missing} is not in ${h.root}/releases`, { hint: 'rollback readiness failed: nothing was switched on any host' });
    return { current: kv.current || null, previous: kv.previous || null };
  });
  return new Map(states.map((st, i) => [f.hosts[i]!.name, st]));
}

/** Rollback readiness: every host still holds the release it goes to (one round trip each; preflight ran already). */
async function releasesPresent(f: Fleet, releaseOf: (h: FleetHost) => string | undefined): Promise<void> {
  await onEveryHost(f, 'rollback readiness', async (h) => {
    const out = await must(f, h, 'checking the release', '[ -d "$1/releases/$2" ] || echo missing', [h.root, releaseOf(h) ?? '']);
    if (out.includes('missing')) throw new CheckFailedError(`host ${h.name}: release ${releaseOf(h)} is not in ${h.root}/releases`, { hint: 'rollback readiness failed: nothing was switched on any host' });
  });
}

/** The environment lock on the primary host, with a heartbeat; a stale one is taken over. */
async function lock(f: Fleet, action: string, rc: string | undefined, runId: string): Promise<() => Promise<void>> {
  const { hostname, userInfo } = await import('node:os');
  const { takeFleetLock } = await import('./lock.js');
  const info = { pid: process.pid, host: hostname(), user: userInfo().username, action, rc: rc ?? null, runId, startedAt: new Date().toISOString() };
  return takeFleetLock(f.ctx, f.pool, primaryOf(f), f.environment, f.staleMs, info);
}


function result(f: Fleet, action: string, release: string | null, reports: Map<string, HostReport>, t0: number, extra: Record<string, unknown>): CommandResult {
  const ms = Math.round(performance.now() - t0);
  return {
    data: { environment: f.environment, action, release, durationMs: ms, hosts: [...reports.values()], ...extra },
    text: [f.ctx.out.c.green(`${action}: ${release ?? 'per host'} on ${f.hosts.length} host(s) of ${f.environment} in ${formatDuration(ms)}`), stateLines(reports)].join('\n'),
  };
}

export async function fleetDeploy(ctx: Context, rc: string, hostsFilter?: string, rolesFilter?: string): Promise<CommandResult> {
  const t0 = performance.now();
  const { resolveRc } = await import('../deploy/phases.js');
  const { commit, repo } = await resolveRc(ctx, rc, ctx.signal);
  const f = await openFleet(ctx, hostsFilter, rolesFilter);
  const { releaseName } = await import('../targets/local/releases.js');
  const release = releaseName(rc);
  const runId = `${Date.now().toString(36)}-${process.pid}`;
  try {
    if (ctx.options.dryRun) {
      const plan = planBatches(f.hosts, f.config, true);
      return {
        data: { plan: { release, commit, build_on: f.config.build_on, batches: plan.map((b) => ({ canary: b.canary, hosts: b.hosts.map((h) => h.name) })) } },
        text: `would deploy ${rc} (${commit.slice(0, 12)}) as releases/${release} (build ${f.config.build_on === 'local' ? 'here, shipped' : 'on each host'}):\n${planLines(plan).join('\n')}\nnothing was changed`,
      };
    }
    const before = await preflight(f);
    const unlock = await lock(f, 'deploy', rc, runId);
    const reports = new Map<string, HostReport>(f.hosts.map((h) => [h.name, { host: h.name, before: before.get(h.name)!.current, current: before.get(h.name)!.current, state: 'unchanged', phases: {} }]));
    let buildDir: string | undefined;
    try {
      const { ensureMirror } = await import('../git/repo.js');
      const mirror = await ensureMirror(repo, join(await ctx.stateDir(), 'cache'), { commit, signal: ctx.signal });
      let sourceOf: (h: FleetHost) => Source = () => ({ kind: 'git', mirror, commit });
      if (f.config.build_on === 'local') {
        const { mkdtemp } = await import('node:fs/promises');
        buildDir = await mkdtemp(join(await ctx.stateDir(), 'cache', `build-${release}-`));
        const t = performance.now();
        const trees = await buildLocally(f, mirror, commit, buildDir);
        const ms = Math.round(performance.now() - t);
        for (const r of reports.values()) r.phases.localBuild = ms;
        sourceOf = (h) => ({ kind: 'built', dir: trees.get(JSON.stringify(h.build))! });
      }
      const values = await secretValues(f);
      const envText = envFileText(values);
      await useListrProgress(f, `deploy ${rc} as ${release} to ${f.hosts.length} host(s) of ${f.environment}`);
      const { hostname, userInfo } = await import('node:os');
      const meta = JSON.stringify({ name: release, rc, commit, createdAt: new Date().toISOString(), actor: `${userInfo().username}@${hostname()}` });
      const prepared = await Promise.allSettled(f.hosts.map((h) => prepareHost(f, h, sourceOf(h), release, envText, meta, reports.get(h.name)!)));
      const bad = prepared.map((r, i) => ({ r, h: f.hosts[i]! })).filter((x) => x.r.status === 'rejected');
      if (bad.length) {
        await Promise.all(f.hosts.map((h) => f.pool.script(h, 'rm -rf "$1"', [partialReleaseDir(releaseLayout(h.root), release)]).catch(() => undefined)));
        const lines = bad.map((x) => {
          const e = toLtcError((x.r as PromiseRejectedResult).reason);
          // The build's last output lines say why (e.g. No space left on device).
          return `  ${e.message}${e.hint ? `\n${e.hint.split('\n').map((l) => `    ${l}`).join('\n')}` : ''}`;
        });
        throw new CheckFailedError(`preparing ${release} failed: nothing was switched on any host\n${lines.join('\n')}`);
      }
      let outcome: RunOutcome = 'ok';
      let tolerated: string[] = [];
      try {
        tolerated = await rolling(f, 'deploy', () => release, reports, before, { canary: true, maxFailures: f.config.max_failures });
      } catch (err) {
        outcome = runOutcomeOf(err);
        throw err;
      } finally {
        await f.progress.finish();
        const actor = await currentActor();
        await Promise.all(
          f.hosts.map((h) => {
            const r = reports.get(h.name)!;
            const own = hostOutcome(outcome, r);
            if (!own) return undefined;
            return recordOn(f, h, { time: new Date().toISOString(), actor, action: 'deploy', environment: f.environment, rc, commit, release, from: r.before, outcome: own, runId, host: h.name, current: r.current });
          }),
        );
        await auditFleetRun(ctx, { action: 'deploy', environment: f.environment, rc, release, run: outcome, reports, runId, durationMs: performance.now() - t0 });
      }
      await Promise.all(f.hosts.map((h) => pruneOn(f, h)));
      const res = result(f, 'deployed', release, reports, t0, { rc, commit, runId, ...(tolerated.length ? { failedHosts: tolerated } : {}) });
      if (tolerated.length) {
        ctx.out.warn(`deployed to ${f.hosts.length - tolerated.length} of ${f.hosts.length} hosts; ${tolerated.join(', ')} failed (within max_failures ${f.config.max_failures}) and run${tolerated.length === 1 ? 's' : ''} the release from before. Next: fix ${tolerated.join(', ')}, then ltc deploy --rc ${rc} --env ${f.environment} --hosts ${tolerated.join(',')}`);
      }
      return res;
    } finally {
      await f.progress.finish();
      if (buildDir) await (await import('node:fs/promises')).rm(buildDir, { recursive: true, force: true });
      await unlock();
    }
  } finally {
    await f.pool.close();
  }
}

interface RollbackGoal {
  targetOf: (h: FleetHost) => string | undefined;
  /** Set when the hosts run different releases (a run that did not finish). */
  split?: string;
}

/**
 * Where each host goes: --to for all; when the hosts run different releases (a killed or cut-off
 * run), the release the hosts not on the newest one run, so the fleet ends on one release;
 * otherwise each host's previous release.
 */
export async function rollbackGoal(hosts: FleetHost[], links: Links, to: string | undefined): Promise<RollbackGoal> {
  if (to) return { targetOf: () => to };
  const currents = [...new Set(hosts.map((h) => links.get(h.name)!.current).filter((c): c is string => Boolean(c)))];
  if (currents.length <= 1) return { targetOf: (h) => links.get(h.name)!.previous ?? undefined };
  const { timeOfName } = await import('../targets/local/releases.js');
  const newest = currents.reduce((a, b) => ((timeOfName(b) ?? 0) > (timeOfName(a) ?? 0) ? b : a));
  const others = currents.filter((c) => c !== newest);
  const on = (r: string) => hosts.filter((h) => links.get(h.name)!.current === r).map((h) => h.name).join(', ');
  const where = currents.map((r) => `${on(r)} on ${r}`).join('; ');
  if (others.length > 1) {
    throw new UsageError(`the hosts run ${currents.length} different releases (${where}): say which one the fleet goes to`, { hint: `ltc rollback --env <env> --to <release>; ltc status --env <env> shows each host` });
  }
  const goal = others[0]!;
  return { targetOf: () => goal, split: `the hosts run different releases (${where}): bringing ${on(newest)} back to ${goal}` };
}

export async function fleetRollback(ctx: Context, to: string | undefined, hostsFilter?: string, rolesFilter?: string): Promise<CommandResult> {
  const t0 = performance.now();
  const f = await openFleet(ctx, hostsFilter, rolesFilter);
  const runId = `${Date.now().toString(36)}-${process.pid}`;
  try {
    const links = await preflight(f);
    const unlock = ctx.options.dryRun ? async () => undefined : await lock(f, 'rollback', undefined, runId);
    try {
      const goal = await rollbackGoal(f.hosts, links, to);
      const { targetOf } = goal;
      const missing = f.hosts.filter((h) => !targetOf(h));
      if (missing.length) throw new CheckFailedError(`no previous release on ${missing.map((h) => h.name).join(', ')}: nothing was switched`, { hint: 'name one with --to <release>' });
      // Rollback readiness on every host before anything is switched: the release is there.
      await releasesPresent(f, targetOf);
      if (goal.split) ctx.out.warn(goal.split);
      // Bringing a split fleet together: a host already on the goal is left alone. (With --to,
      // every host is switched and restarted: `--to <current>` is how a stopped app starts again.)
      const all = f.hosts;
      if (goal.split) f.hosts = all.filter((h) => links.get(h.name)!.current !== targetOf(h));
      const plan = all.map((h) => ({ host: h.name, from: links.get(h.name)!.current, to: targetOf(h)!, change: f.hosts.includes(h) }));
      if (ctx.options.dryRun) {
        return { data: { plan }, text: plan.map((p) => `  ${p.host}: ${p.change ? `${p.from} → ${p.to}` : `stays on ${p.to}`}`).join('\n') + '\nnothing was changed' };
      }
      const reports = new Map<string, HostReport>(all.map((h) => [h.name, { host: h.name, before: links.get(h.name)!.current, current: links.get(h.name)!.current, state: 'unchanged', phases: {} }]));
      await useListrProgress(f, `rollback of ${f.hosts.length} host(s) of ${f.environment}`);
      let outcome: RunOutcome = 'ok';
      try {
        await rolling(f, 'rollback', (h) => targetOf(h)!, reports, links);
      } catch (err) {
        outcome = runOutcomeOf(err);
        throw err;
      } finally {
        await f.progress.finish();
        const actor = await currentActor();
        await Promise.all(
          f.hosts.map((h) => {
            const r = reports.get(h.name)!;
            const own = hostOutcome(outcome, r);
            if (!own) return undefined;
            return recordOn(f, h, { time: new Date().toISOString(), actor, action: 'rollback', environment: f.environment, release: targetOf(h), from: r.before, outcome: own, runId, host: h.name, current: r.current });
          }),
        );
        const targets = new Set(f.hosts.map((h) => targetOf(h)));
        await auditFleetRun(ctx, { action: 'rollback', environment: f.environment, release: targets.size === 1 ? ([...targets][0] ?? null) : null, run: outcome, reports, runId, durationMs: performance.now() - t0 });
        f.hosts = all;
      }
      const names = new Set(all.map(targetOf));
      return result(f, 'rolled back', names.size === 1 ? [...names][0]! : null, reports, t0, { runId, ...(goal.split ? { split: goal.split } : {}) });
    } finally {
      await unlock();
    }
  } finally {
    await f.pool.close();
  }
}

/** `ltc stop` on a fleet: drained first when there is a load balancer (and left drained), then stopped; current stays. */
export async function fleetStop(ctx: Context, hostsFilter?: string): Promise<CommandResult> {
  const t0 = performance.now();
  const f = await openFleet(ctx, hostsFilter);
  const runId = `${Date.now().toString(36)}-${process.pid}`;
  try {
    if (f.config.service) throw new UsageError(`the app of environment ${f.environment} is run by the service command ${f.config.service.join(' ')}, not by ltc: ltc cannot stop it`, { hint: 'stop it with the service manager on each host' });
    const links = await preflight(f);
    if (ctx.options.dryRun) return { data: { plan: f.hosts.map((h) => h.name) }, text: `would stop the app on ${f.hosts.map((h) => h.name).join(', ')}${f.lb ? ` (drained from the ${f.lb.label} first)` : ''}; nothing was changed` };
    const unlock = await lock(f, 'stop', undefined, runId);
    const reports = new Map<string, HostReport>(f.hosts.map((h) => [h.name, { host: h.name, before: links.get(h.name)!.current, current: links.get(h.name)!.current, state: 'unchanged', phases: {} }]));
    try {
      const { hostname, userInfo } = await import('node:os');
      await onEveryHost(f, 'stopping', async (h) => {
        await f.lb?.drain(h);
        const out = await must(f, h, 'stopping the app', STOP_APP, [h.root, stopGraceArg(f)]);
        const pid = /stopped=(\d+)/.exec(out)?.[1];
        ctx.out.info(`  ${h.name}: ${pid ? `stopped pid ${pid}` : 'was not running'}`);
        await recordOn(f, h, { time: new Date().toISOString(), actor: `${userInfo().username}@${hostname()}`, action: 'stop', environment: f.environment, release: links.get(h.name)!.current, outcome: 'ok', runId, host: h.name, current: links.get(h.name)!.current });
      });
      if (f.lb) ctx.out.warn(`left drained in the ${f.lb.label}: ${f.hosts.map((h) => h.name).join(', ')} (ltc rollback --env ${f.environment} --to <current release> starts and enables them again)`);
      return result(f, 'stopped', null, reports, t0, { runId });
    } finally {
      await unlock();
    }
  } finally {
    await f.pool.close();
  }
}

/** Is the environment's target `type: ssh`? */
export async function isSshEnvironment(ctx: Context): Promise<boolean> {
  const { env } = await ctx.environment();
  return env.target?.type === 'ssh';
}

