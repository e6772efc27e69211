/**
 * The environment's deploy lock: `<deploy_root>/.ltc-lock`, a small JSON file (pid, host, user,
 * action, rc, start time, the process's start time) created atomically: the JSON is written to a
 * temp file first and hard-linked to the lock name, and link() fails when the name exists — so the
 * lock never exists half-written.
 *
 * A stale lock (its process is gone: SIGKILL, power loss, or its pid now belongs to another
 * process) is taken over by the next deploy or rollback, which reports it: the stale file is
 * renamed away (atomic; of two takers only one succeeds), checked to be the same stale lock that
 * was read, and the new lock is linked in. A lock of another host is never considered stale.
 */
import { randomHex } from '../../core/random-hex.js';
import { hostname, userInfo } from 'node:os';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InterruptedError, LockedError } from '../../core/errors.js';
import { procStartTime, sameProcess } from '../proc.js';
import type { LockHandle, LockInfo, LockState } from '../target.js';
import { isMissing, withPath } from '../../core/fs-missing.js';

/** Locks this process holds (released on exit, even when a run ends by an error). */
const held = new Map<string, LockInfo>();
let exitHook = false;

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    // Synchronous: only unlink files that still hold our own lock.
    const fs = process.getBuiltinModule('node:fs');
    for (const [file, info] of held) {
      try {
        const now = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
        if (now.pid === info.pid && now.startedAt === info.startedAt) fs.rmSync(file, { force: true });
      } catch {
        /* gone already */
      }
    }
  });
}

