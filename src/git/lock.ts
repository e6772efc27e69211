/**
 * A lock file holding the owner's pid, created whole: the content is written to a temp file in the
 * same folder, which is then hard-linked to the lock's name (link fails with EEXIST when the lock
 * exists), so no reader ever sees an empty or partly written lock. A lock whose owner is gone
 * (SIGKILL, power loss) is taken over.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InterruptedError, LockedError } from '../core/errors.js';

export interface LockOptions {
  /** How long to wait for the holder; 0 = fail at once with LockedError (exit 5). */
  waitMs?: number;
  /** For the message: what the lock protects. */
  what: string;
  signal?: AbortSignal;
}

/** Lock contents this process holds now (a pid alone cannot tell them from a dead process's lock with the same pid). */
const held = new Set<string>();

/** A lock left empty by an older ltc (killed between creating and writing it) counts as stale after this. */
const EMPTY_LOCK_STALE_MS = 5_000;

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

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
  // A file system without hard links: O_EXCL, then the content (an empty lock is given time, see staleContent).
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
  const live = pid === process.pid ? mine.has(text) : pid !== undefined && alive(pid);
  return live ? { state: 'held' } : { state: 'stale', content: text };
}

/** Removes what killed processes left of their attempts at this lock (`<lock>.<pid>.<nonce>.tmp`, `<lock>.break.stale.<pid>.…`). */
async function sweep(file: string): Promise<void> {
  const base = basename(file);
  const names = await readdir(dirname(file)).catch(() => [] as string[]);
  for (const n of names) {
    if (!n.startsWith(`${base}.`)) continue;
    const m = /^(?:break\.stale\.)?(\d+)\.[0-9a-f]+(?:\.tmp)?$/.exec(n.slice(base.length + 1));
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) await rm(join(dirname(file), n), { force: true });
  }
}

/** Lock contents this process uses now to break a stale lock (see breakStale). */
const breaking = new Set<string>();

/**
 * Removes the stale lock, and only that one. One process at a time may do so: it first takes
 * `<lock>.break` (created like the lock), then removes the lock if it still holds what was judged
 * stale. A new lock cannot appear in its place meanwhile (link fails while the old one is there),
 * so no live lock is ever removed. Returns at once when another process is breaking it.
 */
async function breakStale(file: string, seen: string, temp: string, content: string): Promise<void> {
  const breaker = `${file}.break`;
  if (!(await create(breaker, temp, content))) {
    const other = await inspect(breaker, breaking);
    // A breaker that died mid-way: its file is moved aside, and put back should it be a new one.
    if (other.state === 'stale') await moveAsideIf(breaker, other.content);
    else await new Promise((r) => setTimeout(r, 5));
    return;
  }
  breaking.add(content);
  try {
    const now = await readFile(file, 'utf8').catch(() => undefined);
    if (now === seen) await rm(file, { force: true });
  } finally {
    breaking.delete(content);
    await rm(breaker, { force: true });
  }
}

/** Removes `file` if it holds `seen`: renamed aside first, put back when it turns out to hold something else. */
async function moveAsideIf(file: string, seen: string): Promise<void> {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch {
    return;
  }
  const text = await readFile(aside, 'utf8').catch(() => undefined);
  if (text !== seen) await link(aside, file).catch(() => undefined);
  await rm(aside, { force: true });
}

/** Holds `file` while `fn` runs. */
export async function withLock<T>(file: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + (opts.waitMs ?? 0);
  const nonce = randomBytes(6).toString('hex');
  const content = `${process.pid} ${nonce}\n`;
  const temp = `${file}.${process.pid}.${nonce}.tmp`;
  await writeFile(temp, content, { mode: 0o600, flag: 'wx' });
  try {
    for (;;) {
      if (await create(file, temp, content)) {
        held.add(content);
        await sweep(file);
        break;
      }
      const found = await inspect(file);
      if (found.state === 'gone') continue; // released meanwhile: try again at once
      if (found.state === 'stale') {
        // The holder died without cleaning up: take the lock over.
        await breakStale(file, found.content, temp, content);
        continue;
      }
      if (Date.now() >= deadline) {
        const holder = owner(await readFile(file, 'utf8').catch(() => undefined));
        throw new LockedError(`${opts.what}: held by another ltc process${holder ? ` (pid ${holder})` : ''}`, {
          hint: `wait for it to finish; if no ltc is running, remove ${file}`,
        });
      }
      if (opts.signal?.aborted) throw new InterruptedError();
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await rm(temp, { force: true });
  }
  try {
    return await fn();
  } finally {
    held.delete(content);
    await rm(file, { force: true });
  }
}
