import { randomHex } from './random-hex.js';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { withFileLock } from './file-lock.js';

/** Writes `file` atomically: a temp file in the same folder, fsync, then rename over the old one. */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomHex(4)}.tmp`;
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * The lock of the secrets store, a rotation and the audit log: src/core/file-lock.ts (a pid file
 * created whole by link(); a lock whose owner is gone, zombies included, is taken over by exactly
 * one process). A live owner is waited for up to `waitMs`, then LockedError (exit 5). The lock's
 * folder is created when missing.
 */
export function withLock<T>(lockFile: string, what: string, fn: () => Promise<T>, waitMs = 10_000): Promise<T> {
  return withFileLock(
    lockFile,
    {
      what,
      waitMs,
      pollMs: 20,
      createDir: true,
      locked: (pid, file) => ({
        message: `${what} is locked by another ltc process${pid ? ` (pid ${pid})` : ''}`,
        hint: `wait for it to finish; if no ltc runs, remove ${file}`,
      }),
    },
    fn,
  );
}
