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
import type { SshHostConfig, SshTargetConfig } from '../config/schema/target.js';
import type { Context } from '../core/context.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { CheckFailedError, LockedError, RollbackFailedError, RolledBackError, UsageError, toLtcError } from '../core/errors.js';
import { shQuote } from './quote.js';
import { openLoadBalancer, type LoadBalancer } from './lb.js';
import { SshPool, type SshEndpoint } from './ssh.js';

export interface FleetHost extends SshEndpoint {
  /** Its server name in the load balancer's backend. */
  server: string;
  root: string;
  url: string;
  env: Record<string, string>;
  roles: string[];
}

export interface HostReport {
  host: string;
  before: string | null;
  current: string | null;
  state: 'unchanged' | 'switched' | 'rolled_back' | 'rollback_failed' | 'failed';
  phases: Record<string, number>;
  error?: string;
}

export interface Fleet {
  ctx: Context;
  environment: string;
  config: SshTargetConfig;
  hosts: FleetHost[];
  pool: SshPool;
  lb: LoadBalancer | undefined;
  graceMs: number;
  healthMs: number;
  staleMs: number;
}

function hostsOf(config: SshTargetConfig, filter?: string): FleetHost[] {
  const all = config.hosts.map((h: SshHostConfig) => ({
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    server: h.lb_server ?? h.name,
    root: (h.deploy_root ?? config.deploy_root)!.replace(/\/+$/, ''),
    url: h.url.replace(/\/+$/, ''),
    env: { ...config.env, ...h.env },
    roles: h.roles,
  }));
  if (!filter) return all;
  const names = filter.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!all.some((h) => h.name === n)) throw new UsageError(`--hosts: no host named ${JSON.stringify(n)}`, { hint: `hosts: ${all.map((h) => h.name).join(', ')}` });
  }
  return all.filter((h) => names.includes(h.name));
}

export async function openFleet(ctx: Context, hostsFilter?: string): Promise<Fleet> {
  const { name, env, loaded } = await ctx.environment();
  const config = env.target as SshTargetConfig;
  const pool = await SshPool.open(
    {
      ...(config.identity_file ? { identityFile: loaded.resolvePath(config.identity_file) } : {}),
      ...(config.known_hosts ? { knownHosts: loaded.resolvePath(config.known_hosts) } : {}),
      hostKeyCheck: config.host_key_check,
      connectTimeoutMs: parseDuration(config.connect_timeout, 'connect_timeout'),
      commandTimeoutMs: parseDuration(config.command_timeout, 'command_timeout'),
    },
    ctx.masker,
  );
  return {
    ctx,
    environment: name,
    config,
    hosts: hostsOf(config, hostsFilter),
    pool,
    lb: openLoadBalancer(config.lb, ctx, pool, hostsOf(config)),
    graceMs: parseDuration(config.stop_grace, 'stop_grace'),
    healthMs: parseDuration(config.health_deadline, 'health_deadline'),
    staleMs: parseDuration(config.lock_stale_after, 'lock_stale_after'),
  };
}

/** Fails unless the remote command exited 0. */
async function must(f: Fleet, h: FleetHost, what: string, script: string, args: string[], input?: string): Promise<string> {
  const r = await f.pool.script(h, script, args, { ...(input !== undefined ? { input } : {}), signal: f.ctx.signal });
  if (r.exitCode !== 0) {
    throw new CheckFailedError(`host ${h.name}: ${what} failed (exit ${r.exitCode}): ${r.output.trim().split('\n').slice(-3).join(' | ')}`, { details: { host: h.name } });
  }
  return r.stdout;
}

const READ_LINK = 'l=$(readlink "$1" 2>/dev/null) && basename "$l" || true';

