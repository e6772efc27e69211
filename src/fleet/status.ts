/**
 * `ltc status`, `ltc releases`, `ltc stop` and `ltc lock` for a `type: ssh` target: one remote
 * script per host (current, previous, releases, whether the app runs, the last revisions.log
 * line), the health of each host's own URL from here, the lock on the primary host.
 */
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { CheckFailedError, UsageError, toLtcError } from '../core/errors.js';
import { openFleet, primaryOf, type Fleet, type FleetHost } from './fleet.js';
import { describeHolder, dropFleetLock, fleetLockDir, readFleetLock, type FleetLockState } from './lock.js';
import { printableLine } from '../core/printable.js';
import { isReleaseName } from '../targets/local/releases.js';

export interface HostStatus {
  host: string;
  address: string;
  reachable: boolean;
  error?: string;
  current: string | null;
  previous: string | null;
  releases: string[];
  app: { running: boolean; pid?: number; release?: string; stalePid?: number; mode: 'supervised' | 'service' };
  health: { ok: boolean; status?: number; ms?: number; error?: string; url: string };
  last: { action?: string; rc?: string; release?: string; outcome?: string; time?: string } | null;
}

// $1 deploy root. The pid file's start time guards against a pid reused by another process.
const PROBE = [
  'r="$1"',
  'c=$(readlink "$r/current" 2>/dev/null || true); p=$(readlink "$r/previous" 2>/dev/null || true)',
  'echo "current=${c##*/}"; echo "previous=${p##*/}"',
  'f="$r/shared/app.pid"',
  'if [ -f "$f" ]; then pid=$(sed -n "s/^pid=//p" "$f"); st=$(sed -n "s/^start=//p" "$f"); rel=$(sed -n "s/^release=//p" "$f")',
  '  now=$(awk \'{print $22}\' /proc/"$pid"/stat 2>/dev/null || true); zs=$(awk \'{print $3}\' /proc/"$pid"/stat 2>/dev/null || true)',
  '  if [ -n "$pid" ] && [ -n "$now" ] && [ "$zs" != Z ] && { [ -z "$st" ] || [ "$st" = "$now" ]; }; then echo "pid=$pid"; echo "running=$rel"; else echo "stale=$pid"; fi',
  'fi',
  'echo "last=$(tail -n 1 "$r/revisions.log" 2>/dev/null)"',
  'ls -1t "$r/releases" 2>/dev/null | sed "s/^/release=/"',
].join('\n');

async function healthOf(f: Fleet, h: FleetHost): Promise<HostStatus['health']> {
  const url = h.url + h.healthPath;
  const t = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer().catch(() => undefined);
    return { ok: res.ok, status: res.status, ms: Math.round(performance.now() - t), url };
  } catch (err) {
    const cause = (err as Error).cause as { code?: string; message?: string } | undefined;
    return { ok: false, error: cause?.code ?? cause?.message ?? (err as Error).message, url };
  }
}

async function probeHost(f: Fleet, h: FleetHost): Promise<HostStatus> {
  const base = { host: h.name, address: `${h.user}@${h.address}:${h.port}`, current: null, previous: null, releases: [], last: null };
  const service = Boolean(h.service) || !h.restart;
  const [r, health] = await Promise.all([f.pool.script(h, PROBE, [h.root], { signal: f.ctx.signal }).catch((err: unknown) => toLtcError(err)), healthOf(f, h)]);
  if (r instanceof Error || r.exitCode !== 0) {
    const error = r instanceof Error ? r.message : r.output.trim().split('\n').slice(-1)[0] ?? `exit ${r.exitCode}`;
    return { ...base, reachable: false, error, app: { running: false, mode: service ? 'service' : 'supervised' }, health };
  }
  const lines = r.stdout.split('\n');
  const get = (k: string) => lines.find((l) => l.startsWith(`${k}=`))?.slice(k.length + 1) ?? '';
  let last: HostStatus['last'] = null;
  try {
    if (get('last')) last = JSON.parse(get('last')) as HostStatus['last'];
  } catch {
    last = null;
  }
  const pid = Number(get('pid')) || undefined;
  const stale = Number(get('stale')) || undefined;
  return {
    ...base,
    reachable: true,
    current: shownName(get('current')),
    previous: shownName(get('previous')),
    // Only names a release can have (a folder made by hand with an escape sequence is not listed).
    releases: lines.filter((l) => l.startsWith('release=')).map((l) => l.slice(8)).filter(isReleaseName),
    app: service ? { running: health.ok, mode: 'service' } : { running: Boolean(pid), mode: 'supervised', ...(pid ? { pid, release: get('running') } : {}), ...(stale ? { stalePid: stale } : {}) },
    health,
    last,
  };
}

