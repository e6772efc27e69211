/**
 * A lock file holding the owner's pid, created whole: the content is written to a temp file in the
 * same folder, which is then hard-linked to the lock's name (link fails with EEXIST when the lock
 * exists), so no reader ever sees an empty or partly written lock. A lock whose owner is gone
 * (SIGKILL, power loss, or killed and not reaped yet: a zombie) is taken over by exactly one
 * process; a live owner is waited for up to `waitMs`, then LockedError (exit 5).
 *
 * Used by the git mirror and gate locks (src/git/lock.ts) and by the secrets store, rotations and
 * the audit log (src/core/fs-atomic.ts).
 */
import { randomHex } from './random-hex.js';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InterruptedError, LockedError } from './errors.js';
import { pidAlive } from './process-alive.js';

export interface FileLockOptions {
  /** For the message: what the lock protects. */
  what: string;
  /** How long to wait for a live holder; 0 (the default) = fail at once with LockedError (exit 5). */
  waitMs?: number;
  /** Checked while waiting: aborted → InterruptedError (exit 130). */
  signal?: AbortSignal;
  /** How often a held lock is tried again while waiting (default 50 ms). */
  pollMs?: number;
  /** Create the lock's folder first (default false: it must exist). */
  createDir?: boolean;
  /** The LockedError's message and hint; default `<what>: held by another ltc process (pid N)`. */
  locked?: (holder: number | undefined, file: string) => { message: string; hint: string };
}

/** Lock contents this process holds now (a pid alone cannot tell them from a dead process's lock with the same pid). */
const held = new Set<string>();

/** Lock contents this process uses now to break a stale lock (see breakStale). */
const breaking = new Set<string>();

/** A lock left empty by an older ltc (killed between creating and writing it) counts as stale after this. */
const EMPTY_LOCK_STALE_MS = 5_000;