async function readLinkOn(f: Fleet, h: FleetHost, link: 'current' | 'previous'): Promise<string | null> {
  const out = (await must(f, h, `reading ${link}`, READ_LINK, [`${h.root}/${link}`])).trim();
  return out || null;
}

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
  ].join('\n');
  const states = await onEveryHost(f, 'preflight', async (h) => {
    const out = await must(f, h, `preflight of ${h.root}`, script, [h.root, needRelease?.(h) ?? '']);
    const kv = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    if (Number(kv.kb) < 50 * 1024) throw new CheckFailedError(`host ${h.name}: only ${kv.kb} KB free in ${h.root}`, { hint: 'free disk space on the host' });
    if (kv.missing) throw new CheckFailedError(`host ${h.name}: release ${kv.missing} is not in ${h.root}/releases`, { hint: 'rollback readiness failed: nothing was switched on any host' });
    return { current: kv.current || null, previous: kv.previous || null };
  });
  return new Map(states.map((st, i) => [f.hosts[i]!.name, st]));
}

/** The environment lock on the primary host, with a heartbeat; a stale one is taken over. */
async function lock(f: Fleet, action: string, rc: string | undefined, runId: string): Promise<() => Promise<void>> {
  const { hostname, userInfo } = await import('node:os');
  const { takeFleetLock } = await import('./lock.js');
  const info = { pid: process.pid, host: hostname(), user: userInfo().username, action, rc: rc ?? null, runId, startedAt: new Date().toISOString() };
  return takeFleetLock(f.ctx, f.pool, primaryOf(f), f.environment, f.staleMs, info);
}

/** The first configured host, whether or not --hosts selected it: it holds the lock. */
export function primaryOf(f: Fleet): FleetHost {
  const name = f.config.hosts[0]!.name;
  return f.hosts.find((x) => x.name === name) ?? hostsOf(f.config).find((x) => x.name === name)!;
}

function envFileText(values: ReadonlyMap<string, string>): string {
  return [...values].map(([k, v]) => `${k}=${shQuote(v)}`).join('\n') + (values.size ? '\n' : '');
}

async function secretValues(f: Fleet): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  const { env } = await f.ctx.environment();
  if (!env.secrets) return values;
  const { openScope, audited } = await import('../secrets/service.js');
  const scope = await openScope({ ...f.ctx, options: { ...f.ctx.options, env: f.environment } } as Context);
  try {
    const names = scope.config.required.length ? scope.config.required.map((r) => r.name) : (await scope.backend.list()).map((d) => d.name);
    for (const name of names) {
      const v = await audited(scope, { action: 'secret.read', secret: name, details: { purpose: 'fleet deploy env file' } }, () => scope.backend.getValue(name, { stage: 'current' }), (x) => x.versionId);
      f.ctx.masker.add(v.value);
      values.set(name, v.value);
    }
  } finally {
    await scope.backend.close?.();
  }
  return values;
}

function envPrefix(h: FleetHost): string[] {
  const entries = Object.entries(h.env);
  return entries.length ? ['env', ...entries.map(([k, v]) => `${k}=${v}`)] : [];
}

/** Upload, env, build, finalize on one host; nothing switched. */
async function prepareHost(f: Fleet, h: FleetHost, mirror: string, commit: string, release: string, envText: string, meta: string, rep: HostReport): Promise<void> {
  const partial = `${h.root}/releases/.partial-${release}`;
  let t = performance.now();
  const up = await f.pool.pipe(h, ['git', 'archive', '--format=tar', commit], mirror, 'set -e; rm -rf "$1"; mkdir -p "$1"; tar -x -f - -C "$1"', [partial], f.ctx.signal);
  if (up.exitCode !== 0) throw new CheckFailedError(`host ${h.name}: upload into ${partial} failed: ${up.output.trim()}`);
  rep.phases.upload = Math.round(performance.now() - t);
  t = performance.now();
  // shared/.env from stdin: a temp file made with umask 077, renamed over the old one.
  await must(f, h, 'writing shared/.env', 'set -e; umask 077; mkdir -p "$1"; t="$1/.env.$$.tmp"; cat > "$t"; chmod 600 "$t"; mv -f "$t" "$1/.env"', [`${h.root}/shared`], envText);
  rep.phases.env = Math.round(performance.now() - t);
  t = performance.now();
  for (const cmd of f.config.build) {
    const r = await f.pool.script(h, 'cd "$1" && shift && exec "$@"', [partial, ...envPrefix(h), ...cmd], { signal: f.ctx.signal });
    if (r.exitCode !== 0) throw new CheckFailedError(`host ${h.name}: build ${cmd.join(' ')} exited with ${r.exitCode}`, { hint: r.output.trim().split('\n').slice(-5).join('\n') });
  }
  rep.phases.build = Math.round(performance.now() - t);
  await must(
    f,
    h,
    'finalizing the release',
    'set -e; cd "$1"; rm -rf .env; ln -s ../../shared/.env .env; cat > .ltc-release.json; cd ..; rm -rf "$2"; mv "$1" "$2"',
    [partial, `${h.root}/releases/${release}`],
    meta,
  );
}

