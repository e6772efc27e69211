/** The local app's pid file (shared/app.pid) and what it says about the app now: read-only. */
import { readFileSync } from 'node:fs';
import { groupAlive, pidAlive, procStartTime } from '../proc.js';

export interface PidRecord {
  pid: number;
  /** The process group (the pid: the app leads its own group). */
  pgid: number;
  procStart?: number;
  release: string;
  startedAt: string;
  command: string[];
}

export async function readPidFile(file: string): Promise<PidRecord | undefined> {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
    return typeof v.pid === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * running: the recorded process runs; orphans: it is gone but processes of its group still run
 * (a pid is not reused while its process group exists); gone: nothing of it runs (or its pid now
 * belongs to another process, told apart by the process start time).
 */
export function appState(rec: PidRecord): 'running' | 'orphans' | 'gone' {
  const pgid = rec.pgid || rec.pid;
  const leaderStart = procStartTime(rec.pid);
  if (pidAlive(rec.pid) && (rec.procStart === undefined || leaderStart === undefined || leaderStart === rec.procStart)) return 'running';
  if (leaderStart !== undefined && rec.procStart !== undefined && leaderStart !== rec.procStart) return 'gone';
  return groupAlive(pgid) ? 'orphans' : 'gone';
}
