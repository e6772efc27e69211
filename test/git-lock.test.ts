/** src/git/lock.ts: the lock file appears whole (link of a complete temp file), one winner among many. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { LockedError } from '../src/core/errors.ts';
import { withLock } from '../src/git/lock.ts';
import { cleanupTempDirs, ROOT, tempDir } from './helpers/cli.ts';

afterAll(cleanupTempDirs);

/**
 * Slow writes: a pause between creating a file and writing its content (what a loaded machine or a
 * slow disk does), so a lock created empty and filled afterwards would be seen empty.
 */
const slow = vi.hoisted(() => ({ ms: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const pause = () => new Promise((r) => setTimeout(r, slow.ms));
  const slowHandle = (handle: import('node:fs/promises').FileHandle) =>
    new Proxy(handle, {
      get(target, prop) {
        if (prop === 'writeFile' && slow.ms > 0) {
          return async (...args: Parameters<typeof target.writeFile>) => {
            await pause();
            return target.writeFile(...args);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  const open = async (...args: Parameters<typeof real.open>) => slowHandle(await real.open(...args));
  const writeFile = async (file: string, data: string, opts?: { mode?: number; flag?: string }) => {
    if (slow.ms === 0) return real.writeFile(file, data, opts);
    const handle = await open(file, opts?.flag ?? 'w', opts?.mode);
    try {
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
  };
  return { ...real, open, writeFile, default: { ...real, open, writeFile } };
});
afterEach(() => {
  slow.ms = 0;
});

/** Reads `file` over and over until stopped; returns every content seen (never ENOENT). */
function watch(file: string): { stop: () => Promise<string[]> } {
  const seen: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        seen.push(await readFile(file, 'utf8'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** 20 acquirers at once (no waiting): counts who ran, who got LockedError, and the most holding at once. */
async function race(lock: string, n = 20): Promise<{ winners: number; locked: number; most: number; other: unknown[] }> {
  let winners = 0;
  let holding = 0;
  let most = 0;
  let settled = 0;
  const attempts = Array.from({ length: n }, () =>
    withLock(lock, { what: 'the test lock' }, async () => {
      winners++;
      holding++;
      most = Math.max(most, holding);
      // Hold until every other attempt has ended (or a second winner shows the lock is broken).
      while (settled + winners < n && winners < 2) await new Promise((r) => setTimeout(r, 5));
      holding--;
      return 'ran';
    }).finally(() => {
      settled++;
    }),
  );
  const results = await Promise.allSettled(attempts);
  const rejected = results.filter((r) => r.status === 'rejected').map((r) => r.reason as unknown);
  return {
    winners,
    locked: rejected.filter((e) => e instanceof LockedError).length,
    most,
    other: rejected.filter((e) => !(e instanceof LockedError)),
  };
}

describe('withLock (src/git/lock.ts)', () => {
  it('20 concurrent acquirers: exactly one runs, the others get LockedError', async () => {
    const dir = await tempDir('ltc-lock-');
    const lock = join(dir, 'x.lock');
    const r = await race(lock);
    expect(r.other).toEqual([]);
    expect(r.winners).toBe(1);
    expect(r.most).toBe(1);
    expect(r.locked).toBe(19);
    // Released, and no temp file left behind.
    expect(await readdir(dir)).toEqual([]);
  });

  it('with slow writes: a reader never sees an empty or partial lock, and still exactly one of 20 wins', async () => {
    slow.ms = 30;
    const dir = await tempDir('ltc-lock-');
    const lock = join(dir, 'x.lock');
    const reader = watch(lock);
    const r = await race(lock);
    const seen = await reader.stop();
    expect(seen.length).toBeGreaterThan(0);
    for (const text of seen) expect(text).toMatch(new RegExp(`^${process.pid}\\b.*\\n$`));
    expect(r.other).toEqual([]);
    expect(r.winners).toBe(1);
    expect(r.most).toBe(1);
    expect(r.locked).toBe(19);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a stale lock (its owner is gone) raced for by 20 acquirers: taken over by exactly one', async () => {
    slow.ms = 30;
    const dir = await tempDir('ltc-lock-');
    const lock = join(dir, 'x.lock');
    // A pid that ran and ended: what SIGKILL while holding the lock leaves behind.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(lock, `${gone}\n`);
    const r = await race(lock);
    expect(r.other).toEqual([]);
    expect(r.winners).toBe(1);
    expect(r.most).toBe(1);
    expect(r.locked).toBe(19);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a lock held by a live process is refused with exit 5 naming its pid, and left alone', async () => {
    const dir = await tempDir('ltc-lock-');
    const lock = join(dir, 'x.lock');
    const holder = spawn('sleep', ['30']);
    try {
      await writeFile(lock, `${holder.pid}\n`);
      const err = await withLock(lock, { what: 'the thing', waitMs: 100 }, async () => 'taken').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockedError);
      expect(err).toMatchObject({ exitCode: 5 });
      expect((err as Error).message).toContain(`the thing: held by another ltc process (pid ${holder.pid})`);
      expect(await readFile(lock, 'utf8')).toBe(`${holder.pid}\n`);
      expect((await readdir(dir)).sort()).toEqual(['x.lock']);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('separate processes racing for one lock: exactly one holds it', async () => {
    const dir = await tempDir('ltc-lock-');
    const lock = join(dir, 'x.lock');
    const release = join(dir, 'release-now');
    const dist = join(ROOT, 'dist', 'src', 'git', 'lock.js');
    expect(existsSync(dist), 'build first: npx tsc -p tsconfig.json').toBe(true);
    // The winner holds the lock until the test says every process has had its try.
    const script = `
      const { existsSync } = await import('node:fs');
      const { withLock } = await import(${JSON.stringify(dist)});
      try {
        await withLock(${JSON.stringify(lock)}, { what: 'x' }, async () => {
          console.log('won');
          while (!existsSync(${JSON.stringify(release)})) await new Promise((r) => setTimeout(r, 10));
        });
      } catch (e) { console.log(e.exitCode === 5 ? 'locked' : 'error ' + e.message); }
    `;
    const n = 8;
    let answered = 0;
    const runs = Array.from({ length: n }, () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          if (!out) answered++;
          out += d.toString();
          if (answered === n) void writeFile(release, '');
        });
        child.on('error', reject);
        child.on('close', () => resolve(out.trim()));
      }),
    );
    // Two winners (a broken lock) would leave only six losers: released anyway so the test ends.
    const outs = await Promise.race([
      Promise.all(runs),
      new Promise<never>((_, reject) => setTimeout(() => {
        void writeFile(release, '');
        reject(new Error(`not every process answered: ${answered} of ${n}`));
      }, 30_000)),
    ]);
    await rm(release);
    expect(outs.filter((o) => o === 'won')).toHaveLength(1);
    expect(outs.filter((o) => o === 'locked')).toHaveLength(n - 1);
    expect(await readdir(dir)).toEqual([]);
  });
});
