/**
 * ltc's own small supervisor for the local target: the start command runs detached (its own
 * process group, so it outlives ltc) from `<deploy_root>/current`, its stdout and stderr appended
 * to `shared/logs/app.log`, its pid in `shared/app.pid` as JSON (pid, process start time,
 * release, command) so a stale pid file — the app crashed, or the machine rebooted and the pid
 * was reused — is recognised. Stop = SIGTERM (and SIGCONT, so a stopped process acts on it) to
 * the process group, SIGKILL after the grace.
 */
import { processes, type ChildProcess } from '../../exec/process.js';
import { closeSync, openSync } from 'node:fs';
import { appendFile, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CheckFailedError, InterruptedError } from '../../core/errors.js';
import { procStartTime, releaseProcesses, signalGroup, waitGroupGone } from '../proc.js';
import { appState, readPidFile, type PidRecord } from './pid-file.js';
import type { LogText } from '../target.js';

async function writePidFile(file: string, rec: PidRecord): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(rec) + '\n', { mode: 0o644 });
  await rename(tmp, file);
}

/** Where to look for an app running without a pid file. */
export interface OrphanScope {
  releasesDir: string;
  environment: string;
}

/**
 * Processes of the environment's releases that no pid file records (ltc was killed between
 * starting the app and writing its pid file): SIGTERM (+SIGCONT) to their groups, SIGKILL after
 * the grace. They would hold the app's port and make the next start fail.
 */
async function stopOrphans(scope: OrphanScope, graceMs: number, log?: (line: string) => void): Promise<number[]> {
  const found = releaseProcesses(scope.releasesDir, scope.environment);
  if (found.length === 0) return [];
  log?.(`found ${found.length} process(es) of ${scope.environment} running from ${scope.releasesDir} without a pid file (pid ${found.map((p) => p.pid).join(', ')}; left by an interrupted ltc?): stopping them`);
  return endGroups(found, graceMs);
}

/**
 * Build commands a killed ltc left running in a partial release (`releases/.partial-…`): they run
 * in their own process group, so a SIGKILL of ltc does not end them, and they would go on writing
 * into a folder the next deploy removes. Called under the environment's lock, when no build of a
 * live ltc can run there. Ended like the app (SIGTERM + SIGCONT, SIGKILL after `graceMs`).
 */
export async function stopLeftoverBuilds(scope: OrphanScope, graceMs: number): Promise<number[]> {
  const found = releaseProcesses(scope.releasesDir, scope.environment, '.partial-');
  return found.length ? endGroups(found, graceMs) : [];
}

async function endGroups(found: Array<{ pid: number; pgid: number }>, graceMs: number): Promise<number[]> {
  const groups = [...new Set(found.map((p) => p.pgid))].filter((g) => g > 1 && g !== process.pid);
  for (const g of groups) {
    signalGroup(g, 'SIGTERM');
    signalGroup(g, 'SIGCONT');
  }
  const gone = await Promise.all(groups.map((g) => waitGroupGone(g, graceMs)));
  for (const [i, g] of groups.entries()) {
    if (!gone[i]) {
      signalGroup(g, 'SIGKILL');
      await waitGroupGone(g, 5000);
    }
  }
  return found.map((p) => p.pid);
}

