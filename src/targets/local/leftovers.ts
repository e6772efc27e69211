/**
 * Temp files a killed ltc can leave in a deploy root: a new `current`/`previous` symlink not yet
 * renamed into place, a lock file being linked, a pid file being written, and — the one that
 * matters — `shared/.env.<pid>.<random>.tmp`, a copy of the secrets whose rename never happened
 * (it would keep an old secret value on disk after a rotation). Each name carries the pid of the
 * process that wrote it; the next deploy or rollback removes those whose process is gone.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pidAlive } from '../proc.js';

/** The writer's pid for a temp-file name of ours, or undefined when the name is not one. */
export function leftoverPid(name: string): number | undefined {
  const m =
    /^\.(?:current|previous)\.tmp-(\d+)-[0-9a-f]+$/.exec(name) ??
    /^\.ltc-lock\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name) ??
    /^\.ltc-lock\.stale-(\d+)-[0-9a-f]+$/.exec(name) ??
    /^\.env\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name) ??
    /^app\.pid\.(\d+)\.tmp$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Removes the temp files of dead writers in `dirs`; returns the paths removed. */
export async function sweepLeftovers(dirs: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const pid = leftoverPid(name);
      if (pid === undefined || pid === process.pid || pidAlive(pid)) continue;
      await rm(join(dir, name), { force: true });
      removed.push(join(dir, name));
    }
  }
  return removed;
}
