/**
 * A host whose disk is full or whose deploy root is not writable: preflight refuses before any
 * host is touched (exit 1 naming the host). The roots are real tmpfs mounts: an 8 MB one (below
 * the 50 MB ltc wants free) and a read-only one.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from './helpers/cli.ts';
import { makeStage, type Stage } from './helpers/deploy.ts';
import { currentOf as current, sshTarget, startFleet, stopFleet, writeTarget, type Fleet } from './helpers/fleet.ts';

let fleet: Fleet;
let stage: Stage;
const mounts: string[] = [];

function tmpfs(dir: string, options: string): void {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`this test mounts a tmpfs (needs root and mount from util-linux): mount failed: ${r.stderr}`);
  mounts.push(dir);
}

beforeAll(async () => {
  fleet = await startFleet(['api1', 'api2']);
  stage = await makeStage();
  await writeTarget(stage, sshTarget(fleet, { batch: 1 }));
  const first = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
  expect(first.code, first.stderr + first.stdout).toBe(0);
}, 180_000);

afterAll(async () => {
  await stopFleet(fleet);
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
  await cleanupTempDirs();
});

describe('preflight: disk and deploy root', () => {
  it('a host whose disk is full: exit 1 naming it and the free space, nothing switched on any host', async () => {
    const full = join(await tempDir('ltc-full-'), 'mnt');
    tmpfs(full, 'size=8m');
    await writeTarget(stage, sshTarget(fleet, { batch: 1 }, (_h, i) => (i === 1 ? { deploy_root: join(full, 'srv') } : {})));
    const before = fleet.hosts.map(current);
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stderr).toMatch(/api2: only \d+ KB free in .*\/srv/);
    expect(r.stderr).toMatch(/nothing was switched on any host/);
    expect(fleet.hosts.map(current)).toEqual(before);
  }, 120_000);

  it('a host whose deploy root is not writable (read-only file system): exit 1 naming it, nothing switched', async () => {
    const ro = join(await tempDir('ltc-ro-'), 'mnt');
    tmpfs(ro, 'size=64m,ro');
    await writeTarget(stage, sshTarget(fleet, { batch: 1 }, (_h, i) => (i === 1 ? { deploy_root: join(ro, 'srv') } : {})));
    const before = fleet.hosts.map(current);
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stderr).toMatch(/api2: preflight of .*\/srv failed/);
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(fleet.hosts.map(current)).toEqual(before);
    await writeTarget(stage, sshTarget(fleet, { batch: 1 }));
  }, 120_000);

  it('a disk that fills up during the deploy (the build writes more than is free): exit 1 naming the host, nothing switched, no partial release left', async () => {
    const small = join(await tempDir('ltc-small-'), 'mnt');
    tmpfs(small, 'size=56m');
    const roles = { fat: { build: [['npm', 'run', 'build'], ['dd', 'if=/dev/zero', 'of=big.bin', 'bs=1M', 'count=80', 'status=none']] } };
    await writeTarget(stage, sshTarget(fleet, { batch: 1, roles }, (_h, i) => (i === 1 ? { deploy_root: join(small, 'srv'), roles: ['fat'] } : {})));
    const before = fleet.hosts.map(current);
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stderr).toMatch(/host api2: build dd if=\/dev\/zero .* exited with 1/);
    expect(r.stderr).toMatch(/No space left on device/);
    expect(r.stderr).toMatch(/nothing was switched on any host/);
    expect(fleet.hosts.map(current)).toEqual(before);
    expect(readdirSync(join(small, 'srv', 'releases')).filter((d) => d.startsWith('.partial-'))).toEqual([]);
    await writeTarget(stage, sshTarget(fleet, { batch: 1 }));
  }, 120_000);
});
