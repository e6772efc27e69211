import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STOP_APP, stopGraceArg } from '../src/fleet/host-ops.ts';
import type { Fleet } from '../src/fleet/open.ts';

const dir = mkdtempSync(join(tmpdir(), 'ltc-stop-unit-'));
const started: number[] = [];
afterAll(() => {
  for (const pid of started) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !/^\d+ \(.*\) Z/.test(spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }).stdout);
};

/** An "app" in its own process group, with the pid file the remote start writes. */
function app(root: string, script: string): number {
  mkdirSync(join(root, 'shared'), { recursive: true });
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  started.push(child.pid!);
  writeFileSync(join(root, 'shared', 'app.pid'), `pid=${child.pid}\nstart=1\nrelease=r1\n`);
  return child.pid!;
}

const stop = (root: string, grace: string) => spawnSync('sh', ['-c', STOP_APP, 'sh', root, grace], { encoding: 'utf8', timeout: 20_000 });

describe('the remote stop (STOP_APP, run by sh)', () => {
  it('the grace argument is in hundredths of a second', () => {
    expect(stopGraceArg({ graceMs: 3000 } as Fleet)).toBe('300');
    expect(stopGraceArg({ graceMs: 1 } as Fleet)).toBe('1');
  });

  it('an app that exits on SIGTERM is stopped, named, and its pid file removed', async () => {
    const root = join(dir, 'term');
    const pid = app(root, 'trap "exit 0" TERM; while :; do sleep 0.05; done');
    await new Promise((r) => setTimeout(r, 200));
    const r = stop(root, '500');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`stopped=${pid}`);
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(root, 'shared', 'app.pid'))).toBe(false);
  });

  it('an app that ignores SIGTERM is killed (SIGKILL) once the grace has passed, with its whole group', async () => {
    const root = join(dir, 'ignore');
    const pid = app(root, 'trap "" TERM; sleep 60 & while :; do sleep 0.05; done');
    await new Promise((r) => setTimeout(r, 200));
    const group = spawnSync('pgrep', ['-g', String(pid)], { encoding: 'utf8' }).stdout.trim().split('\n').map(Number);
    expect(group.length).toBeGreaterThan(1);
    const r = stop(root, '30');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`stopped=${pid}`);
    await new Promise((res) => setTimeout(res, 100));
    for (const p of group) expect(alive(p)).toBe(false);
  });

  it('no pid file, or a pid that no longer runs: nothing to stop, exit 0', () => {
    const root = join(dir, 'none');
    mkdirSync(join(root, 'shared'), { recursive: true });
    expect(stop(root, '30')).toMatchObject({ status: 0, stdout: '' });
    writeFileSync(join(root, 'shared', 'app.pid'), 'pid=999999999\n');
    expect(stop(root, '30')).toMatchObject({ status: 0, stdout: '' });
  });
});