async function fleetState(ctx: Context, hostsFilter?: string, rolesFilter?: string): Promise<{ f: Fleet; hosts: HostStatus[]; lock: FleetLockState | { error: string } }> {
  const f = await openFleet(ctx, hostsFilter, rolesFilter);
  const primary = primaryOf(f);
  const [hosts, lock] = await Promise.all([
    Promise.all(f.hosts.map((h) => probeHost(f, h))),
    readFleetLock(f.pool, primary, Math.round(f.staleMs / 1000), ctx.signal).catch((err: unknown) => ({ error: toLtcError(err).message })),
  ]);
  return { f, hosts, lock };
}

function lockLine(f: Fleet, lock: FleetLockState | { error: string }): string {
  const { c } = f.ctx.out;
  const where = `${primaryOf(f).name}:${fleetLockDir(primaryOf(f).root)}`;
  if ('error' in lock) return c.red(`lock: unknown (${lock.error})`);
  if (!lock.held) return `lock: free (${where})`;
  const who = `${describeHolder(lock.info)}, heartbeat ${lock.ageSeconds}s ago`;
  return lock.stale ? c.red(`lock: STALE (${who}): the run was killed; the next deploy or rollback takes it over, or ltc lock release --env ${f.environment}`) : c.yellow(`lock: held by ${who}`);
}

function appText(s: HostStatus): string {
  if (!s.reachable) return 'unknown';
  if (s.app.mode === 'service') return 'service';
  if (s.app.running) return `pid ${s.app.pid}`;
  return s.app.stalePid ? `down (pid ${s.app.stalePid} gone)` : 'down';
}

function healthText(s: HostStatus): string {
  if (s.health.ok) return `${s.health.status} ${s.health.ms}ms`;
  return s.health.status ? `HTTP ${s.health.status}` : (s.health.error ?? 'no answer');
}

function table(rows: string[][]): string[] {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(w[i]!))).join('  ').trimEnd());
}

export async function fleetStatus(ctx: Context, hostsFilter?: string, rolesFilter?: string): Promise<CommandResult> {
  const { f, hosts, lock } = await fleetState(ctx, hostsFilter, rolesFilter);
  try {
    const { c } = ctx.out;
    const currents = new Set(hosts.filter((h) => h.reachable).map((h) => h.current));
    const problems: string[] = [];
    for (const h of hosts) {
      if (!h.reachable) problems.push(`${h.host} unreachable: ${h.error}`);
      else if (!h.health.ok) problems.push(`${h.host} not healthy (${healthText(h)})`);
    }
    if (currents.size > 1) problems.push(`the hosts run ${currents.size} different releases: ltc rollback --env ${f.environment} brings them back to one (or ltc deploy the new one again)`);
    if (!('error' in lock) && lock.stale) problems.push('a stale lock (a killed run)');
    const rows = [
      ['HOST', 'CURRENT', 'PREVIOUS', 'APP', 'HEALTH', 'LAST'],
      ...hosts.map((h) => [h.host, h.reachable ? (h.current ?? '(none)') : c.red('unreachable'), h.previous ?? '-', appText(h), healthText(h), h.last ? `${h.last.action} ${h.last.outcome}${h.last.time ? ` ${h.last.time}` : ''}` : '-']),
    ];
    const text = [
      c.bold(`${f.environment}: ${hosts.length} host(s) over ssh`),
      ...table(rows),
      lockLine(f, lock),
      problems.length ? c.red(`not consistent or not healthy:\n${problems.map((p) => `  ${p}`).join('\n')}`) : c.green(`every host runs ${[...currents][0] ?? '(nothing yet)'} and is healthy`),
    ].join('\n');
    return { exitCode: problems.length ? 1 : 0, data: { environment: f.environment, consistent: currents.size <= 1, ok: problems.length === 0, lock, hosts, problems }, text };
  } finally {
    await f.pool.close();
  }
}

