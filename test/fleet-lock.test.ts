/**
 * The fleet lock's take-over script (src/fleet/lock.ts) as the hosts run it: POSIX sh with
 * coreutils, here on this machine against a temp dir, raced by 20 takers at once.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TAKE_LOCK_SCRIPT } from '../src/fleet/lock.ts';
import { cleanupTempDirs, tempDir } from './helpers/cli.ts';

afterAll(cleanupTempDirs);

function take(dir: string, staleSeconds: number, runId: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', TAKE_LOCK_SCRIPT, 'sh', dir, String(staleSeconds)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(JSON.stringify({ runId, action: 'deploy', pid: 1, host: 'h', user: 'u', rc: null, startedAt: 'now' }));
  });
}

async function staleLock(root: string, ageSeconds: number): Promise<string> {
  const dir = join(root, '.ltc-lock');
  await mkdir(dir);
  await writeFile(join(dir, 'info.json'), JSON.stringify({ runId: 'killed-run', action: 'deploy' }));
  await writeFile(join(dir, 'heartbeat'), '');
  const then = new Date(Date.now() - ageSeconds * 1000);
  await utimes(join(dir, 'heartbeat'), then, then);
  return dir;
}

describe('fleet lock: take, held, stale take-over', () => {
  it('20 takers of a free lock: exactly one gets it (exit 0), 19 are told it is held (exit 3)', async () => {
    const root = await tempDir('ltc-flock-');
    const dir = join(root, '.ltc-lock');
    const r = await Promise.all(Array.from({ length: 20 }, (_, i) => take(dir, 60, `run-${i}`)));
    expect(r.filter((x) => x.code === 0)).toHaveLength(1);
    expect(r.filter((x) => x.code === 3)).toHaveLength(19);
    const winner = r.findIndex((x) => x.code === 0);
    expect(JSON.parse(await readFile(join(dir, 'info.json'), 'utf8')).runId).toBe(`run-${winner}`);
  });

  it('a fresh heartbeat is held: exit 3 with its age and holder, nothing changed', async () => {
    const root = await tempDir('ltc-flock-');
    const dir = await staleLock(root, 2);
    const r = await take(dir, 60, 'new-run');
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^age=[2-4]\n.*killed-run/s);
    expect(JSON.parse(await readFile(join(dir, 'info.json'), 'utf8')).runId).toBe('killed-run');
  });

  it('20 takers of a stale lock: exactly one takes it over (exit 4, the old holder on stdout), the others exit 3; no mutex left', async () => {
    for (let round = 0; round < 3; round++) {
      const root = await tempDir('ltc-flock-');
      const dir = await staleLock(root, 120);
      const r = await Promise.all(Array.from({ length: 20 }, (_, i) => take(dir, 60, `run-${i}`)));
      // One winner: the taker (exit 4), or rarely a plain mkdir that landed between its rm and mkdir (exit 0).
      const won = r.filter((x) => x.code === 4 || x.code === 0);
      expect(won, `round ${round}`).toHaveLength(1);
      expect(r.filter((x) => x.code === 3), `round ${round}`).toHaveLength(19);
      expect(r.filter((x) => x.code === 4).length, `round ${round}: the stale lock was taken over`).toBeLessThanOrEqual(1);
      if (won[0]!.code === 4) expect(won[0]!.out).toMatch(/^age=1[12]\d\n.*killed-run/s);
      const winner = r.findIndex((x) => x.code === 4 || x.code === 0);
      expect(JSON.parse(await readFile(join(dir, 'info.json'), 'utf8')).runId).toBe(`run-${winner}`);
      expect((await readdir(root)).sort()).toEqual(['.ltc-lock']);
    }
  });

  it('a take-over mutex left by a killed taker is itself stale and does not block forever', async () => {
    const root = await tempDir('ltc-flock-');
    const dir = await staleLock(root, 120);
    await mkdir(`${dir}.takeover`);
    const then = new Date(Date.now() - 120_000);
    await utimes(`${dir}.takeover`, then, then);
    const r = await take(dir, 60, 'new-run');
    expect(r.code, r.out).toBe(4);
    expect((await readdir(root)).sort()).toEqual(['.ltc-lock']);
  });
});