/** current → releases/<name> atomically; previous → what current was. */
async function switchHost(f: Fleet, h: FleetHost, release: string, previous: string | null): Promise<void> {
  await must(
    f,
    h,
    `switching current to ${release}`,
    'set -e; cd "$1"; test -d "releases/$2"; ln -sfn "releases/$2" .current.tmp.$$; mv -T .current.tmp.$$ current; ' +
      'if [ -n "$3" ]; then ln -sfn "releases/$3" .previous.tmp.$$; mv -T .previous.tmp.$$ previous; fi',
    [h.root, release, previous ?? ''],
  );
}

// $1 root, $2 grace in tenths of a second: SIGTERM to the app's process group, SIGKILL after the grace.
const STOP_APP = [
  'root="$1"; grace="$2"; shift 2',
  'pidf="$root/shared/app.pid"',
  'if [ -f "$pidf" ]; then pid=$(sed -n "s/^pid=//p" "$pidf"); if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then',
  '  echo "stopped=$pid"; kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; i=0',
  // A zombie (exited, not yet reaped by the host's init) counts as stopped.
  '  while kill -0 "$pid" 2>/dev/null && [ "$(awk \'{print $3}\' /proc/$pid/stat 2>/dev/null)" != Z ] && [ $i -lt "$grace" ]; do sleep 0.1; i=$((i+1)); done',
  '  kill -KILL -"$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi; rm -f "$pidf"; fi',
].join('\n');

/** Stops the app (TERM, KILL after the grace period) and starts it detached from current. */
async function restartHost(f: Fleet, h: FleetHost): Promise<void> {
  if (f.config.service) {
    await must(f, h, `service command ${f.config.service.join(' ')}`, 'cd "$1" && shift && exec "$@"', [`${h.root}/current`, ...envPrefix(h), ...f.config.service]);
    return;
  }
  const script = [
    STOP_APP,
    'cd "$root/current" || exit 1',
    'mkdir -p "$root/shared/logs"',
    // The app gets shared/.env (sh-quoted values) in its environment; setsid: its own process group.
    'set -a; [ -f "$root/shared/.env" ] && . "$root/shared/.env"; set +a',
    'if command -v setsid >/dev/null 2>&1; then setsid "$@" >> "$root/shared/logs/app.log" 2>&1 < /dev/null & else "$@" >> "$root/shared/logs/app.log" 2>&1 < /dev/null & fi',
    'pid=$!',
    'st=$(awk \'{print $22}\' /proc/$pid/stat 2>/dev/null || true)',
    'printf "pid=%s\\nstart=%s\\nrelease=%s\\n" "$pid" "$st" "$(basename "$(readlink "$root/current")")" > "$pidf"',
    'echo "$pid"',
  ].join('\n');
  await must(f, h, 'starting the app', script, [h.root, String(Math.max(1, Math.round(f.graceMs / 100))), ...envPrefix(h), ...f.config.start!]);
}

