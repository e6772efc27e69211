/**
 * `type: ssh` end to end: three real sshd processes on loopback, each a "host" with its own deploy
 * root and app port; the demo app exported over ssh, built and started on each host, health checked
 * per host over real HTTP; a rolling deploy with batch 2, a fleet rollback, a host down from the
 * start (nothing switched anywhere), a wrong host key (nothing run), and a release that fails its
 * health (every host switched in the run goes back).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from './helpers/cli.ts';
import { makeStage, type Stage } from './helpers/deploy.ts';
import { currentOf as current, sshTarget as targetOf, startFleet, stopFleet, versionOf as version, writeTarget as write, type Fleet } from './helpers/fleet.ts';

let fleet: Fleet;
let stage: Stage;
let hosts: Fleet['hosts'] = [];
let keys: string;
const sshTarget = (over: Record<string, unknown> = {}, hostOver?: Parameters<typeof targetOf>[2]) => targetOf(fleet, over, hostOver);
const writeTarget = (target: Record<string, unknown>) => write(stage, target);

beforeAll(async () => {
  fleet = await startFleet(['api1', 'api2', 'api3']);
  hosts = fleet.hosts;
  keys = fleet.keys;
  stage = await makeStage();
  await writeTarget(sshTarget());
}, 120_000);

afterAll(async () => {
  await stopFleet(fleet);
  await cleanupTempDirs();
});

describe('ltc deploy to three hosts over ssh', () => {
  it('a wrong host key: exit 2 naming the host, nothing run on any host', async () => {
    const bad = join(keys, 'wrong_known_hosts');
    await writeFile(bad, (await readFile(join(keys, 'known_hosts'), 'utf8')).replace(/^.*\n/, await readFile(hosts[0]!.sshd.wrongKnownHosts, 'utf8')));
    await writeTarget(sshTarget({ known_hosts: bad }));
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/api1/);
    expect(r.stderr).toMatch(/host key/);
    for (const h of hosts) expect(existsSync(h.root), h.name).toBe(false);
    await writeTarget(sshTarget());
  }, 60_000);

  it('a host down from the start: exit 1, nothing switched anywhere', async () => {
    await writeTarget(sshTarget({}, (h, i) => (i === 2 ? { port: 1 } : {})));
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/api3/);
    for (const h of hosts) expect(current(h), h.name).toBeUndefined();
    await writeTarget(sshTarget());
  }, 60_000);

  it('deploys rc-2026-02-15 then rc-2026-03-01 with batch 2: every host runs it, answers over HTTP, has its revisions.log', async () => {
    const first = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    for (const h of hosts) expect(await version(h), h.name).toBe('1.0.0');
    const second = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--json']);
    expect(second.code, second.stderr).toBe(0);
    for (const h of hosts) {
      expect(await version(h), h.name).toBe('1.1.0');
      expect(current(h)).toMatch(/^rc-2026-03-01-/);
      const log = await readFile(join(h.root, 'revisions.log'), 'utf8');
      expect(log.trim().split('\n').length, h.name).toBe(2);
      expect(log).toContain('rc-2026-03-01');
      const env = await readFile(join(h.root, 'shared', '.env'), 'utf8');
      expect(env).toContain('LTC_SECRET_KEY=');
      expect((await import('node:fs')).statSync(join(h.root, 'shared', '.env')).mode & 0o777).toBe(0o600);
    }
    expect(JSON.stringify(second.json)).not.toMatch(/LTC_SECRET_KEY=/);
  }, 180_000);

  it('ltc rollback across the fleet: every host back on rc-2026-02-15, answering 1.0.0', async () => {
    const r = await stage.ltc(['rollback', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    for (const h of hosts) {
      expect(current(h), h.name).toMatch(/^rc-2026-02-15-/);
      expect(await version(h), h.name).toBe('1.0.0');
    }
  }, 120_000);

  it('a release that fails its health on every host: the first batch is rolled back, exit 3, the rest never switched', async () => {
    const before = hosts.map(current);
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(3);
    expect(hosts.map(current)).toEqual(before);
    for (const h of hosts) expect(await version(h), h.name).toBe('1.0.0');
  }, 180_000);

  it('rollback when one host lacks the previous release: exit 1 before any switch', async () => {
    const h = hosts[1]!;
    const prev = readlinkSync(join(h.root, 'previous'));
    const before = hosts.map(current);
    await rm(join(h.root, prev), { recursive: true, force: true });
    const r = await stage.ltc(['rollback', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stderr).toMatch(/api2/);
    expect(hosts.map(current)).toEqual(before);
  }, 60_000);
});
