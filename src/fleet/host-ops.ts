/** What ltc does on one host over ssh: upload, env file, build, switch, restart, health, record, prune. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { CheckFailedError } from '../core/errors.js';
import type { Fleet, FleetHost, HostReport } from './open.js';
import { shCommand, shQuote } from './quote.js';
import { partialReleaseDir, releaseDir, releaseLayout } from '../targets/layout.js';

/** Fails unless the remote command exited 0. */
export async function must(f: Fleet, h: FleetHost, what: string, script: string, args: string[], input?: string): Promise<string> {
  const r = await f.pool.script(h, script, args, { ...(input !== undefined ? { input } : {}), signal: f.ctx.signal });
  if (r.exitCode !== 0) {
    throw new CheckFailedError(`host ${h.name}: ${what} failed (exit ${r.exitCode}): ${r.output.trim().split('\n').slice(-3).join(' | ')}`, { details: { host: h.name } });
  }
  return r.stdout;
}

const READ_LINK = 'l=$(readlink "$1" 2>/dev/null) && basename "$l" || true';

export async function readLinkOn(f: Fleet, h: FleetHost, link: 'current' | 'previous'): Promise<string | null> {
  const out = (await must(f, h, `reading ${link}`, READ_LINK, [releaseLayout(h.root)[link]])).trim();
  return out || null;
}


export function envFileText(values: ReadonlyMap<string, string>): string {
  return [...values].map(([k, v]) => `${k}=${shQuote(v)}`).join('\n') + (values.size ? '\n' : '');
}

