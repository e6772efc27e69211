/** Process facts on this machine: is a pid alive, when did it start (to tell a reused pid apart). */
import { readdirSync, readFileSync } from 'node:fs';
import { pidAlive, statFields } from '../core/process-alive.js';

/** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22), or undefined. */
export function procStartTime(pid: number): number | undefined {
  try {
    const ticks = Number(statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` runs (a zombie does not count): the one check in src/core/process-alive.ts. */
export { pidAlive };

/**
 * The same process as recorded: alive, and (when a start time was recorded and /proc can be
 * read) started at that time, so a pid reused by another process does not count.
 */
export function sameProcess(pid: number, procStart: number | undefined): boolean {
  if (!pidAlive(pid)) return false;
  if (procStart === undefined) return true;
  const now = procStartTime(pid);
  return now === undefined || now === procStart;
}

/** Live (not zombie) processes of the group `pgid`, read from /proc; undefined when /proc cannot be read. */
export function groupMembers(pgid: number): number[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const members: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const rest = statFields(readFileSync(`/proc/${e}/stat`, 'utf8'));
      if (Number(rest[2]) === pgid && rest[0] !== 'Z') members.push(Number(e));
    } catch {
      /* gone meanwhile */
    }
  }
  return members;
}

/** Which of `pids` still run in the group `pgid` (not zombies); undefined when /proc cannot be read. */
export function membersStillIn(pgid: number, pids: readonly number[]): number[] | undefined {
  const left: number[] = [];
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') continue;
      return undefined;
    }
    const rest = statFields(stat);
    if (Number(rest[2]) === pgid && rest[0] !== 'Z') left.push(pid);
  }
  return left;
}

/**
 * Waits until no process of the group runs; true when it ended within `ms`. Between full scans of
 * /proc (one per process on the machine) it re-reads only the members it knows, and polls every
 * few milliseconds: an app that ends on SIGTERM is seen gone within about 2 ms (issue 17). A full
 * scan confirms the end, so a process forked into the group meanwhile is not missed.
 */
export async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  let known = groupMembers(pgid);
  let polls = 0;
  for (;;) {
    if (known === undefined) {
      if (!groupAlive(pgid)) return true;
    } else {
      const left = membersStillIn(pgid, known);
      if (left === undefined) known = undefined;
      else if (left.length === 0) {
        known = groupMembers(pgid);
        if (known === undefined ? !groupAlive(pgid) : known.length === 0) return true;
      } else known = left;
    }
    if (performance.now() >= until) return false;
    polls++;
    // 2 ms for the first 50 polls, then backing off to 50 ms for a process that takes its grace time.
    const delay = polls <= 50 ? 2 : Math.min(50, 2 * 2 ** Math.min(5, polls - 50));
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, until - performance.now()))));
  }
}

/** True while a process of the group `pgid` runs (zombies do not count: PID 1 may never reap them). */
export function groupAlive(pgid: number): boolean {
  const members = groupMembers(pgid);
  if (members) return members.length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    try {
      process.kill(pgid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Processes started for `environment` from a release under `releasesDir` (cwd inside it, and
 * LTC_ENV=<environment> and LTC_RELEASE in their environment, as ltc starts the app): found from
 * /proc, for an app that runs without a pid file (ltc killed between the start and the pid
 * file). A person's shell in a release folder does not count (it has no LTC_RELEASE).
 * `under`: only cwds starting with it inside releasesDir (e.g. `.partial-`: builds).
 */
export function releaseProcesses(releasesDir: string, environment: string, under = ''): Array<{ pid: number; pgid: number }> {
  const fs = process.getBuiltinModule('node:fs');
  let root: string;
  let entries: string[];
  try {
    root = fs.realpathSync(releasesDir);
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const found: Array<{ pid: number; pgid: number }> = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid || pid === process.ppid) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${e}/cwd`);
      if (!cwd.startsWith(`${root}/${under}`)) continue;
      // A build in a partial release is not the app (those are ended under the lock: stopLeftoverBuilds).
      if (!under && cwd.startsWith(`${root}/.partial-`)) continue;
      const vars = fs.readFileSync(`/proc/${e}/environ`, 'utf8').split('\0');
      if (!vars.includes(`LTC_ENV=${environment}`) || !vars.some((v) => v.startsWith('LTC_RELEASE='))) continue;
      const rest = statFields(fs.readFileSync(`/proc/${e}/stat`, 'utf8'));
      if (rest[0] === 'Z') continue;
      found.push({ pid, pgid: Number(rest[2]) });
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return found;
}
