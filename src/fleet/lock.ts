/**
 * The environment lock of a fleet: a directory on the primary host (mkdir is atomic), holding
 * info.json (pid, host, user, action, rc, run id, since) and a heartbeat file the run touches
 * while it holds the lock. The holder runs on an operator's machine, not on the host, so
 * liveness is the heartbeat: a lock whose heartbeat is older than `lock_stale_after` is stale
 * and the next run takes it over and says so. Of two takers only one wins (a takeover mutex
 * directory, then mkdir again).
 */
import type { Context } from '../core/context.js';
import { CheckFailedError, LockedError } from '../core/errors.js';
import type { SshEndpoint, SshPool } from './ssh.js';

export interface FleetLockInfo {
  pid: number;
  host: string;
  user: string;
  action: string;
  rc: string | null;
  runId: string;
  startedAt: string;
}

export interface FleetLockState {
  held: boolean;
  /** Seconds since the last heartbeat. */
  ageSeconds?: number;
  stale?: boolean;
  info?: FleetLockInfo | undefined;
}

// $1 lock dir, $2 stale after (s); stdin: info.json. Exit 0 taken, 3 held (age + info on stdout), 4 taken over (age + old info).
export const TAKE_LOCK_SCRIPT = [
  'd="$1"; stale="$2"; info=$(cat)',
  'age() { f="$1/heartbeat"; [ -e "$f" ] || f="$1"; m=$(stat -c %Y "$f" 2>/dev/null) || { echo 0; return; }; echo $(( $(date +%s) - m )); }',
  'put() { mkdir "$d" 2>/dev/null || return 1; printf "%s\\n" "$info" > "$d/info.json"; : > "$d/heartbeat"; }',
  'held() { echo "age=$1"; cat "$d/info.json" 2>/dev/null; exit 3; }',
  'put && exit 0',
  'a=$(age "$d"); [ "$a" -lt "$stale" ] && held "$a"',
  // A taker killed between its two mkdirs leaves the mutex: it is stale by the same rule.
  '[ -d "$d.takeover" ] && [ "$(age "$d.takeover")" -ge "$stale" ] && rmdir "$d.takeover" 2>/dev/null',
  'mkdir "$d.takeover" 2>/dev/null || held "$a"',
  'a=$(age "$d"); if [ -d "$d" ] && [ "$a" -lt "$stale" ]; then rmdir "$d.takeover"; held "$a"; fi',
  'old=$(cat "$d/info.json" 2>/dev/null); rm -rf "$d"',
  'if put; then rmdir "$d.takeover"; echo "age=$a"; printf "%s\\n" "$old"; exit 4; fi',
  'rmdir "$d.takeover"; held 0',
].join('\n');

// Only the run that holds the lock touches or removes it.
const OWNS = 'grep -q "\\"runId\\":\\"$2\\"" "$1/info.json" 2>/dev/null';
const BEAT = `${OWNS} && touch "$1/heartbeat"`;
const DROP = `${OWNS} && rm -rf "$1"; true`;
const READ = 'd="$1"; [ -d "$d" ] || exit 0; f="$d/heartbeat"; [ -e "$f" ] || f="$d"; echo "age=$(( $(date +%s) - $(stat -c %Y "$f") ))"; cat "$d/info.json" 2>/dev/null';

export function fleetLockDir(root: string): string {
  return `${root}/.ltc-lock`;
}

function parseHeld(stdout: string): { ageSeconds: number; info: FleetLockInfo | undefined } {
  const [first = '', ...rest] = stdout.trim().split('\n');
  const ageSeconds = Number(/^age=(-?\d+)/.exec(first)?.[1] ?? 0);
  try {
    return { ageSeconds, info: JSON.parse(rest.join('\n')) as FleetLockInfo };
  } catch {
    return { ageSeconds, info: undefined };
  }
}

export function describeHolder(info: FleetLockInfo | undefined): string {
  if (!info) return 'no readable info.json';
  return `${info.action}${info.rc ? ` of ${info.rc}` : ''} by ${info.user}@${info.host} (pid ${info.pid}, run ${info.runId}) since ${info.startedAt}`;
}

export async function readFleetLock(pool: SshPool, primary: SshEndpoint & { root: string }, staleSeconds: number, signal?: AbortSignal): Promise<FleetLockState> {
  const r = await pool.script(primary, READ, [fleetLockDir(primary.root)], signal ? { signal } : {});
  if (r.exitCode !== 0) throw new CheckFailedError(`host ${primary.name}: cannot read the lock: ${r.output.trim()}`);
  if (!r.stdout.trim()) return { held: false };
  const { ageSeconds, info } = parseHeld(r.stdout);
  return { held: true, ageSeconds, stale: ageSeconds >= staleSeconds, info };
}

/**
 * Takes the lock; returns the release function. While held, the heartbeat is touched every
 * quarter of the stale period; release waits for a heartbeat in flight, so no ssh command of
 * this run outlives it.
 */
export async function takeFleetLock(
  ctx: Context,
  pool: SshPool,
  primary: SshEndpoint & { root: string },
  environment: string,
  staleMs: number,
  info: FleetLockInfo,
): Promise<() => Promise<void>> {
  const dir = fleetLockDir(primary.root);
  const staleSeconds = Math.max(1, Math.round(staleMs / 1000));
  const r = await pool.script(primary, TAKE_LOCK_SCRIPT, [dir, String(staleSeconds)], { input: JSON.stringify(info), signal: ctx.signal });
  if (r.exitCode === 3) {
    const held = parseHeld(r.stdout);
    throw new LockedError(`environment ${environment} is locked on host ${primary.name} (${dir}): ${describeHolder(held.info)}; last heartbeat ${held.ageSeconds}s ago`, {
      hint: `wait for that run to end; a lock whose heartbeat is older than ${staleSeconds}s is stale and the next run takes it over (ltc lock status --env ${environment})`,
      details: { lock: held.info ?? null, ageSeconds: held.ageSeconds },
    });
  }
  if (r.exitCode === 4) {
    const old = parseHeld(r.stdout);
    ctx.out.warn(`took over a stale lock on ${primary.name}: ${describeHolder(old.info)}; its heartbeat stopped ${old.ageSeconds}s ago (a killed run: see ltc status --env ${environment} for each host's release)`);
    const { appendAudit } = await import('../audit/log.js');
    await appendAudit(await ctx.stateDir(), { action: 'lock.takeover', outcome: 'ok', environment, details: { host: primary.name, stale: old.info ?? null, ageSeconds: old.ageSeconds } }).catch(() => undefined);
  } else if (r.exitCode !== 0) {
    throw new CheckFailedError(`host ${primary.name}: cannot take the lock ${dir}: ${r.output.trim()}`);
  }
  let inFlight: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (inFlight) return;
    inFlight = pool.script(primary, BEAT, [dir, info.runId]).catch(() => undefined).finally(() => (inFlight = undefined));
  }, Math.max(250, Math.floor(staleMs / 4)));
  timer.unref();
  return async () => {
    clearInterval(timer);
    await inFlight;
    await pool.script(primary, DROP, [dir, info.runId]).catch(() => undefined);
  };
}

/** Removes the lock whoever holds it (ltc lock release): only a stale one unless forced. */
export async function dropFleetLock(pool: SshPool, primary: SshEndpoint & { root: string }): Promise<void> {
  const r = await pool.script(primary, 'rm -rf "$1"', [fleetLockDir(primary.root)]);
  if (r.exitCode !== 0) throw new CheckFailedError(`host ${primary.name}: cannot remove the lock: ${r.output.trim()}`);
}
