/** A fleet opened from the config: its hosts (with their role settings), the ssh pool, the load balancer. */
import type { SshHostConfig, SshTargetConfig } from '../config/schema/target.js';
import type { Context } from '../core/context.js';
import { parseDuration } from '../core/duration.js';
import { ConfigError, UsageError } from '../core/errors.js';
import { accessSync, constants } from 'node:fs';
import { openLoadBalancer, type LoadBalancer } from './lb.js';
import { plainProgress, type FleetProgress } from './progress.js';
import { SshPool, type SshEndpoint } from './ssh.js';

export interface FleetHost extends SshEndpoint {
  /** Its server name in the load balancer's backend. */
  server: string;
  root: string;
  url: string;
  env: Record<string, string>;
  roles: string[];
  /** From the target, overridden by the host's roles in order. */
  build: string[][];
  start: string[] | undefined;
  service: string[] | undefined;
  healthPath: string;
  /** false: nothing to restart (a web server serving current/dist): switch and health check only. */
  restart: boolean;
}

export interface HostReport {
  host: string;
  before: string | null;
  current: string | null;
  /** After a switch that failed and a host that could not then be asked: `current` may still be the release before. */
  currentUnconfirmed?: true;
  state: 'unchanged' | 'switched' | 'rolled_back' | 'rollback_failed' | 'failed';
  phases: Record<string, number>;
  error?: string;
}

export interface Fleet {
  ctx: Context;
  environment: string;
  config: SshTargetConfig;
  hosts: FleetHost[];
  pool: SshPool;
  lb: LoadBalancer | undefined;
  graceMs: number;
  healthMs: number;
  staleMs: number;
  /** Per-host progress: plain lines, or a listr2 list in a terminal (useListrProgress). */
  progress: FleetProgress;
}

function roleSettings(config: SshTargetConfig, roles: string[]): Pick<FleetHost, 'build' | 'start' | 'service' | 'healthPath' | 'restart'> {
  const out: Pick<FleetHost, 'build' | 'start' | 'service' | 'healthPath' | 'restart'> = { build: config.build, start: config.start, service: config.service, healthPath: config.health_path, restart: true };
  for (const r of roles) {
    const s = config.roles[r];
    if (!s) continue;
    if (s.build) out.build = s.build;
    if (s.start) [out.start, out.service] = [s.start, undefined];
    if (s.service) [out.service, out.start] = [s.service, undefined];
    if (s.health_path) out.healthPath = s.health_path;
    if (s.restart !== undefined) out.restart = s.restart;
  }
  return out;
}

/** The configured hosts, narrowed by --hosts names and --roles (a host with any of the roles). */
export function hostsOf(config: SshTargetConfig, filter?: string, rolesFilter?: string): FleetHost[] {
  const all = config.hosts.map((h: SshHostConfig) => ({
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    server: h.lb_server ?? h.name,
    root: (h.deploy_root ?? config.deploy_root)!.replace(/\/+$/, ''),
    url: h.url.replace(/\/+$/, ''),
    env: { ...config.env, ...h.env },
    roles: h.roles,
    ...roleSettings(config, h.roles),
  }));
  if (!filter) return byRoles(all, rolesFilter);
  const names = filter.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!all.some((h) => h.name === n)) throw new UsageError(`--hosts: no host named ${JSON.stringify(n)}`, { hint: `hosts: ${all.map((h) => h.name).join(', ')}` });
  }
  return byRoles(all.filter((h) => names.includes(h.name)), rolesFilter);
}

function byRoles(hosts: FleetHost[], rolesFilter: string | undefined): FleetHost[] {
  if (!rolesFilter) return hosts;
  const wanted = rolesFilter.split(',').map((s) => s.trim()).filter(Boolean);
  const known = new Set(hosts.flatMap((h) => h.roles));
  for (const r of wanted) {
    if (!known.has(r)) throw new UsageError(`--roles: no host has the role ${JSON.stringify(r)}`, { hint: known.size ? `roles: ${[...known].join(', ')}` : 'no host has roles: give hosts[].roles in the config' });
  }
  return hosts.filter((h) => h.roles.some((r) => wanted.includes(r)));
}

/** A configured file ssh needs: refused before any connection when it cannot be read. */
function mustRead(file: string | undefined, key: string, what: string): void {
  if (!file) return;
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`${key}: ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}: nothing was run on any host`, { hint: `it is ${what}` });
  }
}

export async function openFleet(ctx: Context, hostsFilter?: string, rolesFilter?: string): Promise<Fleet> {
  const { name, env, loaded } = await ctx.environment();
  const config = env.target as SshTargetConfig;
  const identityFile = config.identity_file ? loaded.resolvePath(config.identity_file) : undefined;
  const knownHosts = config.known_hosts ? loaded.resolvePath(config.known_hosts) : undefined;
  mustRead(identityFile, `environments.${name}.target.identity_file`, 'the private key ssh logs in with (ssh-keygen -t ed25519 -f <file> makes one; its .pub goes into the hosts\' authorized_keys)');
  // With accept-new, ssh creates the file and adds the keys it meets first.
  if (config.host_key_check !== 'accept-new') {
    mustRead(knownHosts, `environments.${name}.target.known_hosts`, 'the file with the hosts\' keys (ssh-keyscan -p <port> <address> >> <file>, after checking the fingerprints), or host_key_check: accept-new to record them on first contact');
  }
  const pool = await SshPool.open(
    {
      ...(identityFile ? { identityFile } : {}),
      ...(knownHosts ? { knownHosts } : {}),
      hostKeyCheck: config.host_key_check,
      connectTimeoutMs: parseDuration(config.connect_timeout, 'connect_timeout'),
      commandTimeoutMs: parseDuration(config.command_timeout, 'command_timeout'),
    },
    ctx.masker,
  );
  return {
    ctx,
    environment: name,
    config,
    hosts: hostsOf(config, hostsFilter, rolesFilter),
    pool,
    lb: openLoadBalancer(config.lb, ctx, pool, hostsOf(config)),
    graceMs: parseDuration(config.stop_grace, 'stop_grace'),
    healthMs: parseDuration(config.health_deadline, 'health_deadline'),
    staleMs: parseDuration(config.lock_stale_after, 'lock_stale_after'),
    progress: plainProgress(ctx.out),
  };
}


/** The first configured host, whether or not --hosts selected it: it holds the lock. */
export function primaryOf(f: Fleet): FleetHost {
  const name = f.config.hosts[0]!.name;
  return f.hosts.find((x) => x.name === name) ?? hostsOf(f.config).find((x) => x.name === name)!;
}


/** Each host's links before the run: where it is switched from, and its previous release then. */
export type Links = Map<string, { current: string | null; previous: string | null }>;

/** In a terminal with colour and a width (not --json): a listr2 list per host for the rest of the run. */
export async function useListrProgress(f: Fleet, heading: string): Promise<void> {
  const o = f.ctx.options;
  if (!o.color || o.json || !process.stdout.isTTY || (process.stdout.columns ?? 0) <= 0) return;
  const { listrProgress } = await import('./progress.js');
  f.progress = await listrProgress(f.ctx.out, f.ctx.masker, f.hosts.map((h) => h.name), heading);
}
