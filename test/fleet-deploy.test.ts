/**
 * `type: ssh` end to end: three real sshd processes on loopback, each a "host" with its own deploy
 * root and app port; the demo app exported over ssh, built and started on each host, health checked
 * per host over real HTTP; a rolling deploy with batch 2, a fleet rollback, a host down from the
 * start (nothing switched anywhere), a wrong host key (nothing run), and a release that fails its
 * health (every host switched in the run goes back).
 */
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, freePort, tempDir } from './helpers/cli.ts';
import { getJson, makeStage, type Stage } from './helpers/deploy.ts';
import { startSshd, type Sshd } from './helpers/sshd.ts';

interface Host {
  name: string;
  sshd: Sshd;
  root: string;
  port: number;
}

let hosts: Host[] = [];
let stage: Stage;
let keys: string;

const current = (h: Host): string | undefined => {
  try {
    return readlinkSync(join(h.root, 'current')).replace(/^releases\//, '');
  } catch {
    return undefined;
  }
};
const version = async (h: Host): Promise<string | undefined> => {
  try {
    const r = await getJson(`http://127.0.0.1:${h.port}/api/health`, 2000);
    return (r.body as { version?: string }).version;
  } catch {
    return undefined;
  }
};
const pidOf = (h: Host): number | undefined => {
  try {
    const m = /^pid=(\d+)$/m.exec(readFileSync(join(h.root, 'shared', 'app.pid'), 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
};

function sshTarget(over: Record<string, unknown> = {}, hostOver: (h: Host, i: number) => Record<string, unknown> = () => ({})) {
  return {
    type: 'ssh',
    identity_file: hosts[0]!.sshd.identity,
    known_hosts: join(keys, 'known_hosts'),
    build: [['npm', 'run', 'build']],
    start: ['node', 'server.mjs'],
    env: { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOST: '127.0.0.1' },
    health_path: '/api/health',
    health_deadline: '5s',
    stop_grace: '3s',
    batch: 2,
    connect_timeout: '3s',
    hosts: hosts.map((h, i) => ({ name: h.name, address: '127.0.0.1', port: h.sshd.port, user: h.sshd.user, deploy_root: h.root, url: `http://127.0.0.1:${h.port}`, env: { PORT: String(h.port) }, ...hostOver(h, i) })),
    ...over,
  };
}

async function writeTarget(target: Record<string, unknown>): Promise<void> {
  const file = join(stage.ops, 'ltc.config.yaml');
  const { parse, stringify } = await import('yaml');
  const c = parse(await readFile(file, 'utf8')) as { environments: { staging: { target: unknown } } };
  c.environments.staging.target = target;
  await writeFile(file, stringify(c));
}

beforeAll(async () => {
  keys = await tempDir('ltc-fleet-keys-');
  for (const name of ['api1', 'api2', 'api3']) {
    const sshd = await startSshd();
    hosts.push({ name, sshd, root: join(await tempDir(`ltc-fleet-${name}-`), 'srv'), port: await freePort() });
  }
  // One deploy key for the fleet (the first host's), one known_hosts with every host's key.
  const pub = await readFile(`${hosts[0]!.sshd.identity}.pub`);
  for (const h of hosts.slice(1)) await writeFile(join(h.sshd.dir, 'authorized_keys'), pub);
  for (const h of hosts) await appendFile(join(keys, 'known_hosts'), await readFile(h.sshd.knownHosts));
  stage = await makeStage();
  await writeTarget(sshTarget());
}, 120_000);

afterAll(async () => {
  for (const h of hosts) {
    const pid = pidOf(h);
    if (pid) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await h.sshd.stop();
  }
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