/** A link's target as read on a host: escaped when it is no release name. */
function shownName(name: string): string | null {
  return !name ? null : isReleaseName(name) ? name : printableLine(name);
}

export async function fleetReleases(ctx: Context, hostsFilter?: string): Promise<CommandResult> {
  const { f, hosts } = await fleetState(ctx, hostsFilter);
  try {
    const { c } = ctx.out;
    const lines: string[] = [];
    for (const h of hosts) {
      lines.push(c.bold(`${h.host} (${h.address}):`));
      if (!h.reachable) lines.push(c.red(`  unreachable: ${h.error}`));
      for (const r of h.releases) lines.push(`${r === h.current ? c.green('* current ') : r === h.previous ? c.yellow('  previous') : '          '}  ${r}`);
      if (h.reachable && !h.releases.length) lines.push('  (none yet)');
    }
    // A host that cannot be reached has releases nobody knows: not a listing to trust (exit 1, as ltc status).
    const unreachable = hosts.filter((h) => !h.reachable).map((h) => h.host);
    if (unreachable.length) lines.push(c.red(`${unreachable.length} of ${hosts.length} host(s) unreachable (${unreachable.join(', ')}): their releases are unknown`));
    return {
      data: {
        environment: f.environment,
        hosts: hosts.map((h) => ({ host: h.host, reachable: h.reachable, current: h.current, previous: h.previous, releases: h.releases, ...(h.reachable ? {} : { error: h.error ?? null }) })),
        unreachable,
      },
      text: lines.join('\n'),
      ...(unreachable.length ? { exitCode: 1 } : {}),
    };
  } finally {
    await f.pool.close();
  }
}

export async function fleetLockStatus(ctx: Context): Promise<CommandResult> {
  const { f, lock } = await fleetState(ctx);
  await f.pool.close();
  if ('error' in lock) throw new CheckFailedError(lock.error);
  return { data: { environment: f.environment, host: primaryOf(f).name, state: !lock.held ? 'free' : lock.stale ? 'stale' : 'held', holder: lock.info ?? null, ageSeconds: lock.ageSeconds ?? null }, text: lockLine(f, lock) };
}

export async function fleetLockRelease(ctx: Context, force: boolean): Promise<CommandResult> {
  const f = await openFleet(ctx);
  try {
    const primary = primaryOf(f);
    const lock = await readFleetLock(f.pool, primary, Math.round(f.staleMs / 1000), ctx.signal);
    if (!lock.held) return { data: { environment: f.environment, released: false, state: 'free' }, text: `${f.environment}: not locked; nothing to release` };
    if (!lock.stale && !force) {
      throw new UsageError(`${f.environment} is locked by a run whose heartbeat is fresh (${lock.ageSeconds}s ago): ${describeHolder(lock.info)}`, {
        hint: 'releasing it would let a second deploy run at the same time; wait for it, or pass --force if you are sure it is not running',
      });
    }
    if (ctx.options.dryRun) return { data: { environment: f.environment, released: false, wouldRelease: lock.info ?? null }, text: `would remove ${fleetLockDir(primary.root)} on ${primary.name}; nothing was changed` };
    await dropFleetLock(f.pool, primary);
    const { appendAudit } = await import('../audit/log.js');
    await appendAudit(await ctx.stateDir(), { action: 'lock.release', outcome: 'ok', environment: f.environment, details: { host: primary.name, holder: lock.info ?? null, state: lock.stale ? 'stale' : 'held', forced: !lock.stale } });
    return { data: { environment: f.environment, released: true, holder: lock.info ?? null }, text: `released the ${lock.stale ? 'stale' : 'held'} lock of ${f.environment} on ${primary.name}: ${describeHolder(lock.info)}` };
  } finally {
    await f.pool.close();
  }
}
