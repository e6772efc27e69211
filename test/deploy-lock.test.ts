/**
 * The environment lock: two deploys at once (one exits 5 naming the holder, nothing corrupted),
 * --lock-wait, a rollback during a deploy, `ltc lock status` and `ltc lock release` (audited).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from './helpers/cli.ts';
import { currentRelease, isCompleteRelease, liveVersion, makeStage, processesUnder, revisions, stopStage, type Stage } from './helpers/deploy.ts';

const stages: Stage[] = [];
/** A stage whose build takes a while, so a second deploy meets the first one's lock. */
async function slowStage(): Promise<Stage> {
  const s = await makeStage({ target: { build: [['npm', 'run', 'build'], ['node', '-e', 'setTimeout(() => {}, 2500)']] } });
  stages.push(s);
  return s;
}

afterEach(async () => {
  for (const s of stages.splice(0)) {
    await stopStage(s);
    expect(processesUnder(s.dir)).toEqual([]);
  }
});
afterAll(cleanupTempDirs);

async function lockAppears(s: Stage): Promise<void> {
  const file = join(s.deployRoot, '.ltc-lock');
  const until = Date.now() + 30_000;
  while (!existsSync(file)) {
    if (Date.now() > until) throw new Error('the first deploy never took the lock');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the deploy lock', () => {
  it('two deploys at once: one exits 5 naming the holder, the other deploys; nothing is corrupted', async () => {
    const s = await slowStage();
    const [a, b] = await Promise.all([
      s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']),
      s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']),
    ]);
    const codes = [a.code, b.code].sort();
    expect(codes, a.stderr + b.stderr).toEqual([0, 5]);
    const loser = a.code === 5 ? a : b;
    const winnerRc = a.code === 0 ? 'rc-2026-02-15' : 'rc-2026-03-01';
    expect(loser.stderr).toMatch(/environment staging \(.*\) is locked: deploy of rc-2026-\S+ by \S+@\S+ (\(\S+@\S+\) )?\(pid \d+, since /);
    expect(loser.stderr).toContain('--lock-wait');
    const cur = currentRelease(s)!;
    expect(cur.startsWith(`${winnerRc}-`)).toBe(true);
    expect(isCompleteRelease(s, cur)).toBe(true);
    expect(readdirSync(join(s.deployRoot, 'releases'))).toEqual([cur]);
    expect(revisions(s).map((r) => `${r.rc}:${r.outcome}`)).toEqual([`${winnerRc}:ok`]);
    expect(await liveVersion(s)).toBe(winnerRc === 'rc-2026-02-15' ? '1.0.0' : '1.1.0');
    expect(existsSync(join(s.deployRoot, '.ltc-lock'))).toBe(false);
  });

  it('a rollback during a deploy exits 5; with --lock-wait a second deploy waits and then runs', async () => {
    const s = await slowStage();
    const first = s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    await lockAppears(s);
    const status = await s.ltc(['lock', 'status', '--env', 'staging', '--json']);
    expect(status.json).toMatchObject({ state: 'held', holder: { action: 'deploy', rc: 'rc-2026-02-15', host: hostname() } });
    const rb = await s.ltc(['rollback', '--env', 'staging', '--to', 'rc-2026-02-15']);
    expect(rb.code).toBe(5);
    expect(rb.stderr).toContain('is locked: deploy of rc-2026-02-15');
    const waiting = s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--lock-wait', '60s']);
    expect((await first).code).toBe(0);
    const w = await waiting;
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toMatch(/is locked: deploy of rc-2026-02-15 .*; waiting up to 1m0s/);
    expect(w.stderr).not.toContain('warning: warning:');
    expect(revisions(s).map((r) => `${r.rc}:${r.outcome}`)).toEqual(['rc-2026-02-15:ok', 'rc-2026-03-01:ok']);
    expect(await liveVersion(s)).toBe('1.1.0');
  });

  it('ltc lock status and release: a stale lock is reported and cleared (audited); a live one needs --force', async () => {
    const s = await makeStage({ secret: false });
    stages.push(s);
    const file = join(s.deployRoot, '.ltc-lock');
    expect((await s.ltc(['lock', 'status', '--env', 'staging'])).stdout).toContain('not locked');

    const dead = spawnSync('true').pid!; // a pid that has ended
    (await import('node:fs')).mkdirSync(s.deployRoot, { recursive: true });
    writeFileSync(file, JSON.stringify({ pid: dead, host: hostname(), user: 'ops', action: 'deploy', rc: 'rc-2026-03-01', startedAt: '2026-03-01T09:00:00.000Z' }));
    const st = await s.ltc(['lock', 'status', '--env', 'staging']);
    expect(st.code).toBe(0);
    expect(st.stdout).toContain('stale lock');
    expect(st.stdout).toContain(`pid ${dead}`);
    const rel = await s.ltc(['lock', 'release', '--env', 'staging']);
    expect(rel.code, rel.stderr).toBe(0);
    expect(existsSync(file)).toBe(false);

    writeFileSync(file, JSON.stringify({ pid: process.pid, host: hostname(), user: 'ops', action: 'rollback', startedAt: new Date().toISOString() }));
    const refused = await s.ltc(['lock', 'release', '--env', 'staging']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--force');
    expect(existsSync(file)).toBe(true);
    const forced = await s.ltc(['lock', 'release', '--env', 'staging', '--force']);
    expect(forced.code).toBe(0);
    expect(existsSync(file)).toBe(false);

    const entries = readFileSync(join(s.ops, '.ltc', 'audit.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { action: string; details: { state: string; forced: boolean; holder: { pid: number } } })
      .filter((e) => e.action === 'lock.release');
    expect(entries.map((e) => [e.details.state, e.details.forced, e.details.holder.pid])).toEqual([
      ['stale', false, dead],
      ['held', true, process.pid],
    ]);
  });
});