async function healthHost(f: Fleet, h: FleetHost): Promise<void> {
  const url = h.url + f.config.health_path;
  const deadline = Date.now() + f.healthMs;
  let last = '';
  while (Date.now() < deadline) {
    f.ctx.signal.throwIfAborted();
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
      if (res.status >= 500) {
        // Up and answering 5xx: three in a row is a failure, not a slow start.
        const again = await fetch(url, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
        if (again && again.status >= 500) throw new CheckFailedError(`host ${h.name}: health ${url} answers ${again.status}`);
      }
    } catch (err) {
      if (err instanceof CheckFailedError) throw err;
      last = (err as Error).cause ? String(((err as Error).cause as Error).message ?? (err as Error).cause) : (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new CheckFailedError(`host ${h.name}: health ${url} not green within ${formatDuration(f.healthMs)} (${last})`);
}

async function recordOn(f: Fleet, h: FleetHost, record: Record<string, unknown>): Promise<void> {
  await f.pool.script(h, 'cat >> "$1/revisions.log"', [h.root], { input: JSON.stringify(record) + '\n' }).catch(() => undefined);
}

async function pruneOn(f: Fleet, h: FleetHost): Promise<void> {
  // Newest first by name (names end in a UTC timestamp), keep N, never current or previous.
  const script =
    'cd "$1/releases" || exit 0; c=$(basename "$(readlink ../current)" 2>/dev/null); p=$(basename "$(readlink ../previous)" 2>/dev/null); n=0; ' +
    'for d in $(ls -1t); do n=$((n+1)); [ $n -le "$2" ] && continue; [ "$d" = "$c" ] || [ "$d" = "$p" ] || rm -rf -- "$d"; done';
  await f.pool.script(h, script, [h.root, String(f.config.keep_releases)]).catch(() => undefined);
}

function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Back to `to` on each host (switch, restart, health); returns the hosts that could not be. */
async function undo(f: Fleet, hosts: FleetHost[], to: Map<string, string | null>, reports: Map<string, HostReport>, previousBefore: (h: FleetHost) => string | null): Promise<string[]> {
  const failed: string[] = [];
  for (const h of hosts) {
    const rep = reports.get(h.name)!;
    const target = to.get(h.name);
    try {
      if (!target) throw new CheckFailedError(`host ${h.name}: no release to go back to`);
      // Both links as they were before this run: previous must not end up equal to current.
      await switchHost(f, h, target, previousBefore(h));
      await restartHost(f, h);
      await healthHost(f, h);
      await f.lb?.enable(h);
      rep.state = 'rolled_back';
      rep.current = target;
      f.ctx.out.info(`  ${h.name}: rolled back to ${target}`);
    } catch (err) {
      rep.state = 'rollback_failed';
      rep.error = toLtcError(err).message;
      failed.push(h.name);
      f.ctx.out.error(`  ${h.name}: rollback failed: ${rep.error}`);
    }
  }
  return failed;
}

function stateLines(reports: Map<string, HostReport>): string {
  return [...reports.values()].map((r) => `  ${r.host}: ${r.state}, current ${r.current ?? '(none)'}${r.error ? ` (${r.error})` : ''}`).join('\n');
}

/** Each host's links before the run: where it is switched from, and its previous release then. */
type Links = Map<string, { current: string | null; previous: string | null }>;

/**
 * Switches hosts batch by batch to `releaseOf(host)` (previous := its current before); a failing
 * batch rolls back every host switched in this run to its links before (exit 3; 4 when one
 * cannot be rolled back).
 */
async function rolling(f: Fleet, action: string, releaseOf: (h: FleetHost) => string, reports: Map<string, HostReport>, before: Links): Promise<void> {
  const previousOf = (h: FleetHost) => before.get(h.name)!.current;
  const switched: FleetHost[] = [];
  const drained: FleetHost[] = [];
  for (const batch of batches(f.hosts, f.config.batch)) {
    const results = await Promise.allSettled(
      batch.map(async (h) => {
        const rep = reports.get(h.name)!;
        let t = performance.now();
        if (f.lb) {
          drained.push(h);
          await f.lb.drain(h);
          rep.phases.drain = Math.round(performance.now() - t);
          t = performance.now();
        }
        await switchHost(f, h, releaseOf(h), previousOf(h));
        switched.push(h);
        rep.state = 'switched';
        rep.current = releaseOf(h);
        rep.phases.switch = Math.round(performance.now() - t);
        t = performance.now();
        await restartHost(f, h);
        rep.phases.restart = Math.round(performance.now() - t);
        t = performance.now();
        await healthHost(f, h);
        rep.phases.health = Math.round(performance.now() - t);
        if (f.lb) {
          t = performance.now();
          await f.lb.enable(h);
          rep.phases.enable = Math.round(performance.now() - t);
        }
        f.ctx.out.info(`  ${h.name}: ${action} ${releaseOf(h)} healthy (${h.url})`);
      }),
    );
    const bad = results.map((r, i) => ({ r, h: batch[i]! })).filter((x) => x.r.status === 'rejected');
    if (!bad.length) continue;
    const reason = bad.map((x) => `${x.h.name}: ${toLtcError((x.r as PromiseRejectedResult).reason).message}`).join('; ');
    for (const x of bad) reports.get(x.h.name)!.error = toLtcError((x.r as PromiseRejectedResult).reason).message;
    if (switched.length === 0) {
      for (const h of drained) await f.lb!.enable(h).catch((err: unknown) => f.ctx.out.error(`  ${h.name}: could not enable it again in the load balancer: ${toLtcError(err).message}`));
      throw new CheckFailedError(`${action} failed before any host was switched (${reason}): nothing was switched on any host`, { hint: `state per host:\n${stateLines(reports)}`, details: { hosts: [...reports.values()] } });
    }
    f.ctx.out.error(`${action} failed on ${bad.map((x) => x.h.name).join(', ')}: rolling back ${switched.map((h) => h.name).join(', ')}`);
    const back = new Map(switched.map((h) => [h.name, reports.get(h.name)!.before]));
    const failed = await undo(f, switched, back, reports, (h) => before.get(h.name)!.previous);
    // Drained but never switched (the drain itself failed, or a batch mate did first): back in.
    for (const h of drained.filter((d) => !switched.includes(d))) {
      await f.lb!.enable(h).catch((err: unknown) => f.ctx.out.error(`  ${h.name}: could not enable it again in the load balancer: ${toLtcError(err).message}`));
    }
    if (failed.length && f.lb) f.ctx.out.warn(`left drained in the ${f.lb.label}: ${failed.join(', ')} (enable them once they are healthy)`);
    if (failed.length) {
      throw new RollbackFailedError(`${action} failed (${reason}) and the rollback failed on ${failed.join(', ')}`, {
        hint: `state per host:\n${stateLines(reports)}\nnext: fix ${failed.join(', ')}, then ltc rollback --env ${f.environment}`,
        details: { hosts: [...reports.values()] },
      });
    }
    throw new RolledBackError(`${action} failed (${reason}); every host switched in this run was rolled back`, {
      hint: `state per host:\n${stateLines(reports)}`,
      details: { hosts: [...reports.values()] },
    });
  }
}

function result(f: Fleet, action: string, release: string | null, reports: Map<string, HostReport>, t0: number, extra: Record<string, unknown>): CommandResult {
  const ms = Math.round(performance.now() - t0);
  return {
    data: { environment: f.environment, action, release, durationMs: ms, hosts: [...reports.values()], ...extra },
    text: [f.ctx.out.c.green(`${action}: ${release ?? 'per host'} on ${f.hosts.length} host(s) of ${f.environment} in ${formatDuration(ms)}`), stateLines(reports)].join('\n'),
  };
}

export async function fleetDeploy(ctx: Context, rc: string, hostsFilter?: string): Promise<CommandResult> {
  const t0 = performance.now();
  const { resolveRc } = await import('../deploy/phases.js');
  const { commit, repo } = await resolveRc(ctx, rc, ctx.signal);
  const f = await openFleet(ctx, hostsFilter);
  const { releaseName } = await import('../targets/local/releases.js');
  const release = releaseName(rc);
  const runId = `${Date.now().toString(36)}-${process.pid}`;
  try {
    if (ctx.options.dryRun) {
      const lines = batches(f.hosts, f.config.batch).map((b, i) => `  batch ${i + 1}: ${b.map((h) => `${h.name} (${h.user}@${h.address}:${h.port} ${h.root})`).join(', ')}`);
      return { data: { plan: { release, commit, batches: batches(f.hosts, f.config.batch).map((b) => b.map((h) => h.name)) } }, text: `would deploy ${rc} (${commit.slice(0, 12)}) as releases/${release}:\n${lines.join('\n')}\nnothing was changed` };
    }
    const before = await preflight(f);
    const unlock = await lock(f, 'deploy', rc, runId);
    const reports = new Map<string, HostReport>(f.hosts.map((h) => [h.name, { host: h.name, before: before.get(h.name)!.current, current: before.get(h.name)!.current, state: 'unchanged', phases: {} }]));
    try {
      const { ensureMirror } = await import('../git/repo.js');
      const mirror = await ensureMirror(repo, join(await ctx.stateDir(), 'cache'), { commit, signal: ctx.signal });
      const values = await secretValues(f);
      const envText = envFileText(values);
      const { hostname, userInfo } = await import('node:os');
      const meta = JSON.stringify({ name: release, rc, commit, createdAt: new Date().toISOString(), actor: `${userInfo().username}@${hostname()}` });
      const prepared = await Promise.allSettled(f.hosts.map((h) => prepareHost(f, h, mirror, commit, release, envText, meta, reports.get(h.name)!)));
      const bad = prepared.map((r, i) => ({ r, h: f.hosts[i]! })).filter((x) => x.r.status === 'rejected');
      if (bad.length) {
        for (const h of f.hosts) await f.pool.script(h, 'rm -rf "$1"', [`${h.root}/releases/.partial-${release}`]).catch(() => undefined);
        throw new CheckFailedError(`preparing ${release} failed: nothing was switched on any host\n${bad.map((x) => `  ${toLtcError((x.r as PromiseRejectedResult).reason).message}`).join('\n')}`);
      }
      let outcome = 'ok';
      try {
        await rolling(f, 'deploy', () => release, reports, before);
      } catch (err) {
        outcome = toLtcError(err).exitCode === 4 ? 'rollback_failed' : 'rolled_back';
        throw err;
      } finally {
        const actor = `${userInfo().username}@${hostname()}`;
        for (const h of f.hosts) {
          const r = reports.get(h.name)!;
          await recordOn(f, h, { time: new Date().toISOString(), actor, action: 'deploy', environment: f.environment, rc, commit, release, from: r.before, outcome, runId, host: h.name, current: r.current });
        }
      }
      for (const h of f.hosts) await pruneOn(f, h);
      return result(f, 'deployed', release, reports, t0, { rc, commit, runId });
    } finally {
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

export async function fleetRollback(ctx: Context, to: string | undefined, hostsFilter?: string): Promise<CommandResult> {
  const t0 = performance.now();
  const f = await openFleet(ctx, hostsFilter);
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
      await preflight(f, targetOf);
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
      let outcome = 'ok';
      try {
        await rolling(f, 'rollback', (h) => targetOf(h)!, reports, links);
      } catch (err) {
        outcome = toLtcError(err).exitCode === 4 ? 'rollback_failed' : 'rolled_back';
        throw err;
      } finally {
        const { hostname, userInfo } = await import('node:os');
        for (const h of f.hosts) {
          const r = reports.get(h.name)!;
          await recordOn(f, h, { time: new Date().toISOString(), actor: `${userInfo().username}@${hostname()}`, action: 'rollback', environment: f.environment, release: targetOf(h), from: r.before, outcome, runId, host: h.name, current: r.current });
        }
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
        const out = await must(f, h, 'stopping the app', STOP_APP, [h.root, String(Math.max(1, Math.round(f.graceMs / 100)))]);
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
