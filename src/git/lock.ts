/**
 * A lock file holding the owner's pid: created with O_EXCL, taken over when its owner is gone.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { InterruptedError, LockedError } from '../core/errors.js';

export interface LockOptions {
  /** How long to wait for the holder; 0 = fail at once with LockedError (exit 5). */
  waitMs?: number;
  /** For the message: what the lock protects. */
  what: string;
  signal?: AbortSignal;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryTake(file: string): Promise<number | undefined> {
  try {
    const handle = await open(file, 'wx', 0o600);
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    return undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const holder = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
    if (!alive(holder) && holder !== process.pid) {
      // The holder died without cleaning up (SIGKILL, power loss): take the lock over.
      await rm(file, { force: true });
      return tryTake(file);
    }
    return Number.isNaN(holder) ? -1 : holder;
  }
}

/** Holds `file` while `fn` runs. */
export async function withLock<T>(file: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + (opts.waitMs ?? 0);
  for (;;) {
    const holder = await tryTake(file);
    if (holder === undefined) break;
    if (Date.now() >= deadline) {
      throw new LockedError(`${opts.what}: held by another ltc process (pid ${holder})`, {
        hint: `wait for it to finish; if no ltc is running, remove ${file}`,
      });
    }
    if (opts.signal?.aborted) throw new InterruptedError();
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}