export async function secretValues(f: Fleet): Promise<Map<string, string>> {
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

export function envPrefix(h: FleetHost): string[] {
  const entries = Object.entries(h.env);
  return entries.length ? ['env', ...entries.map(([k, v]) => `${k}=${v}`)] : [];
}

/** Where a host's tree comes from: the commit in the local mirror, or a tree built here (build_on: local). */
export type Source = { kind: 'git'; mirror: string; commit: string } | { kind: 'built'; dir: string };

/** Upload, then env, build and finalize in one round trip; nothing switched. */
const builds0 = (source: Source, h: FleetHost) => (source.kind === 'git' && h.build.length ? `build: ${h.build.map((c) => c.join(' ')).join(' && ')}` : '.env and finalize');

export async function prepareHost(f: Fleet, h: FleetHost, source: Source, release: string, envText: string, meta: string, rep: HostReport): Promise<void> {
  const layout = releaseLayout(h.root);
  const partial = partialReleaseDir(layout, release);
  let t = performance.now();
  const producer = source.kind === 'git' ? { argv: ['git', 'archive', '--format=tar', source.commit], cwd: source.mirror } : { argv: ['tar', '-c', '-f', '-', '.'], cwd: source.dir };
  f.progress.phase(h.name, 'upload');
  const up = await f.pool.pipe(h, producer.argv, producer.cwd, 'set -e; rm -rf "$1"; mkdir -p "$1"; tar -x -f - -C "$1"', [partial], f.ctx.signal);
  if (up.exitCode !== 0) throw new CheckFailedError(`host ${h.name}: upload into ${partial} failed: ${up.output.trim()}`);
  rep.phases.upload = Math.round(performance.now() - t);
  t = performance.now();
  f.progress.phase(h.name, builds0(source, h));
  // One round trip: shared/.env from stdin (a temp file made with umask 077, renamed over the
  // old one), the build commands (quoted by shCommand), then .env linked, the metadata written
  // and the release renamed into place.
  const builds = source.kind === 'git' ? h.build : [];
  const script = [
    'set -e; partial="$1"; final="$2"; shared="$3"; meta="$4"',
    '( umask 077; mkdir -p "$shared"; t="$shared/.env.$$.tmp"; cat > "$t"; chmod 600 "$t"; mv -f "$t" "$shared/.env" )',
    'cd "$partial"',
    ...builds.map((cmd, i) => `${shCommand([...envPrefix(h), ...cmd])} < /dev/null || { c=$?; echo "ltc-build-failed=${i} exit=$c"; exit 97; }`),
    'rm -rf .env; ln -s ../../shared/.env .env; printf "%s\\n" "$meta" > .ltc-release.json; cd ..; rm -rf "$final"; mv "$partial" "$final"',
  ].join('\n');
  const r = await f.pool.script(h, script, [partial, releaseDir(layout, release), layout.shared, meta], { input: envText, signal: f.ctx.signal });
  if (r.exitCode !== 0) {
    const m = /ltc-build-failed=(\d+) exit=(\d+)/.exec(r.stdout);
    const tail = r.output.replace(/ltc-build-failed=.*\n?/, '').trim().split('\n').slice(-5).join('\n');
    if (m) throw new CheckFailedError(`host ${h.name}: build ${builds[Number(m[1])]!.join(' ')} exited with ${m[2]}`, { hint: tail });
    throw new CheckFailedError(`host ${h.name}: writing shared/.env, building or finalizing the release failed (exit ${r.exitCode}): ${tail.split('\n').slice(-3).join(' | ')}`, { details: { host: h.name } });
  }
  rep.phases.build = Math.round(performance.now() - t);
}

/**
 * current → releases/<name> atomically; previous → what current was. `onMoved(true)` once current
 * points at `release`: after the switch, and also when the switch fails after current moved (the
 * previous link could not be replaced). A host that cannot then be asked where current points
 * (the connection is gone) may or may not have moved: `onMoved(false)`.
 */
export async function switchHost(f: Fleet, h: FleetHost, release: string, previous: string | null, onMoved: (confirmed: boolean) => void): Promise<void> {
  try {
    await must(
      f,
      h,
      `switching current to ${release}`,
      'set -e; cd "$1"; test -d "releases/$2"; ln -sfn "releases/$2" .current.tmp.$$; mv -T .current.tmp.$$ current; ' +
        'if [ -n "$3" ]; then ln -sfn "releases/$3" .previous.tmp.$$; mv -T .previous.tmp.$$ previous; fi',
      [h.root, release, previous ?? ''],
    );
  } catch (err) {
    const where = await readLinkOn(f, h, 'current').catch(() => undefined);
    if (where === undefined) onMoved(false);
    else if (where === release) onMoved(true);
    throw err;
  }
  onMoved(true);
}

/** How often the stop looks whether the app has exited (the old app's exit holds up the new one's start). */
const STOP_POLL_MS = 20;

/** STOP_APP's $2: the grace period in hundredths of a second. */
export const stopGraceArg = (f: Fleet): string => String(Math.max(1, Math.round(f.graceMs / 10)));

// $1 root, $2 grace in hundredths of a second: SIGTERM to the app's process group, SIGKILL after
// the grace. The deadline is read from /proc/uptime (hundredths) with shell builtins only, so the
// poll costs no process beyond the zombie check.
export const STOP_APP = [
  'root="$1"; grace="$2"; shift 2',
  'pidf="$root/shared/app.pid"',
  'now() { read up _ 2>/dev/null < /proc/uptime || up=0.00; echo $(( ${up%.*} * 100 + 1${up#*.} - 100 )); }',
  'if [ -f "$pidf" ]; then pid=$(sed -n "s/^pid=//p" "$pidf"); if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then',
  '  echo "stopped=$pid"; kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; end=$(( $(now) + grace )); i=0',
  // A zombie (exited, not yet reaped by the host's init) counts as stopped. Without /proc/uptime the polls are counted.
  `  while kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" != Z ] && [ "$(now)" -lt "$end" ] && [ $i -lt $(( grace * 10 / ${STOP_POLL_MS} + 1 )) ]; do sleep ${STOP_POLL_MS / 1000}; i=$((i+1)); done`,
  '  kill -KILL -"$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi; rm -f "$pidf"; fi',
].join('\n');

/** Stops the app (TERM, KILL after the grace period) and starts it detached from current. */
export async function restartHost(f: Fleet, h: FleetHost): Promise<void> {
  if (!h.restart) return;
  if (h.service) {
    await must(f, h, `service command ${h.service.join(' ')}`, 'cd "$1" && shift && exec "$@"', [releaseLayout(h.root).current, ...envPrefix(h), ...h.service]);
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
  await must(f, h, 'starting the app', script, [h.root, stopGraceArg(f), ...envPrefix(h), ...h.start!]);
}

// $1 root: "gone" and the last lines of the app log when the app the pid file names no longer runs.
const APP_GONE = [
  'pidf="$1/shared/app.pid"; [ -f "$pidf" ] || exit 0',
  'pid=$(sed -n "s/^pid=//p" "$pidf"); [ -n "$pid" ] || exit 0',
  'if kill -0 "$pid" 2>/dev/null && [ "$(awk \'{print $3}\' /proc/$pid/stat 2>/dev/null)" != Z ]; then exit 0; fi',
  'echo "gone $pid"; tail -n 8 "$1/shared/logs/app.log" 2>/dev/null || true',
].join('\n');

/** While a host does not answer yet (refused: cheap), the next request follows this soon; failing answers wait 200 ms. */
const HEALTH_POLL_MS = 50;
/** How often a host whose health does not answer yet is asked whether its app still runs. */
const ALIVE_CHECK_EVERY_MS = 500;

/** How long an app whose health was green at the first probe must still run (as on the local target). */
const EARLY_GREEN_SETTLE_MS = 1000;

/** The pid and last log lines of a host's app that no longer runs; undefined while it runs (or the host cannot tell). */
async function appGone(f: Fleet, h: FleetHost): Promise<{ pid: string; hint: string } | undefined> {
  const r = await f.pool.script(h, APP_GONE, [h.root], { signal: f.ctx.signal }).catch(() => undefined);
  const out = r?.stdout ?? '';
  if (!out.startsWith('gone ')) return undefined;
  const [first, ...tail] = out.trimEnd().split('\n');
  const log = releaseLayout(h.root).logFile;
  return { pid: first!.slice(5), hint: tail.length ? `last lines of ${log} on ${h.name}:\n${f.ctx.masker.mask(tail.join('\n'))}` : `its log ${log} on ${h.name} is empty` };
}

export async function healthHost(f: Fleet, h: FleetHost): Promise<void> {
  const url = h.url + h.healthPath;
  const deadline = Date.now() + f.healthMs;
  // A supervised start whose app dies (a crash at start, EADDRINUSE) fails now, not at the deadline.
  const supervised = Boolean(h.restart && !h.service && h.start);
  let aliveCheckAt = Date.now() + ALIVE_CHECK_EVERY_MS;
  let last = '';
  // Up and answering, but not 2xx (a 500, a 404 for a missing health path): health_failures in a
  // row fail the host at once; refused and timeouts are "not up yet", retried until the deadline.
  let answeredFailing = 0;
  const failFast = f.config.health_failures;
  let attempts = 0;
  while (Date.now() < deadline) {
    f.ctx.signal.throwIfAborted();
    attempts++;
    try {
      // Not followed: a redirect (a login page, another host) is not this host's health, as on the local target.
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok && supervised && attempts === 1) {
        // Green before the new app could have opened its port: something else may answer there
        // (an old process that still holds it). The new one must still run a moment later.
        await sleep(EARLY_GREEN_SETTLE_MS, undefined, { signal: f.ctx.signal });
        const gone = await appGone(f, h);
        if (gone) throw new CheckFailedError(`host ${h.name}: the app (pid ${gone.pid}) exited while another process answered its health checks at ${url} (the port is held by something else: an old process, another service)`, { hint: gone.hint });
      }
      if (res.ok) return;
      last = `HTTP ${res.status}`;
      if (++answeredFailing >= failFast) {
        throw new CheckFailedError(`host ${h.name}: health ${url} answered ${res.status} ${answeredFailing} times in a row (health_failures: ${failFast})`, {
          hint: res.status === 404 || res.status === 405
            ? `the app runs but has no ${h.healthPath}: is health_path right for this app (or role)?`
            : `the app runs but does not answer 2xx there; its log: ${releaseLayout(h.root).logFile} on ${h.name}`,
        });
      }
    } catch (err) {
      if (err instanceof CheckFailedError) throw err;
      answeredFailing = 0;
      last = (err as Error).cause ? String(((err as Error).cause as Error).message ?? (err as Error).cause) : (err as Error).message;
    }
    if (supervised && Date.now() >= aliveCheckAt) {
      const gone = await appGone(f, h);
      if (gone) throw new CheckFailedError(`host ${h.name}: the app (pid ${gone.pid}) exited after its start, before ${url} answered (${last})`, { hint: gone.hint });
      aliveCheckAt = Date.now() + ALIVE_CHECK_EVERY_MS;
    }
    await new Promise((r) => setTimeout(r, answeredFailing > 0 ? 200 : HEALTH_POLL_MS));
  }
  throw new CheckFailedError(`host ${h.name}: health ${url} not green within ${formatDuration(f.healthMs)} (${last})`);
}

/** One health request: undefined when green, else why not. */
export async function probeHealth(h: FleetHost): Promise<string | undefined> {
  try {
    const res = await fetch(h.url + h.healthPath, { redirect: 'manual', signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? undefined : `HTTP ${res.status}`;
  } catch (err) {
    const cause = (err as Error).cause as { code?: string; message?: string } | undefined;
    return cause?.code ?? cause?.message ?? (err as Error).message;
  }
}

export async function recordOn(f: Fleet, h: FleetHost, record: Record<string, unknown>): Promise<void> {
  await f.pool.script(h, 'cat >> "$1"', [releaseLayout(h.root).revisions], { input: JSON.stringify(record) + '\n' }).catch(() => undefined);
}

export async function pruneOn(f: Fleet, h: FleetHost): Promise<void> {
  // Newest first by name (names end in a UTC timestamp), keep N, never current or previous.
  const script =
    'cd "$1/releases" || exit 0; c=$(basename "$(readlink ../current)" 2>/dev/null); p=$(basename "$(readlink ../previous)" 2>/dev/null); n=0; ' +
    'for d in $(ls -1t); do n=$((n+1)); [ $n -le "$2" ] && continue; [ "$d" = "$c" ] || [ "$d" = "$p" ] || rm -rf -- "$d"; done';
  await f.pool.script(h, script, [h.root, String(f.config.keep_releases)]).catch(() => undefined);
}

/**
 * build_on: local — the commit exported here and built once per distinct build (roles may
 * differ), with the target's env on top of ltc's allow-listed environment. Returns the tree
 * per build key; the caller removes `dir`.
 */
export async function buildLocally(f: Fleet, mirror: string, commit: string, dir: string): Promise<Map<string, string>> {
  const { mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { execCommand } = await import('../exec/exec.js');
  const trees = new Map<string, string>();
  for (const h of f.hosts) {
    const key = JSON.stringify(h.build);
    if (trees.has(key)) continue;
    const tree = join(dir, String(trees.size));
    await mkdir(tree, { recursive: true });
    const exported = await execCommand(['sh', '-c', 'git -C "$1" archive --format=tar "$2" | tar -x -f - -C "$3"', 'sh', mirror, commit, tree], { signal: f.ctx.signal }, f.ctx.masker);
    if (exported.exitCode !== 0) throw new CheckFailedError(`exporting ${commit.slice(0, 12)} for the local build failed: ${exported.output.trim()}`);
    for (const cmd of h.build) {
      f.progress.note(`  build here (${h.roles.join(', ') || 'all hosts'}): ${cmd.join(' ')}`);
      const r = await execCommand(cmd, { cwd: tree, env: { ...f.config.env, PATH: process.env.PATH ?? '/usr/bin:/bin' }, signal: f.ctx.signal }, f.ctx.masker);
      if (r.exitCode !== 0) throw new CheckFailedError(`local build ${cmd.join(' ')} exited with ${r.exitCode}: nothing was uploaded or switched`, { hint: r.output.trim().split('\n').slice(-5).join('\n') });
    }
    trees.set(key, tree);
  }
  return trees;
}
