/**
 * A fleet for `type: ssh` tests: N real sshd processes on loopback, each a "host" with its own
 * deploy root and app port, one deploy key, one known_hosts; the target config that reaches them.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort, tempDir } from './cli.ts';
import { getJson, type Stage } from './deploy.ts';
import { startSshd, type Sshd } from './sshd.ts';

export interface Host {
  name: string;
  sshd: Sshd;
  root: string;
  port: number;
}

export interface Fleet {
  hosts: Host[];
  /** Holds known_hosts (every host's key). */
  keys: string;
}

export async function startFleet(names: string[]): Promise<Fleet> {
  const keys = await tempDir('ltc-fleet-keys-');
  const hosts: Host[] = [];
  for (const name of names) {
    const sshd = await startSshd();
    hosts.push({ name, sshd, root: join(await tempDir(`ltc-fleet-${name}-`), 'srv'), port: await freePort() });
  }
  // One deploy key for the fleet (the first host's), one known_hosts with every host's key.
  const pub = await readFile(`${hosts[0]!.sshd.identity}.pub`);
  for (const h of hosts.slice(1)) await writeFile(join(h.sshd.dir, 'authorized_keys'), pub);
  for (const h of hosts) await appendFile(join(keys, 'known_hosts'), await readFile(h.sshd.knownHosts));
  return { hosts, keys };
}

export function currentOf(h: Host): string | undefined {
  try {
    return readlinkSync(join(h.root, 'current')).replace(/^releases\//, '');
  } catch {
    return undefined;
  }
}

export async function versionOf(h: Host): Promise<string | undefined> {
  try {
    const r = await getJson(`http://127.0.0.1:${h.port}/api/health`, 2000);
    return (r.body as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export function pidOf(h: Host): number | undefined {
  try {
    const m = /^pid=(\d+)$/m.exec(readFileSync(join(h.root, 'shared', 'app.pid'), 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The demo app on every host: build, start detached, health per host. */
export function sshTarget(fleet: Fleet, over: Record<string, unknown> = {}, hostOver: (h: Host, i: number) => Record<string, unknown> = () => ({})) {
  const { hosts, keys } = fleet;
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

export async function writeTarget(stage: Stage, target: Record<string, unknown>): Promise<void> {
  const file = join(stage.ops, 'ltc.config.yaml');
  const { parse, stringify } = await import('yaml');
  const c = parse(await readFile(file, 'utf8')) as { environments: { staging: { target: unknown } } };
  c.environments.staging.target = target;
  await writeFile(file, stringify(c));
}

/** Kills the app on every host and stops the sshd processes. */
export async function stopFleet(fleet: Fleet | undefined): Promise<void> {
  for (const h of fleet?.hosts ?? []) {
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
}
