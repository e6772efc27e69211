/**
 * Gate processes run in process groups of their own (so a timeout or Ctrl-C can end a whole
 * tree), which also means nothing ends them when ltc itself goes away. The first Ctrl-C is
 * handled by the engine (SIGTERM, then SIGKILL after a grace); but ltc exits at once on a
 * second Ctrl-C (`process.exit(130)`), before that grace has run. While gates run, this guard
 * holds a process 'exit' handler that SIGKILLs the groups of the processes the gates engine
 * started and records the run as interrupted (synchronously: nothing asynchronous runs there).
 *
 * The exec adapter spawns synchronously when called, so `track` subscribes to the process port
 * (src/exec/process.ts) for exactly the length of that call and keeps what started meanwhile.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { processes as defaultProcesses, type ChildProcess, type ProcessPort } from '../exec/process.js';
import { statFields } from '../core/process-alive.js';

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * True while a process of the group `pgid` is running. A zombie does not count (an init that
 * does not reap leaves the killed children of a gate as zombies in their group): on Linux the
 * group's members are read from /proc once signal 0 says the group exists.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true; // no /proc: trust signal 0
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const [state, , pgrp] = statFields(stat);
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
}

export class GateExitGuard {
  private readonly live = new Set<ChildProcess>();
  private armed = false;
  private readonly onExit = () => this.endAll();
  /** `onHardExit` runs (synchronously) when the process exits while armed, after the kills. */
  constructor(
    private readonly onHardExit: () => void = () => undefined,
    private readonly processes: ProcessPort = defaultProcesses,
  ) {}

  arm(): void {
    if (this.armed) return;
    this.armed = true;
    process.on('exit', this.onExit);
  }

  disarm(): void {
    if (!this.armed) return;
    this.armed = false;
    process.off('exit', this.onExit);
  }

  /**
   * Calls `start` (which must spawn during the call, as `execCommand` does) and keeps the
   * processes it spawned until its promise settles. `onSpawned` receives them (for the caller's
   * own cleanup of what a gate leaves behind).
   */
  track<T>(start: () => Promise<T>, onSpawned?: (child: ChildProcess) => void): Promise<T> {
    const spawned: ChildProcess[] = [];
    const stop = this.processes.onStart((child) => spawned.push(child));
    let promise: Promise<T>;
    try {
      promise = start();
    } finally {
      stop();
    }
    for (const child of spawned) {
      this.live.add(child);
      onSpawned?.(child);
    }
    return promise.finally(() => {
      for (const child of spawned) this.live.delete(child);
    });
  }

  /** Process groups still tracked (for tests and the exit handler). */
  livePids(): number[] {
    return [...this.live].map((c) => c.pid).filter((pid): pid is number => typeof pid === 'number');
  }

  /** SIGKILLs every tracked group, then records the run. Synchronous. */
  endAll(): void {
    for (const pid of this.livePids()) killGroup(pid, 'SIGKILL');
    this.live.clear();
    try {
      this.onHardExit();
    } catch {
      /* exiting anyway: the result file keeps "running", which never counts as green */
    }
  }
}

export { killGroup };
