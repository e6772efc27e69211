/**
 * `ltc demo --hosts N`: the story on N "hosts" on this machine — one real sshd per host on its
 * own loopback port with its own deploy root, the demo app on each host on its own port, a real
 * HAProxy in front (N ≥ 2), and a load generator counting failed requests through HAProxy while
 * the deploys and the rollback run. Needs Debian's openssh-server, openssh-client and haproxy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { freeLoopbackPort } from '../core/net.js';
import { startLabHaproxy, startLoad, type LabHaproxy, type LoadResult } from '../lab/haproxy.js';
import { startLabSshd, type LabSshd } from '../lab/sshd.js';
import { DEMO_TAGS } from './generate-app.js';
import { DEMO_GATES } from './write-config.js';
import type { DemoPlan, DemoWorkspace } from './stages.js';

export interface LabHost {
  name: string;
  sshd: LabSshd;
  root: string;
  port: number;
}

export interface FleetLab {
  hosts: LabHost[];
  lb: LabHaproxy | undefined;
  identity: string;
  knownHosts: string;
  stop(): Promise<string[]>;
}

/** Refuses at once, naming the packages, when a binary the fleet demo needs is missing. */
export function checkFleetDemoTools(hosts: number): void {
  const need: Array<[string, string]> = [
    ['/usr/sbin/sshd', 'openssh-server'],
    ['/usr/bin/ssh', 'openssh-client'],
    ['/usr/bin/ssh-keygen', 'openssh-client'],
    ...(hosts > 1 ? ([['/usr/sbin/haproxy', 'haproxy']] as Array<[string, string]>) : []),
  ];
  const missing = need.filter(([bin]) => !existsSync(bin));
  if (missing.length) {
    const pkgs = [...new Set(missing.map(([, p]) => p))];
    throw new ConfigError(`ltc demo --hosts needs ${missing.map(([b]) => b).join(', ')}`, { hint: `install the Debian package${pkgs.length > 1 ? 's' : ''}: apt-get install ${pkgs.join(' ')}` });
  }
}

/** N sshd hosts sharing one deploy key and one known_hosts, and HAProxy in front of their app ports. */
export async function startFleetLab(work: string, count: number): Promise<FleetLab> {
  const hosts: LabHost[] = [];
  const stopAll = async (lb: LabHaproxy | undefined): Promise<string[]> => {
    const said: string[] = [];
    for (const h of hosts) {
      const pid = appPidOf(h.root);
      if (pid) {
        try {
          process.kill(-pid, 'SIGTERM');
          said.push(`stopped the app on ${h.name} (pid ${pid})`);
        } catch {
          /* already gone */
        }
      }
      await h.sshd.stop();
    }
    await lb?.stop();
    return said;
  };
  try {
    for (let i = 1; i <= count; i++) {
      const base = join(work, 'hosts', `api${i}`);
      await mkdir(join(base, 'sshd'), { recursive: true });
      hosts.push({ name: `api${i}`, sshd: await startLabSshd(join(base, 'sshd')), root: join(base, 'srv'), port: await freeLoopbackPort() });
    }
    const keys = join(work, 'ops', 'keys');
    await mkdir(keys, { recursive: true });
    const pub = await readFile(`${hosts[0]!.sshd.identity}.pub`);
    for (const h of hosts.slice(1)) await writeFile(join(h.sshd.dir, 'authorized_keys'), pub);
    const knownHosts = join(keys, 'known_hosts');
    await writeFile(knownHosts, '');
    for (const h of hosts) await appendFile(knownHosts, await readFile(h.sshd.knownHosts));
    let lb: LabHaproxy | undefined;
    if (count > 1) {
      await mkdir(join(work, 'lb'), { recursive: true });
      lb = await startLabHaproxy(join(work, 'lb'), 'app', Object.fromEntries(hosts.map((h) => [h.name, h.port])));
    }
    return { hosts, lb, identity: hosts[0]!.sshd.identity, knownHosts, stop: () => stopAll(lb) };
  } catch (err) {
    await stopAll(undefined).catch(() => undefined);
    throw err;
  }
}

