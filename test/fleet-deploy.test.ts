/**
 * `type: ssh` end to end: three real sshd processes on loopback, each a "host" with its own deploy
 * root and app port; the demo app exported over ssh, built and started on each host, health checked
 * per host over real HTTP; a rolling deploy with batch 2, a fleet rollback, a host down from the
 * start (nothing switched anywhere), a wrong host key (nothing run), and a release that fails its
 * health (every host switched in the run goes back).
 */
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, LTC } from './helpers/cli.ts';
import { audit, makeStage, type Stage } from './helpers/deploy.ts';
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

  it('a known_hosts or identity_file that does not exist: exit 2 naming the key and the file, before any connection', async () => {
    await writeTarget(sshTarget({ known_hosts: join(keys, 'nope_known_hosts') }));
    const kh = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(kh.code, kh.stderr).toBe(2);
    expect(kh.stderr).toContain(`environments.staging.target.known_hosts: ${join(keys, 'nope_known_hosts')} does not exist: nothing was run on any host`);
    await writeTarget(sshTarget({ identity_file: join(keys, 'nope_key') }));
    const id = await stage.ltc(['status', '--env', 'staging']);
    expect(id.code, id.stderr).toBe(2);
    expect(id.stderr).toContain(`environments.staging.target.identity_file: ${join(keys, 'nope_key')} does not exist`);
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
    // ltc watch on the fleet knows the live release (read on the first host over ssh).
    const { parse, stringify } = await import('yaml');
    const file = join(stage.ops, 'ltc.config.yaml');
    const cfg = parse(await readFile(file, 'utf8')) as { environments: { staging: Record<string, unknown> } };
    cfg.environments.staging.watch = { probes: hosts.map((h) => `http://127.0.0.1:${h.port}/api/health`), min_requests: 1, success_limit: 1 };
    await writeFile(file, stringify(cfg));
    const w = await stage.ltc(['watch', '--env', 'staging', '--for', '1s', '--interval', '250ms', '--json']);
    expect(w.code, w.stderr).toBe(0);
    expect(w.json).toMatchObject({ outcome: 'pass', release: current(hosts[0]!), rc: 'rc-2026-03-01' });
    delete cfg.environments.staging.watch;
    await writeFile(file, stringify(cfg));
  }, 180_000);

  it('ltc rollback across the fleet: every host back on rc-2026-02-15, answering 1.0.0', async () => {
    const r = await stage.ltc(['rollback', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    for (const h of hosts) {
      expect(current(h), h.name).toMatch(/^rc-2026-02-15-/);
      expect(await version(h), h.name).toBe('1.0.0');
    }
    // Audited like a local rollback: one entry for the run, every host's outcome, who ran it.
    const entry = (await audit(stage)).filter((e) => e.action === 'rollback').at(-1);
    expect(entry).toMatchObject({ outcome: 'ok', details: { target: 'ssh', hosts: { api1: 'ok', api2: 'ok', api3: 'ok' } } });
    expect((await audit(stage)).filter((e) => e.action === 'deploy').map((e) => e.outcome)).toEqual(['ok', 'ok']);
  }, 120_000);

  it('a release that fails its health on every host: the first batch is rolled back, exit 3, the rest never switched', async () => {
    const before = hosts.map(current);
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(3);
    expect(hosts.map(current)).toEqual(before);
    for (const h of hosts) expect(await version(h), h.name).toBe('1.0.0');
    // Only the hosts the run switched record it; the audit entry names each host's part.
    const lines = hosts.map((h) => readFileSync(join(h.root, 'revisions.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { rc?: string; outcome: string }));
    const mine = lines.map((l) => l.filter((x) => x.rc === 'rc-2026-03-01.1').map((x) => x.outcome));
    expect(mine[0]).toEqual(['rolled_back']);
    expect(mine[2]).toEqual([]);
    const entry = (await audit(stage)).filter((e) => e.action === 'deploy').at(-1);
    expect(entry).toMatchObject({ outcome: 'rolled_back', details: { target: 'ssh', hosts: { api1: 'rolled_back', api3: 'not switched' } } });
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

  it('SIGKILL of ltc mid-batch: the next run reports the lock while its heartbeat is fresh, then takes it over and brings the fleet to one release', async () => {
    // 15 s: the locked run below must read the lock while fresh even on a loaded machine.
    await writeTarget(sshTarget({ batch: 1, lock_stale_after: '15s' }));
    const before = hosts.map(current);
    expect(new Set(before).size).toBe(1);
    const child = spawn(process.execPath, [LTC, 'deploy', '--rc', 'rc-2026-03-01', '--env', 'staging'], { cwd: stage.ops, env: { ...process.env, ...stage.env, NO_COLOR: '1', CI: 'true' }, stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    // Kill it the moment the first host is switched: the others still run the old release.
    const deadline = Date.now() + 120_000;
    while (current(hosts[0]!) === before[0] && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await exited;
    expect(current(hosts[0]!)).toMatch(/^rc-2026-03-01-/);
    expect(current(hosts[2]!)).toBe(before[2]);
    expect(existsSync(join(hosts[0]!.root, '.ltc-lock', 'info.json'))).toBe(true);

    // Right after the kill the heartbeat is fresh: locked, exit 5, nothing changed.
    const locked = await stage.ltc(['rollback', '--env', 'staging']);
    expect(locked.code, locked.stderr + locked.stdout).toBe(5);
    expect(locked.stderr).toMatch(/locked on host api1.*deploy of rc-2026-03-01/s);
    expect(current(hosts[0]!)).toMatch(/^rc-2026-03-01-/);

    await new Promise((r) => setTimeout(r, Math.max(0, killedAt + 16_000 - Date.now())));
    // ltc status shows the split and the stale lock: exit 1.
    const st = await stage.ltc(['status', '--env', 'staging', '--json']);
    expect(st.code, st.stderr).toBe(1);
    const sj = st.json as { consistent: boolean; lock: { held: boolean; stale: boolean; info: { rc: string } }; hosts: Array<{ host: string; current: string; health: { ok: boolean } }> };
    expect(sj.consistent).toBe(false);
    expect(sj.lock).toMatchObject({ held: true, stale: true, info: { rc: 'rc-2026-03-01' } });
    expect(sj.hosts.map((h) => h.current)).toEqual(hosts.map(current));
    const lockStatus = await stage.ltc(['lock', 'status', '--env', 'staging']);
    expect(lockStatus.stdout).toMatch(/STALE/);

    const r = await stage.ltc(['rollback', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toMatch(/took over a stale lock on api1: deploy of rc-2026-03-01/);
    expect(r.stderr).toMatch(/different releases/);
    expect(hosts.map(current)).toEqual(before);
    for (const h of hosts) expect(await version(h), h.name).toBe('1.0.0');
    expect(existsSync(join(hosts[0]!.root, '.ltc-lock'))).toBe(false);
    expect((await audit(stage)).some((e) => e.action === 'lock.takeover')).toBe(true);
    await writeTarget(sshTarget());
  }, 240_000);

  it('ltc status, releases, stop and lock across the fleet', async () => {
    const ok = await stage.ltc(['status', '--env', 'staging']);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    for (const h of hosts) expect(ok.stdout).toMatch(new RegExp(`^${h.name}\\s+${current(h)}\\s+\\S+\\s+pid \\d+\\s+200 `, 'm'));
    expect(ok.stdout).toMatch(/lock: free/);
    expect(ok.stdout).toMatch(/every host runs rc-2026-02-15-\S+ and is healthy/);

    const rel = await stage.ltc(['releases', '--env', 'staging', '--hosts', 'api1', '--json']);
    expect(rel.code, rel.stderr).toBe(0);
    const rj = rel.json as { hosts: Array<{ host: string; current: string; releases: string[] }> };
    expect(rj.hosts.map((h) => h.host)).toEqual(['api1']);
    expect(rj.hosts[0]!.releases).toContain(current(hosts[0]!));

    const pid = (await import('./helpers/fleet.ts')).pidOf(hosts[2]!);
    const stop = await stage.ltc(['stop', '--env', 'staging', '--hosts', 'api3']);
    expect(stop.code, stop.stderr + stop.stdout).toBe(0);
    expect(stop.stdout + stop.stderr).toMatch(new RegExp(`api3: stopped pid ${pid}`));
    expect(await version(hosts[2]!)).toBeUndefined();
    expect(await version(hosts[0]!)).toBe('1.0.0');
    const down = await stage.ltc(['status', '--env', 'staging', '--json']);
    expect(down.code).toBe(1);
    const dj = down.json as { hosts: Array<{ host: string; app: { running: boolean }; health: { ok: boolean } }>; problems: string[] };
    expect(dj.hosts[2]).toMatchObject({ host: 'api3', app: { running: false }, health: { ok: false } });
    expect(dj.problems.join(' ')).toMatch(/api3 not healthy/);

    // Started again: rollback --to the current release on that host. Its previous stays (not
    // current): a plain rollback afterwards still has somewhere to go.
    const previousLink = () => readlinkSync(join(hosts[2]!.root, 'previous'));
    const previousBefore = previousLink();
    expect(previousBefore).not.toContain(current(hosts[2]!)!);
    const again = await stage.ltc(['rollback', '--env', 'staging', '--hosts', 'api3', '--to', current(hosts[2]!)!]);
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(await version(hosts[2]!)).toBe('1.0.0');
    expect(previousLink()).toBe(previousBefore);

    // A host that cannot be reached: its releases are unknown, so the listing is not ok (exit 1).
    const closed = await (await import('./helpers/cli.ts')).freePort();
    await writeTarget(sshTarget({}, (_h, i) => (i === 1 ? { port: closed } : {})));
    const partly = await stage.ltc(['releases', '--env', 'staging', '--json']);
    expect(partly.code, partly.stderr).toBe(1);
    const pj = partly.json as { ok: boolean; unreachable: string[]; hosts: Array<{ host: string; reachable: boolean; error?: string }> };
    expect(pj.ok).toBe(false);
    expect(pj.unreachable).toEqual(['api2']);
    expect(pj.hosts.find((h) => h.host === 'api2')).toMatchObject({ reachable: false });
    const text = await stage.ltc(['releases', '--env', 'staging']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/1 of 3 host\(s\) unreachable \(api2\): their releases are unknown/);
    await writeTarget(sshTarget());

    // A hostile --hosts value is refused before anything runs.
    const bad = await stage.ltc(['status', '--env', 'staging', '--hosts', 'api1;touch /tmp/x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no host named "api1;touch \/tmp\/x"/);
  }, 180_000);
});
