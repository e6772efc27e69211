/**
 * A real Prometheus (Debian package `prometheus`, /usr/bin/prometheus) on a free loopback port,
 * with a config written here scraping the given targets, and a local webhook receiver.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { freePort, tempDir } from './cli.ts';

export const PROMETHEUS_BIN = process.env.LTC_PROMETHEUS_BIN ?? '/usr/bin/prometheus';

export interface Prometheus {
  url: string;
  stop(): Promise<void>;
}

export async function startPrometheus(targets: string[], scrapeInterval = '500ms'): Promise<Prometheus> {
  if (!existsSync(PROMETHEUS_BIN)) throw new Error(`${PROMETHEUS_BIN} not found: install the Debian package prometheus (apt-get install prometheus)`);
  const dir = await tempDir('ltc-prom-');
  const port = await freePort();
  const config = [
    'global:',
    `  scrape_interval: ${scrapeInterval}`,
    `  scrape_timeout: ${scrapeInterval}`,
    'scrape_configs:',
    '  - job_name: app',
    '    static_configs:',
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${stderr}`);
    try {
      const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error(`prometheus not ready within 30s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    },
  };
}

/** Waits until Prometheus has a series for `metric` (its first scrapes came in). */
export async function waitForSeries(url: string, metric: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = (await (await fetch(`${url}/api/v1/series?match[]=${encodeURIComponent(metric)}`)).json()) as { data: unknown[] };
    if (r.data.length) return;
    if (Date.now() > until) throw new Error(`no ${metric} series in Prometheus within ${timeoutMs}ms`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

export interface Receiver {
  url: string;
  posts: Array<{ text: string; status: number }>;
  /** Status codes to answer the next posts with (then 200); 0 = never answer. */
  failNext: number[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const port = await freePort();
  const rec: Receiver = { url: `http://127.0.0.1:${port}/hook`, posts: [], failNext: [], close: async () => {} };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const status = rec.failNext.shift() ?? 200;
      if (status === 0) {
        rec.posts.push({ text: '', status: 0 });
        return;
      }
      let text = '';
      try {
        text = (JSON.parse(body) as { text: string }).text;
      } catch {
        text = body;
      }
      rec.posts.push({ text, status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'error');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  rec.close = () => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  return rec;
}
