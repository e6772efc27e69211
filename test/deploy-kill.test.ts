/**
 * SIGKILL of ltc at the worst moments — after the fetch, after the build, right after the switch,
 * in the middle of a rollback — made deterministic with the test-only LTC_TEST_KILL_AT hook.
 * Each time `current` points at a complete release, and the next deploy or rollback succeeds
 * after reporting the stale lock.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from './helpers/cli.ts';
import {
  alive,
  appPid,
  currentRelease,
  isCompleteRelease,
  liveVersion,
  makeStage,
  previousRelease,
  processesUnder,
  releaseMeta,
  revisions,
  stopStage,
  type Stage,
} from './helpers/deploy.ts';

let s: Stage;
let first = '';

beforeAll(async () => {
  s = await makeStage();
  const r = await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
  expect(r.code, r.stderr).toBe(0);
  first = currentRelease(s)!;
});

afterAll(async () => {
  if (s) {
    await stopStage(s);
    expect(processesUnder(s.dir)).toEqual([]);
  }
  await cleanupTempDirs();
});

function partials(): string[] {
  return readdirSync(join(s.deployRoot, 'releases')).filter((n) => n.startsWith('.partial-'));
}

async function killedAt(point: string, args: string[]): Promise<void> {
  const r = await s.ltc(args, { env: { LTC_TEST_KILL_AT: point } });
  expect(r.code, `${point}: ${r.stderr}`).toBe(-1); // ended by SIGKILL, no exit code
  expect(existsSync(join(s.deployRoot, '.ltc-lock')), 'the killed ltc leaves its lock').toBe(true);
  const status = await s.ltc(['lock', 'status', '--env', 'staging', '--json']);
  expect(status.json).toMatchObject({ state: 'stale' });
}

async function expectStaleReported(args: string[]): Promise<void> {
  const r = await s.ltc(args);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/stale lock in .*\.ltc-lock: (deploy|rollback) .*no longer running; taken over/);
  expect(existsSync(join(s.deployRoot, '.ltc-lock'))).toBe(false);
}

describe('ltc killed with SIGKILL', () => {
  for (const point of ['after-fetch', 'after-build'] as const) {
    it(`${point}: current still is the old complete release, its app still answers; the next deploy takes the lock over`, async () => {
      const pid = appPid(s)!;
      await killedAt(point, ['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
      expect(currentRelease(s)).toBe(first);
      expect(isCompleteRelease(s, currentRelease(s))).toBe(true);
      expect(partials()).toHaveLength(1); // the half-made release is only ever a .partial- folder
      expect(alive(pid)).toBe(true);
      expect(await liveVersion(s)).toBe('1.0.0');

      await expectStaleReported(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
      expect(await liveVersion(s)).toBe('1.1.0');
      expect(partials()).toEqual([]); // the leftover was removed
      expect(isCompleteRelease(s, currentRelease(s))).toBe(true);
      // back to the first release for the next case
      expect((await s.ltc(['rollback', '--env', 'staging', '--to', first])).code).toBe(0);
      expect(await liveVersion(s)).toBe('1.0.0');
    });
  }

  it('right after the switch: current is the new complete release, previous the old one; the next rollback takes the lock over', async () => {
    const pid = appPid(s)!;
    await killedAt('after-switch', ['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    const cur = currentRelease(s)!;
    expect(cur).not.toBe(first);
    expect(isCompleteRelease(s, cur)).toBe(true);
    expect(releaseMeta(s, cur).rc).toBe('rc-2026-03-01');
    expect(previousRelease(s)).toBe(first);
    expect(alive(pid)).toBe(true); // killed before the restart: the old app still serves
    expect(await liveVersion(s)).toBe('1.0.0');

    await expectStaleReported(['rollback', '--env', 'staging']);
    expect(currentRelease(s)).toBe(first);
    expect(await liveVersion(s)).toBe('1.0.0');

    // and a deploy after another kill at the same point
    await killedAt('after-switch', ['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(isCompleteRelease(s, currentRelease(s))).toBe(true);
    await expectStaleReported(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(await liveVersion(s)).toBe('1.1.0');
  });

  it('in the middle of a rollback: current is the complete target release; the next rollback finishes it', async () => {
    const target = previousRelease(s)!;
    expect(target).toBeDefined();
    await killedAt('mid-rollback', ['rollback', '--env', 'staging']);
    expect(currentRelease(s)).toBe(target);
    expect(isCompleteRelease(s, target)).toBe(true);

    const r = await s.ltc(['rollback', '--env', 'staging', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/stale lock .* taken over/);
    expect(r.stdout).toContain(`current already is ${target}`);
    expect(r.stdout).toContain(`was      : releases/${target} already (an interrupted rollback or deploy left current there)`);
    expect(currentRelease(s)).toBe(target);
    expect(await liveVersion(s)).toBe(releaseMeta(s, target).rc === 'rc-2026-02-15' ? '1.0.0' : '1.1.0');
    expect(processesUnder(s.dir)).toEqual([appPid(s)]);
  });

  it('the stale takeovers are in the audit log; the killed runs left no revision lines', async () => {
    const outcomes = revisions(s).map((r) => `${r.action}:${r.outcome}`);
    expect(outcomes.filter((o) => o !== 'deploy:ok' && o !== 'rollback:ok')).toEqual([]);
    const auditLog = await import('node:fs').then((fs) => fs.readFileSync(join(s.ops, '.ltc', 'audit.jsonl'), 'utf8'));
    expect(auditLog.split('\n').filter((l) => l.includes('"action":"lock.takeover"'))).toHaveLength(5);
  });
});

describe('after a kill, previous and the automatic rollback point at a release that ran', () => {
  const versionOf = (name: string) => (releaseMeta(s, name).rc === 'rc-2026-02-15' ? '1.0.0' : '1.1.0');

  it('killed right after switching to the broken rc: the next deploy keeps previous on the release that ran, and an automatic rollback returns there', async () => {
    const ran = currentRelease(s)!;
    expect(await liveVersion(s)).toBe(versionOf(ran));
    await killedAt('after-switch', ['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    const untried = currentRelease(s)!;
    expect(releaseMeta(s, untried).rc).toBe('rc-2026-03-01.1');

    // a good deploy now: previous is the release that ran, not the untried (broken) one current was left on
    const d = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--json']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toContain(`${untried} never answered healthy`);
    expect(previousRelease(s)).toBe(ran);
    expect(d.json).toMatchObject({ previous: ran });
    // so the on-call's rollback lands on a release that answers
    const rb = await s.ltc(['rollback', '--env', 'staging']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(currentRelease(s)).toBe(ran);
    expect(await liveVersion(s)).toBe(versionOf(ran));

    // killed after the switch again, then a deploy that fails after its switch: back to the release that ran (exit 3), not to the untried one (exit 4)
    await killedAt('after-switch', ['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    const prevBefore = previousRelease(s);
    expect(prevBefore).toBe(ran);
    const bad = await s.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    expect(bad.code, bad.stderr).toBe(3);
    expect(bad.stderr).toContain(`rolled back to ${ran}`);
    expect(currentRelease(s)).toBe(ran);
    expect(previousRelease(s)).not.toBe(ran);
    expect(await liveVersion(s)).toBe(versionOf(ran));
  });

  it('killed in the middle of the automatic rollback: current is the release it returns to, and the next ltc rollback finishes it there', async () => {
    // a good deploy first, so there is a previous one further back to (wrongly) go to
    const d = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(d.code, d.stderr).toBe(0);
    const live = currentRelease(s)!;
    const further = previousRelease(s)!;
    expect(further).not.toBe(live);

    await killedAt('mid-rollback', ['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    expect(currentRelease(s)).toBe(live);
    expect(isCompleteRelease(s, live)).toBe(true);
    expect(await liveVersion(s)).toBe('status 500'); // killed before the restart: the broken release still runs

    const r = await s.ltc(['rollback', '--env', 'staging', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/stale lock .* taken over/);
    expect(r.stdout).toContain(`current already is ${live}`);
    expect(currentRelease(s)).toBe(live);
    // previous moves to the newest older release that was once live (as after any ltc rollback)
    expect(previousRelease(s)).not.toBe(live);
    expect(isCompleteRelease(s, previousRelease(s))).toBe(true);
    expect(await liveVersion(s)).toBe('1.1.0');
    expect(processesUnder(s.dir)).toEqual([appPid(s)]);
  });
});
