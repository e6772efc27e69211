import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LockedError } from '../core/errors.js';

/** Writes `file` atomically: a temp file in the same folder, fsync, then rename over the old one. */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
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

/** Lock contents this process holds now (a pid alone cannot tell them from a dead process's lock that had the same pid). */
const held = new Set<string>();

/**
 * A killed process its parent has not reaped yet (a zombie: a SIGKILLed ltc whose parent died,
 * under a PID 1 that reaps late or never, as in many containers) still answers kill(pid, 0), but
 * holds nothing any more. Linux tells through /proc/<pid>/stat (state after the command's ')').
 */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !zombie(pid);
}

/** An old-style lock file left empty (its owner was killed between creating and writing it) counts as stale after this. */
const EMPTY_LOCK_STALE_MS = 5_000;

/** The lock's content when its owner is gone (SIGKILL, power loss), else undefined. */
async function staleContent(lockFile: string): Promise<string | undefined> {
  const text = await readFile(lockFile, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  if (text.trim() === '') {
    const st = await stat(lockFile).catch(() => undefined);
    return st && Date.now() - st.mtimeMs > EMPTY_LOCK_STALE_MS ? text : undefined;
  }
  const pid = owner(text);
  if (pid === process.pid) return held.has(text) ? undefined : text;
  return pid !== undefined && alive(pid) ? undefined : text;
}

/**
 * Removes a stale lock — only the one judged stale: it is first renamed aside, and should it turn
 * out to be a lock another process took meanwhile, it is put back.
 */
async function breakStale(lockFile: string, seen: string): Promise<void> {
  const aside = `${lockFile}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockFile, aside);
  } catch {
    return;
  }
  const text = await readFile(aside, 'utf8').catch(() => undefined);
  if (text !== seen) await link(aside, lockFile).catch(() => undefined);
  await rm(aside, { force: true });
}

function owner(text: string | undefined): number | undefined {
  const pid = Number((text ?? '').trim().split(/\s+/)[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Removes what killed processes left of their attempts at this lock (`<lock>.<pid>.<nonce>.new`, `<lock>.stale.<pid>.…`). */
async function sweep(lockFile: string): Promise<void> {
  const base = basename(lockFile);
  const names = await readdir(dirname(lockFile)).catch(() => [] as string[]);
  for (const n of names) {
    if (!n.startsWith(`${base}.`)) continue;
    const m = /^(?:stale\.)?(\d+)\.[0-9a-f]+(?:\.new)?$/.exec(n.slice(base.length + 1));
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) await rm(join(dirname(lockFile), n), { force: true });
  }
}

/** Creates the lock with its content in one step (link); false when it exists. */
async function create(lockFile: string, mine: string, content: string): Promise<boolean> {
  try {
    await link(mine, lockFile);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
  }
  // A file system without hard links: O_EXCL, then the content (an empty lock is given time, see staleContent).
  try {
    const handle = await open(lockFile, 'wx', 0o600);
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

/**
 * A lock file holding the owner's pid, created whole by link() (never seen empty). A lock left
 * by a process that no longer runs (SIGKILL) is taken over; a live owner is waited for up to
 * `waitMs`, then LockedError (exit 5).
 */
export async function withLock<T>(lockFile: string, what: string, fn: () => Promise<T>, waitMs = 10_000): Promise<T> {
  await mkdir(dirname(lockFile), { recursive: true });
  const deadline = Date.now() + waitMs;
  const nonce = randomBytes(6).toString('hex');
  const content = `${process.pid} ${nonce}\n`;
  const mine = `${lockFile}.${process.pid}.${nonce}.new`;
  await writeFile(mine, content, { mode: 0o600 });
  try {
    for (;;) {
      if (await create(lockFile, mine, content)) {
        held.add(content);
        await sweep(lockFile);
        break;
      }
      const stale = await staleContent(lockFile);
      if (stale !== undefined) {
        await breakStale(lockFile, stale);
        continue;
      }
      if (Date.now() >= deadline) {
        const pid = owner(await readFile(lockFile, 'utf8').catch(() => undefined));
        throw new LockedError(`${what} is locked by another ltc process${pid ? ` (pid ${pid})` : ''}`, {
          hint: `wait for it to finish; if no ltc runs, remove ${lockFile}`,
        });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    return await fn();
  } finally {
    held.delete(content);
    await rm(lockFile, { force: true });
  }
}
