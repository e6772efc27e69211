/** The local app's pid file (shared/app.pid) and what it says about the app now: read-only. */
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { groupAlive, groupMembers, pidAlive, procStartTime } from '../proc.js';
import { isMissing, withPath } from '../../core/fs-missing.js';

export interface PidRecord {
  pid: number;
  /** The process group (the pid: the app leads its own group). */
  pgid: number;
  procStart?: number;
  release: string;
  startedAt: string;
  command: string[];
}

const isPid = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 1;

export async function readPidFile(file: string): Promise<PidRecord | undefined> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw withPath(err, file);
  }
  // Not a record (a half-written or hand-edited file): as if there were none; the scan for
  // processes of the releases still finds an app that runs.
  try {
    const v = JSON.parse(text) as PidRecord;
    if (!v || typeof v !== 'object' || !isPid(v.pid)) return undefined;
    // The group is signalled as a whole: never group 0 (ltc's own) or 1, whatever the file says.
    return { ...v, pgid: isPid(v.pgid) ? v.pgid : v.pid };
  } catch {
    return undefined;
  }
}

/**
 * A pid file copied along with a deploy root (cp -a, a restored backup) names the app of the
 * original: its process runs from `<other root>/releases/<name>`. That app is not this root's
 * to report or to stop. An app that changed its folder elsewhere cannot be told apart: it counts.
 */
function runsFromOtherRoot(pid: number, pgid: number, releasesDir: string): boolean {
  // The recorded process, or when it is gone (a wrapper that left its child running) its group.
  // The group is scanned (all of /proc) only when the recorded process cannot be looked at.
  const candidates = function* () {
    yield pid;
    yield* groupMembers(pgid) ?? [];
  };
  for (const candidate of candidates()) {
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${candidate}/cwd`);
    } catch {
      continue;
    }
    const parent = dirname(cwd);
    if (basename(parent) !== 'releases') return false;
    try {
      return parent !== realpathSync(releasesDir);
    } catch {
      return parent !== releasesDir;
    }
  }
  return false;
}

/**
 * running: the recorded process runs; orphans: it is gone but processes of its group still run
 * (a pid is not reused while its process group exists); gone: nothing of it runs (or its pid now
 * belongs to another process, told apart by the process start time).
 */
export function appState(rec: PidRecord, releasesDir?: string): 'running' | 'orphans' | 'gone' {
  const pgid = rec.pgid;
  if (releasesDir !== undefined && runsFromOtherRoot(rec.pid, pgid, releasesDir)) return 'gone';
  const leaderStart = procStartTime(rec.pid);
  if (pidAlive(rec.pid) && (rec.procStart === undefined || leaderStart === undefined || leaderStart === rec.procStart)) return 'running';
  if (leaderStart !== undefined && rec.procStart !== undefined && leaderStart !== rec.procStart) return 'gone';
  return groupAlive(pgid) ? 'orphans' : 'gone';
}
