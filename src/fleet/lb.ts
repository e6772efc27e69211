/**
 * The load balancer in front of an ssh target: a host is drained before its restart and enabled
 * again only once its own health is green (and, for HAProxy, once HAProxy itself sees it UP, so the
 * next batch never drains the last serving host).
 *
 * HAProxy: the runtime API over the admin socket (`stats socket … level admin`), on this machine
 * or on a host reached over ssh (`socat` there). Anything else: drain/enable commands run here.
 */
import { createConnection } from 'node:net';
import type { LbConfig } from '../config/schema/target.js';
import type { Context } from '../core/context.js';
import { parseDuration } from '../core/duration.js';
import { CheckFailedError } from '../core/errors.js';
import { execCommand } from '../exec/exec.js';
import type { SshEndpoint, SshPool } from './ssh.js';

export interface LbHost extends SshEndpoint {
  server: string;
}

export interface LoadBalancer {
  /** e.g. "HAProxy backend api (/run/haproxy/admin.sock)". */
  readonly label: string;
  /** Before anything is switched: every host is a server the load balancer knows. */
  check(hosts: readonly LbHost[]): Promise<void>;
  drain(h: LbHost): Promise<void>;
  enable(h: LbHost): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How often a drain or an enable asks HAProxy for the server's sessions or state (a local socket: cheap). */
const LB_POLL_MS = 20;

/** One command to HAProxy's admin socket on this machine; HAProxy answers and closes. */
function localSocket(path: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const sock = createConnection({ path });
    const timer = setTimeout(() => sock.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${command}\n`));
    sock.on('data', (d: string) => (out += d));
    sock.on('end', () => (clearTimeout(timer), resolve(out)));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = err.code === 'ENOENT' ? 'no such socket' : err.code === 'ECONNREFUSED' ? 'nobody listens on it (is HAProxy running?)' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(new CheckFailedError(`HAProxy admin socket ${path}: ${why}`, { hint: 'haproxy.cfg needs `stats socket <path> level admin` in its global section, and this user must be able to open it' }));
    });
  });
}

interface ServerStat {
  status: string;
  sessions: number;
}

/** `show stat` CSV → backend/server → status and current sessions. */
export function parseShowStat(csv: string): Map<string, ServerStat> {
  const lines = csv.split('\n').filter(Boolean);
  const head = (lines[0] ?? '').replace(/^# /, '').split(',');
  const col = (name: string) => head.indexOf(name);
  const [px, sv, scur, status] = [col('pxname'), col('svname'), col('scur'), col('status')];
  const map = new Map<string, ServerStat>();
  if (px < 0 || sv < 0 || scur < 0 || status < 0) return map;
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    map.set(`${f[px]}/${f[sv]}`, { status: f[status] ?? '', sessions: Number(f[scur] ?? 0) });
  }
  return map;
}

class HaproxyLb implements LoadBalancer {
  readonly label: string;
  private readonly drainMs: number;
  private readonly readyMs: number;

  constructor(
    private readonly config: Extract<LbConfig, { type: 'haproxy' }>,
    private readonly send: (command: string) => Promise<string>,
    private readonly signal: AbortSignal,
  ) {
    this.label = `HAProxy backend ${config.backend} (${config.socket}${config.via ? ` on ${config.via}` : ''})`;
    this.drainMs = parseDuration(config.drain_timeout, 'lb.drain_timeout');
    this.readyMs = parseDuration(config.ready_timeout, 'lb.ready_timeout');
  }

  private async stats(): Promise<Map<string, ServerStat>> {
    const out = await this.send('show stat');
    const map = parseShowStat(out);
    if (map.size === 0) throw new CheckFailedError(`${this.label}: \`show stat\` did not answer with HAProxy's CSV: ${out.trim().slice(0, 200) || '(nothing)'}`);
    return map;
  }

  async check(hosts: readonly LbHost[]): Promise<void> {
    const level = (await this.send('show cli level')).trim();
    if (level !== 'admin') {
      throw new CheckFailedError(`${this.label}: the socket is at level ${level || 'unknown'}; draining a server needs level admin: nothing was switched`, {
        hint: `haproxy.cfg: stats socket ${this.config.socket} level admin`,
      });
    }
    const map = await this.stats();
    const missing = hosts.filter((h) => !map.has(`${this.config.backend}/${h.server}`));
    if (missing.length) {
      const known = [...map.keys()].filter((k) => k.startsWith(`${this.config.backend}/`) && !/\/(FRONTEND|BACKEND)$/.test(k));
      throw new CheckFailedError(`${this.label} has no server ${missing.map((h) => `${this.config.backend}/${h.server}`).join(', ')}: nothing was switched`, {
        hint: `servers of ${this.config.backend}: ${known.join(', ') || 'none (is the backend name right?)'}; set lb_server on the host to its server name`,
      });
    }
  }

