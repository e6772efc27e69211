/**
 * A real HAProxy (Debian's haproxy) on 127.0.0.1:<free port> in front of loopback servers, with
 * an admin socket (and one at level user) in `dir`; and a bounded load generator that counts
 * failed requests. For `ltc demo --hosts`, the fleet benchmarks and the tests.
 */
import { processes, type ChildProcess } from '../exec/process.js';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { CheckFailedError } from '../core/errors.js';
import { freeLoopbackPort } from '../core/net.js';

export interface LabHaproxy {
  port: number;
  socket: string;
  /** A second socket at level user (show works, set server is refused). */
  userSocket: string;
  dir: string;
  proc: ChildProcess;
  /** One runtime API command; HAProxy's answer. */
  command(line: string): Promise<string>;
  stop(): Promise<void>;
}

export function haproxyCommand(socket: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const s = createConnection({ path: socket }, () => s.write(`${line}\n`));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

/** servers: name → port on 127.0.0.1. HAProxy checks each with GET <checkPath> every 500 ms. */
export async function startLabHaproxy(dir: string, backend: string, servers: Record<string, number>, checkPath = '/api/health'): Promise<LabHaproxy> {
  if (!existsSync('/usr/sbin/haproxy')) throw new CheckFailedError('/usr/sbin/haproxy is missing', { hint: 'install the Debian package haproxy' });
  const port = await freeLoopbackPort();
  const socket = join(dir, 'admin.sock');
  const cfg = [
    'global',
    `  stats socket ${socket} mode 600 level admin`,
    `  stats socket ${join(dir, 'user.sock')} mode 600 level user`,
    '  maxconn 2000',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 10s',
    '  timeout server 10s',
    // No retries and no redispatch: a request sent to a stopping server fails, so it is counted.
    '  retries 0',
    `frontend fe`,
    `  bind 127.0.0.1:${port}`,
    `  default_backend ${backend}`,
    `backend ${backend}`,
    '  balance roundrobin',
    `  option httpchk GET ${checkPath}`,
    ...Object.entries(servers).map(([name, p]) => `  server ${name} 127.0.0.1:${p} check inter 500ms fall 2 rise 2`),
    '',
  ].join('\n');
  await writeFile(join(dir, 'haproxy.cfg'), cfg);
  const proc = processes.start(['/usr/sbin/haproxy', '-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const until = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (proc.exitCode !== null || Date.now() > until) throw new CheckFailedError(`haproxy did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    socket,
    userSocket: join(dir, 'user.sock'),
    dir,
    proc,
    command: (line) => haproxyCommand(socket, line),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

export interface LoadResult {
  requests: number;
  failed: number;
  /** The first few failures: status or error. */
  failures: string[];
}

/** `workers` loops of GET url until stop(): every non-2xx answer or network error counts as failed. */
export function startLoad(url: string, workers = 4): { stop(): Promise<LoadResult>; now(): LoadResult } {
  let running = true;
  const result: LoadResult = { requests: 0, failed: 0, failures: [] };
  const fail = (why: string) => {
    result.failed++;
    if (result.failures.length < 5) result.failures.push(why);
  };
  const loop = async () => {
    while (running) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        result.requests++;
        if (!res.ok) fail(`HTTP ${res.status}`);
      } catch (e) {
        result.requests++;
        fail((e as Error).message);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const loops = Array.from({ length: workers }, loop);
  return {
    now: () => ({ ...result, failures: [...result.failures] }),
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}
