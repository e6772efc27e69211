/**
 * src/core/file-lock.ts and src/core/process-alive.ts: one pid-file lock for the git mirror, the
 * gates, the secrets store, rotations and the audit log; one "is this pid running" for them and for
 * run journals. A zombie (killed, not reaped yet) counts as gone everywhere.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LockedError } from '../src/core/errors.js';
import { withFileLock } from '../src/core/file-lock.js';
import { isZombie, pidAlive } from '../src/core/process-alive.js';
import { parseJournal } from '../src/runbook/history.js';
import { processStart } from '../src/runbook/journal.js';
import { withLock as secretsLock } from '../src/core/fs-atomic.js';
import { cleanupTempDirs, tempDir } from './helpers/cli.js';

afterAll(cleanupTempDirs);

/** A real zombie: `sleep 0.2` ends after its parent exec'd into `sleep 30`, which never reaps it (`sleep 0` could end, and be reaped by sh, before the exec). */
async function makeZombie(): Promise<{ pid: number; parent: ChildProcess }> {
  const parent = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = Number(await new Promise<string>((resolve, reject) => {
    parent.once('error', reject);
    parent.stdout!.once('data', (b: Buffer) => resolve(b.toString().trim()));
  }));
  const state = () => {
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  };
  const until = Date.now() + 10_000;
  while (state() !== 'Z') {
    if (Date.now() > until) {
      parent.kill('SIGKILL');
      throw new Error(`pid ${pid} never became a zombie (state ${state() || 'none'}); /proc must be mounted`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { pid, parent };
}

/** Runs `fn` with a real zombie, ending its parent (and so the zombie) afterwards. */
async function withZombie<T>(fn: (z: { pid: number; parent: ChildProcess }) => Promise<T>): Promise<T> {
  const z = await makeZombie();
  try {
    return await fn(z);
  } finally {
    z.parent.kill('SIGKILL');
  }
}

/** A pid that ran and ended: what SIGKILL while holding a lock leaves behind. */
function gonePid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('pidAlive (src/core/process-alive.ts)', () => {
  it('running: yes; ended: no; killed but not reaped (zombie): no, though kill(pid, 0) still answers', async () => {
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(gonePid())).toBe(false);
    expect(pidAlive(0)).toBe(false);
    expect(pidAlive(-1)).toBe(false);
    expect(pidAlive(Number.NaN)).toBe(false);
    await withZombie(async (z) => {
      expect(() => process.kill(z.pid, 0)).not.toThrow(); // what made it look alive before
      expect(isZombie(z.pid)).toBe(true);
      expect(pidAlive(z.pid)).toBe(false);
      expect(pidAlive(z.parent.pid!)).toBe(true);
    });
  });
});

describe('withFileLock (src/core/file-lock.ts)', () => {
  it('takes over a lock whose owner is a zombie, without waiting, and leaves nothing behind', async () => {
    const dir = await tempDir('ltc-flock-');
    const lock = join(dir, 'x.lock');
    await withZombie(async (z) => {
      await writeFile(lock, `${z.pid} 0123456789ab\n`);
      expect(await withFileLock(lock, { what: 'the thing' }, async () => 'ran')).toBe('ran');
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it('acquirers in one process that wait for each other: never two inside at once (a new lock is ours before its link returns)', async () => {
    const lock = join(await tempDir('ltc-lock-'), 'x.lock');
    let inside = 0;
    let most = 0;
    let runs = 0;
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        Array.from({ length: 60 }, () =>
          withFileLock(lock, { what: 'x', waitMs: 60_000, pollMs: 1 }, async () => {
            most = Math.max(most, ++inside);
            await writeFile(`${lock}.data`, String(runs));
            inside--;
            runs++;
          }),
        ),
      );
    }
    expect(runs).toBe(300);
    expect(most).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it('an aborted wait ends with InterruptedError (exit 130)', async () => {
    const dir = await tempDir('ltc-flock-');
    const lock = join(dir, 'x.lock');
    const holder = spawn('sleep', ['30']);
    try {
      await writeFile(lock, `${holder.pid}\n`);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const err = await withFileLock(lock, { what: 'x', waitMs: 30_000, signal: ac.signal }, async () => 'taken').catch((e: unknown) => e);
      expect(err).toMatchObject({ exitCode: 130 });
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('sweeps what dead processes left of their attempts (also the older .new/.stale names and a dead breaker), not a live one', async () => {
    const dir = await tempDir('ltc-flock-');
    const lock = join(dir, 'x.lock');
    const dead = gonePid();
    const live = spawn('sleep', ['30']);
    try {
      const leftovers = [`x.lock.${dead}.aabbccddeeff.tmp`, `x.lock.${dead}.aabbccddeeff.new`, `x.lock.stale.${dead}.aabbccdd`, `x.lock.break.stale.${dead}.aabbccdd`];
      for (const f of leftovers) await writeFile(join(dir, f), `${dead} aabbccddeeff\n`);
      await writeFile(join(dir, 'x.lock.break'), `${dead} 00112233aabb\n`);
      const liveTemp = `x.lock.${live.pid}.aabbccddeeff.tmp`;
      await writeFile(join(dir, liveTemp), `${live.pid} aabbccddeeff\n`);
      await writeFile(join(dir, 'other.txt'), 'not ours');
      await withFileLock(lock, { what: 'x' }, async () => undefined);
      expect((await readdir(dir)).sort()).toEqual([liveTemp, 'other.txt'].sort());
    } finally {
      live.kill('SIGKILL');
    }
  });
});

/** 20 acquirers at once through the secrets/audit lock (no waiting): who ran, who got LockedError, most holding at once. */
async function raceSecrets(lock: string, n = 20): Promise<{ winners: number; locked: number; most: number; other: unknown[]; messages: string[] }> {
  let winners = 0;
  let holding = 0;
  let most = 0;
  let settled = 0;
  const attempts = Array.from({ length: n }, () =>
    secretsLock(lock, 'the secrets store', async () => {
      winners++;
      holding++;
      most = Math.max(most, holding);
      // Hold until every other attempt has ended (or a second winner shows the lock is broken).
      while (settled + winners < n && winners < 2) await new Promise((r) => setTimeout(r, 5));
      holding--;
    }, 0).finally(() => {
      settled++;
    }),
  );
  const rejected = (await Promise.allSettled(attempts)).filter((r) => r.status === 'rejected').map((r) => r.reason as unknown);
  const locked = rejected.filter((e): e is LockedError => e instanceof LockedError);
  return { winners, locked: locked.length, most, other: rejected.filter((e) => !(e instanceof LockedError)), messages: locked.map((e) => e.message) };
}

describe('withLock (src/core/fs-atomic.ts: secrets store, rotations, audit log)', () => {
  it('a stale lock (owner gone) raced for by 20 acquirers: taken over by exactly one, the others get exit 5', async () => {
    for (let round = 0; round < 5; round++) {
      const dir = await tempDir('ltc-slock-');
      const lock = join(dir, 'sub', 'store.json.lock'); // the folder is created by the lock
      const gone = gonePid();
      await secretsLock(join(dir, 'sub', 'warmup.lock'), 'x', async () => undefined, 0);
      await writeFile(lock, `${gone} 0123456789ab\n`);
      const r = await raceSecrets(lock);
      expect(r.other, `round ${round}`).toEqual([]);
      expect(r.winners, `round ${round}`).toBe(1);
      expect(r.most, `round ${round}`).toBe(1);
      expect(r.locked, `round ${round}`).toBe(19);
      for (const m of r.messages) expect(m).toMatch(/^the secrets store is locked by another ltc process \(pid \d+\)$/);
      expect(await readdir(join(dir, 'sub'))).toEqual([]);
    }
  });

  it('a lock held by a zombie raced for by 20 acquirers: taken over by exactly one', async () => {
    const dir = await tempDir('ltc-slock-');
    const lock = join(dir, 'audit.jsonl.lock');
    await withZombie(async (z) => {
      await writeFile(lock, `${z.pid} 0123456789ab\n`);
      const r = await raceSecrets(lock);
      expect(r.other).toEqual([]);
      expect(r.winners).toBe(1);
      expect(r.most).toBe(1);
      expect(r.locked).toBe(19);
      expect(await readdir(dir)).toEqual([]);
    });
  });
});

describe('run journals (src/runbook/history.ts)', () => {
  it('a run whose process is a zombie is reported killed, not running', async () => {
    const dir = await tempDir('ltc-journal-');
    const file = join(dir, 'run.jsonl');
    await withZombie(async (z) => {
      const header = (pid: number, pidStart: string | undefined) =>
        JSON.stringify({ t: 'run', v: 1, runId: 'r1', runbook: 'deploy', title: 'Deploy', file: 'deploy.yaml', sha256: 'x', actor: 't', inputs: {}, argv: [], pid, pidStart, cwd: dir, at: new Date().toISOString() }) +
        '\n' +
        JSON.stringify({ t: 'start', id: 'build', name: 'Build', type: 'run', phase: 'main', at: new Date().toISOString() }) +
        '\n';
      const zStart = processStart(z.pid);
      expect(zStart, 'the zombie keeps its /proc start time').toBeDefined();
      await writeFile(file, header(z.pid, zStart));
      expect(parseJournal(file, 'r1')).toMatchObject({ status: 'killed', openStep: 'build' });
      await writeFile(file, header(z.pid, undefined));
      expect(parseJournal(file, 'r1')?.status).toBe('killed');
      // The live parent, by contrast, still runs.
      await writeFile(file, header(z.parent.pid!, processStart(z.parent.pid!)));
      expect(parseJournal(file, 'r1')?.status).toBe('running');
    });
  });
});