  private async setState(h: LbHost, state: 'drain' | 'ready'): Promise<void> {
    const answer = (await this.send(`set server ${this.config.backend}/${h.server} state ${state}`)).trim();
    // HAProxy answers an empty line on success, a sentence otherwise ("No such server.", "Permission denied").
    if (answer) throw new CheckFailedError(`${this.label}: set server ${this.config.backend}/${h.server} state ${state} was refused: ${answer}`);
  }

  async drain(h: LbHost): Promise<void> {
    await this.setState(h, 'drain');
    const key = `${this.config.backend}/${h.server}`;
    const deadline = Date.now() + this.drainMs;
    while (Date.now() < deadline) {
      this.signal.throwIfAborted();
      if ((await this.stats()).get(key)?.sessions === 0) return;
      await sleep(LB_POLL_MS);
    }
    // Sessions still open after the timeout (long polls, websockets): the restart goes ahead.
  }

  async enable(h: LbHost): Promise<void> {
    await this.setState(h, 'ready');
    const key = `${this.config.backend}/${h.server}`;
    const deadline = Date.now() + this.readyMs;
    let status = '';
    while (Date.now() < deadline) {
      this.signal.throwIfAborted();
      status = (await this.stats()).get(key)?.status ?? '';
      // UP (also "UP 1/3": up, a check failed), or "no check"; "DOWN 1/2" is still rising.
      if (/^UP\b/.test(status) || status === 'no check') return;
      await sleep(LB_POLL_MS);
    }
    throw new CheckFailedError(`${this.label}: ${key} is healthy itself but HAProxy still reports it ${status || 'unknown'} after ${this.config.ready_timeout}`, {
      hint: "check the server's `check` line in haproxy.cfg (address, port, health check path)",
    });
  }
}

class CommandLb implements LoadBalancer {
  readonly label: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly config: Extract<LbConfig, { type: 'command' }>,
    private readonly ctx: Context,
  ) {
    this.label = `load balancer commands (${config.drain[0]} / ${config.enable[0]})`;
    this.timeoutMs = parseDuration(config.timeout, 'lb.timeout');
  }

  async check(): Promise<void> {}

  private async run(argv: readonly string[], h: LbHost, what: string): Promise<void> {
    const filled = argv.map((a) => a.replaceAll('{host}', h.name).replaceAll('{address}', h.address).replaceAll('{server}', h.server));
    const r = await execCommand(filled, { timeout: this.timeoutMs, signal: this.ctx.signal }, this.ctx.masker);
    if (r.exitCode !== 0) {
      throw new CheckFailedError(`${what} ${h.name} (${filled.join(' ')}) failed (exit ${r.exitCode}): ${r.output.trim().split('\n').slice(-3).join(' | ')}`);
    }
  }

  drain(h: LbHost): Promise<void> {
    return this.run(this.config.drain, h, 'lb.drain');
  }

  enable(h: LbHost): Promise<void> {
    return this.run(this.config.enable, h, 'lb.enable');
  }
}

export function openLoadBalancer(config: LbConfig | undefined, ctx: Context, pool: SshPool, hosts: readonly SshEndpoint[]): LoadBalancer | undefined {
  if (!config) return undefined;
  if (config.type === 'command') return new CommandLb(config, ctx);
  const via = config.via ? hosts.find((h) => h.name === config.via) : undefined;
  const send = via
    ? async (command: string) => {
        const r = await pool.script(via, 'printf "%s\\n" "$2" | socat -t 5 - "UNIX-CONNECT:$1"', [config.socket, command], { signal: ctx.signal, timeoutMs: 10_000 });
        if (r.exitCode !== 0) {
          throw new CheckFailedError(`HAProxy admin socket ${config.socket} on ${via.name}: ${r.output.trim().split('\n').slice(-1)[0] || `exit ${r.exitCode}`}`, {
            hint: `socat must be installed on ${via.name} and the socket there must exist (stats socket … level admin)`,
          });
        }
        return r.stdout;
      }
    : (command: string) => localSocket(config.socket, command);
  return new HaproxyLb(config, send, ctx.signal);
}