function appPidOf(root: string): number | undefined {
  try {
    const m = /^pid=(\d+)$/m.exec(readFileSync(join(root, 'shared', 'app.pid'), 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The fleet demo's ltc.config.yaml: an ssh target over the lab's hosts, HAProxy drain, the file secret backend. */
export async function writeFleetDemoConfig(ws: DemoWorkspace, lab: FleetLab): Promise<string> {
  const url = lab.lb ? `http://127.0.0.1:${lab.lb.port}` : `http://127.0.0.1:${lab.hosts[0]!.port}`;
  const config = {
    version: 1,
    app: { name: 'lifetimecircle-demo', repo: ws.repoDir },
    gates: DEMO_GATES,
    environments: {
      demo: {
        description: `throwaway demo: ${lab.hosts.length} hosts over ssh on this machine${lab.lb ? ' behind HAProxy' : ''}`,
        url,
        health: { timeout: '2s', retries: 2, backoff: '100ms', endpoints: [{ name: 'api', url: '/api/health', conditions: ['status == 200', 'body.status == "ok"'] }] },
        target: {
          type: 'ssh',
          identity_file: lab.identity,
          known_hosts: lab.knownHosts,
          build: [['npm', 'run', 'build']],
          start: ['node', 'server.mjs'],
          env: { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOST: '127.0.0.1' },
          health_path: '/api/health',
          health_deadline: '10s',
          stop_grace: '3s',
          batch: 1,
          ...(lab.hosts.length > 2 ? { canary: 1, canary_window: '2s' } : {}),
          connect_timeout: '5s',
          lock_stale_after: '30s',
          ...(lab.lb ? { lb: { type: 'haproxy', socket: lab.lb.socket, backend: 'app' } } : {}),
          hosts: lab.hosts.map((h) => ({ name: h.name, address: '127.0.0.1', port: h.sshd.port, user: h.sshd.user, deploy_root: h.root, url: `http://127.0.0.1:${h.port}`, env: { PORT: String(h.port) } })),
        },
        watch: { interval: '500ms', failure_limit: 3, success_limit: 3, min_requests: 5, probes: ['/api/health', '/api/info'] },
        secrets: { backend: 'file', key_file: join(ws.opsDir, '.ltc', 'master.key'), required: [{ name: 'LTC_SECRET_KEY', kind: 'secret_key', min_bytes: 32 }] },
      },
    },
  };
  const file = join(ws.opsDir, 'ltc.config.yaml');
  await writeFile(file, '# Written by `ltc demo --hosts` for a throwaway demo. Safe to delete.\n' + stringify(config));
  return file;
}

const [OLD, CURRENT] = DEMO_TAGS.good;
const BROKEN = DEMO_TAGS.broken;
const FLAKY = DEMO_TAGS.flaky;

function lbUrlText(count: number): string {
  return count > 1 ? 'HAProxy' : 'the host';
}

/** The fleet story. The load generator runs from the first deploy's end to the rollback's end. */
export function fleetDemoStages(lab: FleetLab | undefined, count: number): DemoPlan & { load(): LoadResult | undefined } {
  let load: ReturnType<typeof startLoad> | undefined;
  let final: LoadResult | undefined;
  const lbUrl = lab?.lb ? `http://127.0.0.1:${lab.lb.port}/api/health` : undefined;
  const hostsText = `${count} hosts${count > 1 ? ' behind HAProxy' : ''}`;
  return {
    stages: [
      { title: 'validate the generated config (an ssh target)', args: ['config', 'validate'] },
      { title: 'generate LTC_SECRET_KEY in the encrypted file store', args: ['secrets', 'generate', 'LTC_SECRET_KEY'] },
      {
        title: `the handbook's final gates on ${CURRENT}`,
        args: ['gates', 'run', '--rc', CURRENT],
        explain: 'on this machine, before anything reaches a host: a clean checkout of the tag, npm ci, the five gates',
      },
      {
        title: `deploy ${OLD} to ${hostsText}`,
        args: ['deploy', '--rc', OLD],
        explain: 'over ssh: git archive | tar on each host, build there, shared/.env (0600) from stdin, then host by host: drain, switch, restart, health, enable',
        after: async () => {
          if (!lbUrl) return undefined;
          load = startLoad(lbUrl, 4);
          return `load generator started: 4 loops of GET ${lbUrl} through HAProxy, counting every failed request`;
        },
      },
      { title: `deploy ${CURRENT} (rolling${count > 2 ? ', api1 as the canary' : ''})`, args: ['deploy', '--rc', CURRENT] },
      { title: 'ltc status: each host, its release, app, health, lock', args: ['status'] },
      {
        title: `deploy the broken ${BROKEN}: rolled back`,
        args: ['deploy', '--rc', BROKEN],
        expectExit: 3,
        explain: `its /api/health answers 500 on the first host, so that host went back to ${CURRENT}; the others were never switched: exit 3`,
      },
      {
        title: `ltc rollback (on-call: the fleet back to ${OLD})`,
        args: ['rollback'],
        after: async () => {
          if (!load) return undefined;
          final = await load.stop();
          load = undefined;
          return `through HAProxy during the deploys and the rollback: ${final.requests} requests, ${final.failed} failed${final.failed ? ` (${final.failures.join('; ')})` : ''}`;
        },
      },
      { title: 'ltc status after the rollback', args: ['status'] },
      { title: 'the releases on api1', args: ['releases', '--hosts', 'api1'] },
      { title: 'the audit log is intact', args: ['audit', 'verify'] },
      {
        title: `deploy ${FLAKY} to every host: its health checks pass`,
        args: ['deploy', '--rc', FLAKY],
        explain: '/api/health answers 200 on every host, so the rolling deploy completes; but every third /api/info answers 500',
      },
      {
        title: `watch it through ${lbUrlText(count)} with --auto-rollback: caught, the fleet rolled back`,
        args: ['watch', '--for', '30s', '--interval', '500ms', '--auto-rollback'],
        expectExit: 3,
        explain: `ltc's probes of /api/health and /api/info see the 500s for 3 intervals in a row, then the fleet rollback to ${OLD} (exit 3)`,
      },
    ],
    cleanup: async () => {
      if (load) final = await load.stop();
      const said = (await lab?.stop()) ?? [];
      return said.length ? `${said.join('; ')}; stopped ${count} sshd${lab?.lb ? ' and HAProxy' : ''}` : undefined;
    },
    load: () => final,
  };
}
