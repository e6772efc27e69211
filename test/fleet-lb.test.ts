/**
 * A rolling deploy and a fleet rollback behind a real HAProxy under steady load: each host is
 * drained before its restart and enabled once healthy (and UP in HAProxy), so no request fails —
 * while the same deploy without the load balancer section loses requests (the load test can see
 * failures). Also: the admin socket missing, a socket at level user, a host that is no server of
 * the backend (all exit 1, nothing switched), and the generic drain/enable commands.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from './helpers/cli.ts';
import { makeStage, type Stage } from './helpers/deploy.ts';
import { currentOf, sshTarget, startFleet, stopFleet, versionOf, writeTarget, type Fleet } from './helpers/fleet.ts';
import { startHaproxy, startLoad, type Haproxy } from './helpers/haproxy.ts';

let fleet: Fleet;
let stage: Stage;
let haproxy: Haproxy;

const lb = (over: Record<string, unknown> = {}) => ({ type: 'haproxy', socket: haproxy.socket, backend: 'app', drain_timeout: '5s', ready_timeout: '10s', ...over });
const target = (over: Record<string, unknown> = {}, hostOver?: Parameters<typeof sshTarget>[2]) => sshTarget(fleet, { batch: 1, stop_grace: '2s', ...over }, hostOver);

async function statusOf(server: string): Promise<string> {
  const csv = await haproxy.command('show stat');
  const head = csv.split('\n')[0]!.replace(/^# /, '').split(',');
  const row = csv.split('\n').find((l) => l.startsWith(`app,${server},`));
  return row ? row.split(',')[head.indexOf('status')]! : 'missing';
}

async function allUp(): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    const s = await Promise.all(fleet.hosts.map((h) => statusOf(h.name)));
    if (s.every((x) => x === 'UP')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('HAProxy does not see every server UP');
}

/** Runs ltc under load through HAProxy; returns its result and the failed requests. */
async function underLoad(args: string[]) {
  await allUp();
  const load = startLoad(`http://127.0.0.1:${haproxy.port}/api/health`, 4);
  await new Promise((r) => setTimeout(r, 300));
  const r = await stage.ltc(args);
  await new Promise((r) => setTimeout(r, 300));
  return { r, load: await load.stop() };
}

beforeAll(async () => {
  fleet = await startFleet(['web1', 'web2', 'web3']);
  haproxy = await startHaproxy('app', Object.fromEntries(fleet.hosts.map((h) => [h.name, h.port])));
  stage = await makeStage();
  await writeTarget(stage, target());
  const first = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
  expect(first.code, first.stderr + first.stdout).toBe(0);
}, 180_000);

afterAll(async () => {
  await haproxy?.stop();
  await stopFleet(fleet);
  await cleanupTempDirs();
});

describe('rolling deploy behind HAProxy', () => {
  it('without lb: the same rolling deploy under load loses requests (the load test sees failures)', async () => {
    const { r, load } = await underLoad(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(load.requests).toBeGreaterThan(100);
    expect(load.failed, JSON.stringify(load)).toBeGreaterThan(0);
  }, 180_000);

  it('with lb: a rolling deploy under steady load loses zero requests; drain and enable are per host phases', async () => {
    await writeTarget(stage, target({ lb: lb() }));
    const { r, load } = await underLoad(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(load.requests).toBeGreaterThan(100);
    expect(load.failed, JSON.stringify(load)).toBe(0);
    const hosts = (r.json as { hosts: Array<{ host: string; phases: Record<string, number> }> }).hosts;
    if (process.env.LTC_SHOW_PHASES) console.log("PHASES", JSON.stringify({ total: (r.json as { durationMs: number }).durationMs, hosts, load }));
    for (const h of hosts) {
      expect(h.phases.drain, h.host).toBeGreaterThanOrEqual(0);
      expect(h.phases.enable, h.host).toBeGreaterThanOrEqual(0);
    }
    for (const h of fleet.hosts) {
      expect(await versionOf(h), h.name).toBe('1.0.0');
      // "UP 1/2": up and taking traffic, with one failed check from the restart not yet made up.
      expect(await statusOf(h.name)).toMatch(/^UP\b/);
    }
  }, 180_000);

  it('with lb: a fleet rollback under steady load loses zero requests', async () => {
    const { r, load } = await underLoad(['rollback', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(load.failed, JSON.stringify(load)).toBe(0);
    expect(load.requests).toBeGreaterThan(100);
    for (const h of fleet.hosts) expect(await versionOf(h), h.name).toBe('1.1.0');
  }, 180_000);

  it('the admin socket missing, a socket at level user, a host that is no server: exit 1, nothing switched, every server still UP', async () => {
    const before = fleet.hosts.map(currentOf);
    await writeTarget(stage, target({ lb: lb({ socket: '/nonexistent/haproxy.sock' }) }));
    const missing = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stderr).toContain('HAProxy admin socket /nonexistent/haproxy.sock: no such socket');
    expect(missing.stderr).toContain('nothing was switched on any host');

    await writeTarget(stage, target({ lb: lb({ socket: haproxy.userSocket }) }));
    const user = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(user.code, user.stderr).toBe(1);
    expect(user.stderr).toContain('the socket is at level user; draining a server needs level admin');

    await writeTarget(stage, target({ lb: lb() }, (h, i) => (i === 1 ? { lb_server: 'web9' } : {})));
    const noServer = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(noServer.code, noServer.stderr).toBe(1);
    expect(noServer.stderr).toContain('has no server app/web9');
    expect(noServer.stderr).toMatch(/servers of app: app\/web1, app\/web2, app\/web3/);
    expect(fleet.hosts.map(currentOf)).toEqual(before);
    for (const h of fleet.hosts) expect(await statusOf(h.name)).toMatch(/^UP\b/);
  }, 120_000);

  it('generic drain/enable commands: run per host in order with {server} filled in; a failing drain switches nothing (exit 1) and re-enables', async () => {
    const dir = await tempDir('ltc-lbcmd-');
    const log = join(dir, 'lb.log');
    const cmd = (what: string) => ['sh', '-c', `echo "${what} $1 $2" >> "${log}"`, 'sh', '{server}', '{address}'];
    await writeTarget(stage, target({ lb: { type: 'command', drain: cmd('drain'), enable: cmd('enable') } }));
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'drain web1 127.0.0.1',
      'enable web1 127.0.0.1',
      'drain web2 127.0.0.1',
      'enable web2 127.0.0.1',
      'drain web3 127.0.0.1',
      'enable web3 127.0.0.1',
    ]);
    const before = fleet.hosts.map(currentOf);
    await writeTarget(stage, target({ lb: { type: 'command', drain: ['sh', '-c', 'echo "upstream locked" >&2; exit 7'], enable: cmd('enable') } }));
    const bad = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stderr).toContain('lb.drain web1');
    expect(bad.stderr).toContain('upstream locked');
    expect(bad.stderr).toContain('nothing was switched on any host');
    expect(fleet.hosts.map(currentOf)).toEqual(before);
    expect(readFileSync(log, 'utf8').trim().split('\n').at(-1)).toBe('enable web1 127.0.0.1');
  }, 180_000);
});