export function heldLock(file: string): LockInfo | undefined {
  return held.get(file);
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export function parseLock(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid !== 'number' || typeof v.startedAt !== 'string') return undefined;
    return {
      pid: v.pid,
      host: typeof v.host === 'string' ? v.host : 'unknown',
      user: typeof v.user === 'string' ? v.user : 'unknown',
      action: typeof v.action === 'string' ? v.action : 'unknown',
      startedAt: v.startedAt,
      ...(typeof v.rc === 'string' ? { rc: v.rc } : {}),
      ...(typeof v.procStart === 'number' ? { procStart: v.procStart } : {}),
      ...(typeof v.runId === 'string' ? { runId: v.runId } : {}),
      ...(v.by && typeof v.by === 'object' && typeof v.by.os_user === 'string' ? { by: { git_email: typeof v.by.git_email === 'string' ? v.by.git_email : null, os_user: v.by.os_user } } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Why a lock is stale, or undefined when its holder runs. */
export function staleReason(info: LockInfo): string | undefined {
  if (info.host !== hostname()) return undefined; // another machine: cannot tell, assume it runs
  if (!sameProcess(info.pid, info.procStart)) return `its process (pid ${info.pid}) is no longer running`;
  return undefined;
}

export function describeHolder(info: LockInfo): string {
  return `${info.action}${info.rc ? ` of ${info.rc}` : ''} by ${info.by?.git_email ? `${info.by.git_email} (${info.user}@${info.host})` : `${info.user}@${info.host}`} (pid ${info.pid}, since ${info.startedAt}${info.runId ? `, run ${info.runId}` : ''})`;
}

export async function readLockState(file: string): Promise<LockState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (isMissing(err)) return { state: 'free' };
    throw withPath(err, file);
  }
  const info = parseLock(text);
  if (!info) {
    // Unreadable content cannot come from link(): treat as stale (a hand-made or damaged file).
    return { state: 'stale', file, why: 'the lock file is not valid JSON', info: { pid: 0, host: 'unknown', user: 'unknown', action: 'unknown', startedAt: 'unknown' } };
  }
  const why = staleReason(info);
  return why ? { state: 'stale', info, file, why } : { state: 'held', info, file };
}

/** Creates the lock file with `info` if the name is free; false when it exists. */
async function tryCreate(file: string, info: LockInfo): Promise<boolean> {
  const tmp = `${file}.${process.pid}.${randomHex(4)}.tmp`;
  await writeFile(tmp, JSON.stringify(info) + '\n', { mode: 0o644 });
  try {
    await link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Moves a stale lock out of the way; true when the file moved was the stale lock read before
 * (false: another process took it over meanwhile, and its fresh lock was put back).
 */
async function removeStale(file: string, stale: LockState & { state: 'stale' }): Promise<boolean> {
  const grave = `${file}.stale-${process.pid}-${randomHex(4)}`;
  try {
    await rename(file, grave);
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
  const moved = parseLock(await readFile(grave, 'utf8').catch(() => ''));
  const same = !moved ? stale.why.includes('not valid JSON') : moved.pid === stale.info.pid && moved.startedAt === stale.info.startedAt;
  if (!same) {
    // We moved a live lock that replaced the stale one: put it back (no overwrite).
    await link(grave, file).catch(() => undefined);
  }
  await rm(grave, { force: true });
  return same;
}

export interface AcquireOptions {
  action: string;
  rc?: string;
  runId?: string;
  waitMs: number;
  signal: AbortSignal;
  what: string;
  hintEnv: string;
  onWait?: (state: LockState) => void;
}

export async function acquireLock(file: string, opts: AcquireOptions): Promise<LockHandle> {
  const mine = held.get(file);
  if (mine) {
    // Re-entrant within one process (the rollback of a deploy runs under the deploy's lock).
    return { file, info: mine, release: async () => undefined };
  }
  await mkdir(dirname(file), { recursive: true });
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    user: currentUser(),
    action: opts.action,
    startedAt: new Date().toISOString(),
    ...(opts.rc ? { rc: opts.rc } : {}),
    ...(procStartTime(process.pid) !== undefined ? { procStart: procStartTime(process.pid)! } : {}),
    ...(opts.runId ? { runId: opts.runId } : {}),
    by: await (await import('../../audit/actor.js')).currentActorId(),
  };
  const deadline = Date.now() + opts.waitMs;
  let tookOver: { info: LockInfo; why: string } | undefined;
  let waited = false;
  for (;;) {
    if (opts.signal.aborted) throw new InterruptedError(`interrupted while waiting for the lock of ${opts.what}`);
    if (await tryCreate(file, info)) break;
    const state = await readLockState(file);
    if (state.state === 'free') continue; // released between our attempt and the read
    if (state.state === 'stale') {
      if (await removeStale(file, state)) tookOver = { info: state.info, why: state.why };
      continue;
    }
    if (Date.now() >= deadline) {
      throw new LockedError(`${opts.what} is locked: ${describeHolder(state.info)}`, {
        hint:
          (opts.waitMs > 0 ? `waited ${Math.round(opts.waitMs / 1000)}s; ` : '') +
          `wait for it to finish (or pass --lock-wait 5m); see \`ltc lock status --env ${opts.hintEnv}\``,
        details: { lock: file, holder: state.info },
      });
    }
    if (!waited) {
      waited = true;
      opts.onWait?.(state);
    }
    await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, deadline - Date.now()))));
  }
  held.set(file, info);
  installExitHook();
  return {
    file,
    info,
    ...(tookOver ? { tookOver } : {}),
    release: async () => {
      held.delete(file);
      const now = parseLock(await readFile(file, 'utf8').catch(() => ''));
      if (now && now.pid === info.pid && now.startedAt === info.startedAt) await rm(file, { force: true });
    },
  };
}

/** `ltc lock release`: removes the lock file whoever holds it; returns what it held. */
export async function breakLock(file: string): Promise<LockInfo | undefined> {
  const state = await readLockState(file);
  if (state.state === 'free') return undefined;
  await rm(file, { force: true });
  held.delete(file);
  return state.info;
}

/** Releases every lock this process holds (the CLI calls it when a deploy or rollback ends). */
export async function releaseAllHeld(): Promise<void> {
  for (const [file, info] of [...held]) {
    held.delete(file);
    const now = parseLock(await readFile(file, 'utf8').catch(() => ''));
    if (now && now.pid === info.pid && now.startedAt === info.startedAt) await rm(file, { force: true });
  }
}