function owner(text: string | undefined): number | undefined {
  const pid = Number((text ?? '').trim().split(/\s+/)[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Creates the lock with its content in one step (link); false when it exists. */
async function create(file: string, temp: string, content: string): Promise<boolean> {
  try {
    await link(temp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
  }
  // A file system without hard links: O_EXCL, then the content (an empty lock is given time, see inspect).
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

type LockState = { state: 'gone' } | { state: 'held' } | { state: 'stale'; content: string };

/** Whether the lock is held, was released meanwhile, or was left by an owner that is gone (with what it holds). */
async function inspect(file: string, mine: ReadonlySet<string> = held): Promise<LockState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    // Gone: released meanwhile. Unreadable (permissions): someone else's, held.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? { state: 'gone' } : { state: 'held' };
  }
  if (text.trim() === '') {
    const st = await stat(file).catch(() => undefined);
    if (!st) return { state: 'gone' };
    return Date.now() - st.mtimeMs > EMPTY_LOCK_STALE_MS ? { state: 'stale', content: text } : { state: 'held' };
  }
  const pid = owner(text);
  const live = pid === process.pid ? mine.has(text) : pid !== undefined && pidAlive(pid);
  return live ? { state: 'held' } : { state: 'stale', content: text };
}

/**
 * Removes what killed processes left of their attempts at this lock: temp files
 * (`<lock>.<pid>.<nonce>.tmp`, and `.new` of older ltc versions), files moved aside
 * (`<lock>.break.stale.<pid>.…`, `<lock>.stale.<pid>.…`), and a `<lock>.break` whose owner is gone.
 * Runs while the lock is held.
 */
async function sweep(file: string): Promise<void> {
  const base = basename(file);
  const names = await readdir(dirname(file)).catch(() => [] as string[]);
  for (const n of names) {
    if (!n.startsWith(`${base}.`)) continue;
    const m = /^(?:(?:break\.)?stale\.)?(\d+)\.[0-9a-f]+(?:\.tmp|\.new)?$/.exec(n.slice(base.length + 1));
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) await rm(join(dirname(file), n), { force: true });
  }
  if (names.includes(`${base}.break`)) {
    const breaker = `${file}.break`;
    const other = await inspect(breaker, breaking);
    if (other.state === 'stale') await moveAsideIf(breaker, other.content);
  }
}

/**
 * Removes the stale lock, and only that one. One process at a time may do so: it first takes
 * `<lock>.break` (created like the lock), then removes the lock if it still holds what was judged
 * stale. A new lock cannot appear in its place meanwhile (link fails while the old one is there),
 * so no live lock is ever removed. Returns at once when another process is breaking it.
 */
async function breakStale(file: string, seen: string, temp: string, content: string): Promise<void> {
  const breaker = `${file}.break`;
  // Marked ours before it exists: another acquirer in this process that sweeps meanwhile must
  // not judge it stale (and move it aside, then put it back after we removed it).
  breaking.add(content);
  if (!(await create(breaker, temp, content))) {
    breaking.delete(content);
    const other = await inspect(breaker, breaking);
    // A breaker that died mid-way: its file is moved aside, and put back should it be a new one.
    if (other.state === 'stale') await moveAsideIf(breaker, other.content);
    else await new Promise((r) => setTimeout(r, 5));
    return;
  }
  try {
    const now = await readFile(file, 'utf8').catch(() => undefined);
    if (now === seen) await rm(file, { force: true });
  } finally {
    // Removed before it stops being ours: a sweep in this process must never judge it stale while it exists.
    await rm(breaker, { force: true });
    breaking.delete(content);
  }
}

/** Removes `file` if it holds `seen`: renamed aside first, put back when it turns out to hold something else. */
async function moveAsideIf(file: string, seen: string): Promise<void> {
  const aside = `${file}.stale.${process.pid}.${randomHex(4)}`;
  try {
    await rename(file, aside);
  } catch {
    return;
  }
  const text = await readFile(aside, 'utf8').catch(() => undefined);
  if (text === seen || text === undefined) {
    await rm(aside, { force: true });
    return;
  }
  await link(aside, file).catch(() => undefined);
  await rm(aside, { force: true });
  // Its owner may have finished (and removed it) while it was aside: what was put back is then stale.
  const back = await inspect(file, breaking);
  if (back.state === 'stale' && back.content === text) await moveAsideIf(file, text);
}

function lockedError(file: string, holder: number | undefined, opts: FileLockOptions): LockedError {
  const { message, hint } = opts.locked?.(holder, file) ?? {
    message: `${opts.what}: held by another ltc process${holder ? ` (pid ${holder})` : ''}`,
    hint: `wait for it to finish; if no ltc is running, remove ${file}`,
  };
  return new LockedError(message, { hint });
}

/** Holds the lock file `file` while `fn` runs; removes it afterwards (also when `fn` throws). */
export async function withFileLock<T>(file: string, opts: FileLockOptions, fn: () => Promise<T>): Promise<T> {
  if (opts.createDir) await mkdir(dirname(file), { recursive: true });
  const deadline = Date.now() + (opts.waitMs ?? 0);
  const nonce = randomHex(6);
  const content = `${process.pid} ${nonce}\n`;
  const temp = `${file}.${process.pid}.${nonce}.tmp`;
  await writeFile(temp, content, { mode: 0o600, flag: 'wx' });
  try {
    for (;;) {
      // Marked ours before it exists: another acquirer in this process that reads the new lock
      // before this one learns that its link succeeded must see it held, not stale (and break it).
      held.add(content);
      let created = false;
      try {
        created = await create(file, temp, content);
      } finally {
        if (!created) held.delete(content);
      }
      if (created) {
        // Tidying up is best effort: it must not leave the lock taken and unreleased.
        await sweep(file).catch(() => undefined);
        break;
      }
      const found = await inspect(file);
      if (found.state === 'gone') continue; // released meanwhile: try again at once
      if (found.state === 'stale') {
        // The holder died without cleaning up: take the lock over.
        await breakStale(file, found.content, temp, content);
        continue;
      }
      if (Date.now() >= deadline) throw lockedError(file, owner(await readFile(file, 'utf8').catch(() => undefined)), opts);
      if (opts.signal?.aborted) throw new InterruptedError();
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 50));
    }
  } finally {
    await rm(temp, { force: true });
  }
  try {
    return await fn();
  } finally {
    // Ours until it is gone: another acquirer in this process that reads it meanwhile must not
    // judge it stale, or its breaker could remove the next holder's lock.
    await rm(file, { force: true });
    held.delete(content);
  }
}
