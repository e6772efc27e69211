/** Is a process (by pid) still running on this machine? One answer for every lock and record that names a pid. */
import { readFileSync } from 'node:fs';

/**
 * A killed process its parent has not reaped yet (a zombie: a SIGKILLed ltc whose parent died,
 * under a PID 1 that reaps late or never, as in many containers) still answers kill(pid, 0), but
 * runs and holds nothing any more. Linux tells through /proc/<pid>/stat: the state letter follows
 * the command name's closing ')' (the name may itself contain ')' and spaces, hence the last one).
 * False where /proc cannot be read.
 */
export function isZombie(pid: number): boolean {
  try {
    return statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[0] === 'Z';
  } catch {
    return false;
  }
}

/**
 * The fields of a /proc/<pid>/stat line after the command name: [0] is field 3 (state), [2] field 5
 * (pgrp), [19] field 22 (start time in clock ticks since boot).
 */
export function statFields(stat: string): string[] {
  const end = stat.lastIndexOf(')');
  return end < 0 ? [] : stat.slice(end + 2).split(' ');
}

/**
 * True while `pid` runs: kill(pid, 0) succeeds, or fails with EPERM (it exists but belongs to
 * another user), and it is not a zombie. Not a positive integer: false.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}
