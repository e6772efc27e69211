/**
 * The lock of the git mirror and of a commit's gate run: src/core/file-lock.ts, with its default
 * message (`<what>: held by another ltc process (pid N)`) and no waiting unless `waitMs` is given.
 */
import { withFileLock, type FileLockOptions } from '../core/file-lock.js';

export type LockOptions = Pick<FileLockOptions, 'what' | 'waitMs' | 'signal'>;

/** Holds `file` while `fn` runs. */
export function withLock<T>(file: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  return withFileLock(file, opts, fn);
}
