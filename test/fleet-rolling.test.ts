/**
 * Rolling over three real sshd hosts: a canary watched for its window (a canary that crashes in
 * the window is rolled back and the rest never switched), max_failures (one failing host rolled
 * back on its own, the rest deployed), a role that needs no restart, --roles, and build_on: local
 * (built once here, shipped; nothing built on the hosts).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, LTC } from './helpers/cli.ts';
import { makeStage, type Stage } from './helpers/deploy.ts';
import { currentOf as current, pidOf, sshTarget, startFleet, stopFleet, versionOf as version, writeTarget, type Fleet } from './helpers/fleet.ts';

let fleet: Fleet;
let stage: Stage;
let hosts: Fleet['hosts'] = [];
const target = (over: Record<string, unknown> = {}, hostOver?: Parameters<typeof sshTarget>[2]) => sshTarget(fleet, { batch: 1, stop_grace: '2s', ...over }, hostOver);

beforeAll(async () => {
  fleet = await startFleet(['api1', 'api2', 'api3']);
  hosts = fleet.hosts;
  stage = await makeStage();
  await writeTarget(stage, target());
  const first = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
  expect(first.code, first.stderr + first.stdout).toBe(0);
}, 180_000);

afterAll(async () => {
  await stopFleet(fleet);
  await cleanupTempDirs();
});

describe('rolling over three hosts', () => {
  it('--dry-run prints the canary and the batches and changes nothing', async () => {
    await writeTarget(stage, target({ canary: 1, batch: '50%' }));
    const before = hosts.map(current);
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((r.json as { plan: { batches: unknown } }).plan.batches).toEqual([
      { canary: true, hosts: ['api1'] },
      { canary: false, hosts: ['api2', 'api3'] },
    ]);
    expect(hosts.map(current)).toEqual(before);
  }, 60_000);

  it('a canary that crashes during its window: rolled back, exit 3, the other hosts never switched', async () => {
    await writeTarget(stage, target({ canary: 1, canary_window: '8s' }));
    const before = hosts.map(current);
    const pids = hosts.map(pidOf);
    // The canary's new app comes up healthy and the window starts; then it dies inside the window.
    const child = spawn(process.execPath, [LTC, 'deploy', '--rc', 'rc-2026-03-01', '--env', 'staging'], { cwd: stage.ops, env: { ...process.env, ...stage.env, NO_COLOR: '1', CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!killed && /canary api1: watching health for 8\.0s/.test(stderr)) {
        killed = true;
        process.kill(-pidOf(hosts[0]!)!, 'SIGKILL');
      }
    });
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    const r = { code, stdout, stderr };
    expect(r.code, r.stderr + r.stdout).toBe(3);
    expect(r.stdout + r.stderr).toMatch(/canary api1: watching health for 8\.0s/);
    expect(r.stderr).toMatch(/api1: canary health failed during the window/);
    expect(hosts.map(current)).toEqual(before);
    expect(await version(hosts[0]!)).toBe('1.0.0');
    // api2 and api3 were never touched: the same processes still serve.
    expect(hosts.slice(1).map(pidOf)).toEqual(pids.slice(1));
  }, 180_000);

  it('a canary that stays healthy: the rest follow, every host on the new release', async () => {
    await writeTarget(stage, target({ canary: 1, canary_window: '2s' }));
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    for (const h of hosts) expect(await version(h), h.name).toBe('1.1.0');
    const reports = (r.json as { hosts: Array<{ host: string; phases: Record<string, number> }> }).hosts;
    expect(reports[0]!.phases.canary).toBeGreaterThanOrEqual(2000);
    expect(reports[1]!.phases.canary).toBeUndefined();
  }, 180_000);

  it('max_failures 1: the one host that fails is rolled back on its own, the others are deployed, exit 0 with the next command', async () => {
    // api3 builds the new release without its frontend: its health (/) answers 503 for that release only.
    const flaky = { build: [['sh', '-c', 'npm run build && if grep -q \'"1.0.0"\' release.json; then :; else rm -rf dist; fi']], health_path: '/' };
    await writeTarget(stage, target({ max_failures: 1, roles: { flaky } }, (_h, i) => (i === 2 ? { roles: ['flaky'] } : {})));
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    // rc-2026-02-15 is 1.0.0: healthy everywhere. Now the failing one:
    const d = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--json']);
    expect(d.code, d.stderr + d.stdout).toBe(0);
    expect((d.json as { failedHosts: string[] }).failedHosts).toEqual(['api3']);
    expect(d.stderr).toMatch(/deployed to 2 of 3 hosts; api3 failed .*ltc deploy --rc rc-2026-03-01 --env staging --hosts api3/s);
    expect(await version(hosts[0]!)).toBe('1.1.0');
    expect(await version(hosts[1]!)).toBe('1.1.0');
    expect(await version(hosts[2]!)).toBe('1.0.0');
    expect(current(hosts[2]!)).toMatch(/^rc-2026-02-15-/);
    const log = readFileSync(join(hosts[2]!.root, 'revisions.log'), 'utf8').trim().split('\n');
    expect(JSON.parse(log.at(-1)!)).toMatchObject({ action: 'deploy', outcome: 'rolled_back', current: current(hosts[2]!) });
    // ltc status says the fleet is split: exit 1.
    const st = await stage.ltc(['status', '--env', 'staging']);
    expect(st.code).toBe(1);
    expect(st.stdout).toMatch(/the hosts run 2 different releases/);
  }, 240_000);

  it('--roles and a role that needs no restart: only those hosts switched, their app not restarted', async () => {
    await writeTarget(stage, target({ roles: { static: { restart: false, health_path: '/' } } }, (_h, i) => (i === 1 ? { roles: ['static'] } : {})));
    const pid = pidOf(hosts[1]!);
    const before = hosts.map(current);
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging', '--roles', 'static']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(current(hosts[1]!)).not.toBe(before[1]);
    expect(current(hosts[1]!)).toMatch(/^rc-2026-02-15-/);
    expect(pidOf(hosts[1]!)).toBe(pid);
    expect([current(hosts[0]!), current(hosts[2]!)]).toEqual([before[0], before[2]]);
    const bad = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging', '--roles', 'db']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--roles: no host has the role "db"/);
  }, 180_000);

  it('build_on: local builds once here and ships the built tree: the hosts run it, nothing was built on them', async () => {
    await writeTarget(stage, target({ build_on: 'local', build: [['npm', 'run', 'build'], ['sh', '-c', 'pwd > BUILT_IN']] }));
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const builtIn = new Set<string>();
    for (const h of hosts) {
      expect(await version(h), h.name).toBe('1.1.0');
      const rel = join(h.root, 'current');
      expect(existsSync(join(rel, 'dist', 'index.html')), h.name).toBe(true);
      builtIn.add(readFileSync(join(rel, 'BUILT_IN'), 'utf8').trim());
    }
    // One build, here (under ltc's state dir), not in any host's releases/.
    expect(builtIn.size).toBe(1);
    const dir = [...builtIn][0]!;
    expect(dir).toContain(join(stage.ops, '.ltc', 'cache', 'build-'));
    for (const h of hosts) expect(dir.startsWith(h.root)).toBe(false);
    expect(existsSync(dir), 'the local build tree is removed after the deploy').toBe(false);
    expect((r.json as { hosts: Array<{ phases: Record<string, number> }> }).hosts[0]!.phases.localBuild).toBeGreaterThan(0);
  }, 240_000);

  it('a build that fails on one host: exit 1 naming the host, the command and its exit code; nothing switched, no partial release left', async () => {
    await writeTarget(stage, target({ roles: { broken: { build: [['npm', 'run', 'build'], ['sh', '-c', 'echo half-built; exit 7']] } } }, (_h, i) => (i === 1 ? { roles: ['broken'] } : {})));
    const before = hosts.map(current);
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stderr).toMatch(/host api2: build sh -c echo half-built; exit 7 exited with 7/);
    expect(r.stderr).toMatch(/half-built/);
    expect(r.stderr).toMatch(/nothing was switched on any host/);
    expect(hosts.map(current)).toEqual(before);
    for (const h of hosts) expect(readdirSync(join(h.root, 'releases')).filter((d) => d.startsWith('.partial-')), h.name).toEqual([]);
    await writeTarget(stage, target());
  }, 120_000);

  it('a switch that fails after current moved (previous cannot be replaced) counts as switched: rolled back with the others, exit 3', async () => {
    await writeTarget(stage, target());
    const before = hosts.map(current);
    // On api2, previous is a folder with a file in it: `mv -T` cannot replace it, after current has moved.
    const previous = join(hosts[1]!.root, 'previous');
    rmSync(previous, { force: true, recursive: true });
    mkdirSync(join(previous, 'keep'), { recursive: true });
    try {
      const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
      expect(r.code, r.stderr + r.stdout).toBe(3);
      // api2 counts as switched: rolled back with api1, not left on the new release.
      expect(r.stderr).toMatch(/deploy failed on api2: rolling back api1, api2/);
      expect(r.stderr).toMatch(/mv: cannot overwrite directory/);
      expect(r.stderr).toContain(`api2: rolled_back, current ${before[1]}`);
      expect(hosts.map(current)).toEqual(before);
      expect(await version(hosts[1]!)).toBe(await version(hosts[2]!));
    } finally {
      rmSync(previous, { force: true, recursive: true });
    }
  }, 120_000);

  it('a host that cannot be rolled back: exit 4 naming it, each host\'s state and the next command, which works', async () => {
    // api2 fails its health on the new release; api1's old release (where it would go back to) lost server.mjs.
    const flaky = { build: [['sh', '-c', 'npm run build && if grep -q \'"1.0.0"\' release.json; then :; else rm -rf dist; fi']], health_path: '/' };
    await writeTarget(stage, target({ roles: { flaky } }, (_h, i) => (i === 1 ? { roles: ['flaky'] } : {})));
    const ok = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    const old = current(hosts[0]!)!;
    rmSync(join(hosts[0]!.root, 'releases', old, 'server.mjs'));
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(4);
    expect(r.stderr).toMatch(/the rollback failed on api1/);
    // Its old release cannot start (server.mjs gone): seen as a crash at once, not after health_deadline.
    expect(r.stderr).toMatch(/host api1: the app \(pid \d+\) exited after its start/);
    // ... with the lines its app logged (node cannot find server.mjs).
    expect(r.stderr).toMatch(/last lines of .*app\.log on api1:\n(.*\n)*.*MODULE_NOT_FOUND/);
    // Its links went back (only its app would not start): the report says where current points.
    expect(r.stderr).toContain(`api1: rollback_failed, current ${old}`);
    expect(current(hosts[0]!)).toBe(old);
    expect(r.stderr).toMatch(/api2: rolled_back, current rc-2026-02-15-/);
    expect(r.stderr).toMatch(/api3: unchanged/);
    // Not a plain `ltc rollback` (it would move api2 one release further back): api1 alone, on its release.
    expect(r.stderr).toMatch(/next: fix api1, then start it again on the release it was switched back to/);
    const next = new RegExp(`^  (ltc rollback --env staging --hosts api1 --to ${old})$`, 'm').exec(r.stderr);
    expect(next, r.stderr).not.toBeNull();
    expect(current(hosts[1]!)).toMatch(/^rc-2026-02-15-/);
    const others = [current(hosts[1]!), current(hosts[2]!)];
    // Fix api1 (its server.mjs back), then the next command as printed: healthy again, the others untouched.
    copyFileSync(join(hosts[1]!.root, 'releases', old, 'server.mjs'), join(hosts[0]!.root, 'releases', old, 'server.mjs'));
    const back = await stage.ltc(next![1]!.split(' ').slice(1));
    expect(back.code, back.stderr + back.stdout).toBe(0);
    expect(await version(hosts[0]!)).toBe('1.0.0');
    expect([current(hosts[1]!), current(hosts[2]!)]).toEqual(others);
    await writeTarget(stage, target());
  }, 240_000);

  it('a host that goes down in the second batch: the first batch is rolled back, exit 3, the third host never switched', async () => {
    const before = hosts.map(current);
    const pid3 = pidOf(hosts[2]!);
    const run = stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && current(hosts[0]!) === before[0]) await new Promise((res) => setTimeout(res, 50));
    // api2 goes down: its sshd and every session it serves (ltc's multiplexed connection too).
    killTree(hosts[1]!.sshd.proc.pid!);
    const r = await run;
    expect(r.code, r.stderr + r.stdout).toBe(3);
    expect(r.stderr).toMatch(/deploy failed on api2: rolling back api1/);
    // api2 could not be asked where current points after its failed switch: said so, not rolled back.
    expect(r.stderr).toMatch(/^ {2}api2: \w+, current \S+ \(unconfirmed: the host could not be asked after a failed switch\)/m);
    expect(current(hosts[0]!)).toBe(before[0]);
    expect(await version(hosts[0]!)).toBe('1.0.0');
    expect(current(hosts[2]!)).toBe(before[2]);
    expect(pidOf(hosts[2]!)).toBe(pid3);
  }, 240_000);
});

/** SIGKILL to a process and every descendant (found through /proc). */
function killTree(root: number): void {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone */
    }
  }
  const all: number[] = [];
  const walk = (p: number) => {
    all.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  for (const p of all) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