/** Stops the supervised app: SIGTERM to its group, SIGKILL after `graceMs`. */
export async function stopApp(
  pidFile: string,
  graceMs: number,
  log?: (line: string) => void,
  orphans?: OrphanScope,
): Promise<{ stopped: boolean; pid?: number; killed?: boolean; stale?: boolean; orphans?: number[] }> {
  const rec = await readPidFile(pidFile);
  if (!rec) {
    const pids = orphans ? await stopOrphans(orphans, graceMs, log) : [];
    return pids.length ? { stopped: true, pid: pids[0]!, orphans: pids } : { stopped: false };
  }
  const pgid = rec.pgid;
  if (appState(rec, orphans?.releasesDir) === 'gone') {
    await rm(pidFile, { force: true });
    log?.(`pid file ${pidFile} was stale: pid ${rec.pid} (${rec.release}) no longer runs`);
    const pids = orphans ? await stopOrphans(orphans, graceMs, log) : [];
    return { stopped: pids.length > 0, pid: rec.pid, stale: true, ...(pids.length ? { orphans: pids } : {}) };
  }
  log?.(`stopping pid ${rec.pid} (${rec.release}): SIGTERM to its process group`);
  signalGroup(pgid, 'SIGTERM');
  // A stopped (SIGSTOP, e.g. hung in a debugger or a stopped job) process only acts on SIGTERM
  // once it runs again: continue it, as systemd does, so it ends now rather than after the grace.
  signalGroup(pgid, 'SIGCONT');
  let killed = false;
  if (!(await waitGroupGone(pgid, graceMs))) {
    log?.(`pid ${rec.pid} still runs after ${graceMs}ms: SIGKILL`);
    signalGroup(pgid, 'SIGKILL');
    killed = true;
    if (!(await waitGroupGone(pgid, 5000))) {
      throw new CheckFailedError(`the app (pid ${rec.pid}) did not end even after SIGKILL`, { hint: `look at it with \`ps -o pid,stat,cmd -g ${pgid}\`` });
    }
  }
  await rm(pidFile, { force: true });
  return { stopped: true, pid: rec.pid, killed };
}

export interface StartOptions {
  argv: readonly string[];
  /** `<deploy_root>/current`: the process starts there (the release it points at). */
  cwd: string;
  release: string;
  env: Record<string, string>;
  logFile: string;
  pidFile: string;
  signal: AbortSignal;
}

export interface Started {
  pid: number;
  logOffset: number;
  startedAtMs: number;
  exited: Promise<{ code: number | null; signal: string | null }>;
  exitState: { exit?: { code: number | null; signal: string | null } };
}

/** Starts the app detached, logging to `logFile`, and records it in `pidFile`. */
export async function startApp(o: StartOptions): Promise<Started> {
  if (o.signal.aborted) throw new InterruptedError('interrupted before the app was started');
  await mkdir(dirname(o.logFile), { recursive: true, mode: 0o700 });
  // The app's output may hold secrets: the log is readable by this user only.
  await appendFile(o.logFile, `${new Date().toISOString()} ltc: starting release ${o.release}: ${o.argv.join(' ')}\n`, { mode: 0o600 });
  const logOffset = (await stat(o.logFile)).size;
  const fd = openSync(o.logFile, 'a', 0o600);
  const startedAtMs = performance.now();
  let child: ChildProcess;
  try {
    child = processes.start(o.argv, { cwd: o.cwd, env: o.env, detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const exitState: Started['exitState'] = {};
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitState.exit = { code, signal };
      resolve(exitState.exit);
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err: NodeJS.ErrnoException) => {
      exitState.exit ??= { code: null, signal: null };
      reject(
        err.code === 'ENOENT'
          ? new CheckFailedError(`start command not found: ${o.argv[0]}`, { hint: `check start: in the target config; PATH was ${o.env.PATH ?? '(unset)'}` })
          : new CheckFailedError(`cannot start ${o.argv.join(' ')}: ${err.message}`),
      );
    });
  });
  child.unref();
  const pid = child.pid!;
  const procStart = procStartTime(pid);
  await writePidFile(o.pidFile, {
    pid,
    pgid: pid,
    ...(procStart !== undefined ? { procStart } : {}),
    release: o.release,
    startedAt: new Date().toISOString(),
    command: [...o.argv],
  });
  return { pid, logOffset, startedAtMs, exited, exitState };
}

/** The last `maxBytes` of the log from `offset` on. */
export async function readLogFrom(file: string, offset: number, maxBytes = 1 << 20): Promise<LogText> {
  let h;
  try {
    h = await open(file, 'r');
  } catch {
    return { text: '', from: offset };
  }
  try {
    const size = (await h.stat()).size;
    const from = Math.max(offset, size - maxBytes);
    if (from >= size) return { text: '', from };
    const buf = Buffer.alloc(size - from);
    await h.read(buf, 0, buf.length, from);
    return { text: buf.toString('utf8'), from };
  } finally {
    await h.close();
  }
}

export async function fileSize(file: string): Promise<number> {
  return (await stat(file).catch(() => undefined))?.size ?? 0;
}
