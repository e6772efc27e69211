// bench/watch.mjs: `ltc watch --interval 1s --failure-limit 3 --auto-rollback` on the local target
// with the demo app and a real Prometheus (/usr/bin/prometheus) scraping its /metrics every 1s.
// Prints:
//   - from the broken release's first 500 (a load generator polls /api/health every 20 ms from
//     outside, while the watch already runs on the good release and the broken one is deployed
//     under it) to the start of the rollback (the watch journal's "rollback" line), against the
//     worst case the watch printed before it started; target ≤ 5 s;
//   - the cost of one watch interval (both sources: 5 probes and 3 PromQL queries), median ms;
//   - the CPU of a watch: user+sys seconds per interval, and for a 3-hour watch at 30s and 1s.
// Needs `npm run build` first (npm run bench does it).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LTC, ROOT, median, report } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PROM = '/usr/bin/prometheus';
if (!existsSync(PROM)) throw new Error(`${PROM} not found: install the Debian package prometheus`);
const { generateDemoApp } = await import(join(ROOT, 'dist', 'src', 'demo', 'generate-app.js'));

const freePort = () =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(join(tmpdir(), 'ltc-bench-watch-'));
const deployRoot = join(work, 'deploy');
const ops = join(work, 'ops');
const env = { ...process.env, NO_COLOR: '1', CI: 'true', LTC_MASTER_KEY: randomBytes(32).toString('base64'), LTC_ENV: 'bench' };
delete env.LTC_CONFIG;
const children = [];

function ltc(args) {
  const r = spawnSync(process.execPath, [LTC, ...args], { cwd: ops, encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`ltc ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

function stopApp() {
  try {
    const { pid } = JSON.parse(readFileSync(join(deployRoot, 'shared', 'app.pid'), 'utf8'));
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* not running */
  }
}

try {
  const app = await generateDemoApp({ dir: join(work, 'app') });
  const port = await freePort();
  const promPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const promUrl = `http://127.0.0.1:${promPort}`;
  mkdirSync(ops);
  const W = '5s';
  writeFileSync(
    join(ops, 'ltc.config.yaml'),
    [
      'version: 1',
      `app: { repo: ${JSON.stringify(app.repoDir)} }`,
      'environments:',
      '  bench:',
      `    url: ${url}`,
      '    health:',
      '      timeout: 2s',
      '      endpoints: [{ name: frontend, url: /, conditions: [status == 200] }]',
      '    target:',
      '      type: local',
      `      deploy_root: ${JSON.stringify(deployRoot)}`,
      '      build: [[npm, run, build]]',
      '      start: [node, server.mjs]',
      `      env: { PORT: "${port}", HOST: 127.0.0.1 }`,
      '      stop_grace: 2s',
      '      health_deadline: 15s',
      // The deploy's own log scan would catch the 500s of the load generator; off, so the watch is what catches them.
      '      log_scan: []',
      '    secrets: { backend: file, required: [{ name: LTC_SECRET_KEY, kind: secret_key }] }',
      '    watch:',
      '      interval: 1s',
      '      failure_limit: 3',
      '      min_requests: 5',
      '      probes: [/api/health]',
      '      probe_timeout: 2s',
      '      prometheus:',
      `        url: ${promUrl}`,
      '        timeout: 2s',
      '        queries:',
      `          error_rate: '(sum(rate(http_requests_total{status=~"5.."}[${W}])) or vector(0)) / sum(rate(http_requests_total[${W}]))'`,
      `          latency_p95_ms: '1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[${W}])))'`,
      `          requests: 'sum(increase(http_requests_total[${W}]))'`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(work, 'prometheus.yml'), `global: { scrape_interval: 1s, scrape_timeout: 1s }\nscrape_configs:\n  - job_name: app\n    static_configs: [{ targets: ["127.0.0.1:${port}"] }]\n`);
  const prom = spawn(PROM, [`--config.file=${join(work, 'prometheus.yml')}`, `--storage.tsdb.path=${join(work, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: 'ignore' });
  children.push(prom);
  ltc(['secrets', 'generate', 'LTC_SECRET_KEY']);
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${promUrl}/-/ready`)).ok) break;
    } catch {
      /* starting */
    }
    if (i > 300) throw new Error('prometheus not ready');
    await sleep(100);
  }

  const detect = [];
  const worst = [];
  for (let run = 0; run < RUNS; run++) {
    ltc(['deploy', '--rc', 'rc-2026-03-01']);
    // Traffic for Prometheus's series to exist before the watch checks its queries.
    for (let i = 0; i < 20; i++) await fetch(`${url}/api/health`).then((r) => r.text()).catch(() => {});
    for (let i = 0; ; i++) {
      const r = await (await fetch(`${promUrl}/api/v1/series?match[]=http_requests_total`)).json();
      if (r.data.length) break;
      if (i > 300) throw new Error('no http_requests_total series in Prometheus within 30 s');
      await sleep(100);
    }
    await sleep(2000);
    const watch = spawn(process.execPath, [LTC, 'watch', '--for', '60s', '--interval', '1s', '--failure-limit', '3', '--auto-rollback', '--json'], { cwd: ops, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(watch);
    let out = '';
    let err = '';
    watch.stdout.on('data', (b) => (out += b));
    watch.stderr.on('data', (b) => (err += b));
    const exited = new Promise((r) => watch.on('exit', r));
    while (!/\[3\/\d+\]/.test(err)) {
      if (watch.exitCode !== null) throw new Error(`watch ended early (${watch.exitCode}): ${err}${out}`);
      await sleep(20);
    }
    // The load generator: the time of the first 500 it sees.
    let first500;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        try {
          const r = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(500) });
          await r.text();
          if (r.status >= 500 && first500 === undefined) first500 = Date.now();
        } catch {
          /* restarting */
        }
        await sleep(20);
      }
    })();
    // Not spawnSync: the load generator and the watch's output are read by this process meanwhile.
    const deploy = spawn(process.execPath, [LTC, 'deploy', '--rc', 'rc-2026-03-01.1'], { cwd: ops, env, stdio: 'ignore' });
    children.push(deploy);
    const deployed = await new Promise((r) => deploy.on('exit', r));
    if (deployed !== 0) throw new Error(`deploy of the broken release exited ${deployed}`);
    const code = await exited;
    polling = false;
    await poller;
    if (code !== 3) throw new Error(`watch exited ${code}, expected 3 (rolled back): ${err}`);
    const j = JSON.parse(out);
    const rb = readFileSync(j.journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'rollback');
    detect.push(Date.parse(rb.startedAt) - first500);
    worst.push(j.worstCaseMs);
  }

  // One interval's cost and the CPU of a watch on the healthy release (no rollback).
  ltc(['deploy', '--rc', 'rc-2026-03-01']);
  await sleep(2500);
  const cpuOf = (forArg) => {
    const r = spawnSync('bash', ['-c', `TIMEFORMAT='%U %S'; time ${JSON.stringify(process.execPath)} ${JSON.stringify(LTC)} watch --for ${forArg} --interval 1s --json > ${join(work, 'w.json')}`], { cwd: ops, env, encoding: 'utf8' });
    const [u, s] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
    return { cpu: u + s, result: JSON.parse(readFileSync(join(work, 'w.json'), 'utf8')) };
  };
  const short = cpuOf('1s');
  const long = cpuOf('30s');
  const perInterval = (long.cpu - short.cpu) / (long.result.samples.length - short.result.samples.length);
  const sampleMs = median(long.result.samples.map((s) => s.ms));

  report('ltc watch (interval 1s, failure limit 3, own probes + Prometheus)', [
    { name: `first 500 → rollback start, median of ${RUNS}`, value: median(detect) / 1000, unit: ' s', target: 5 },
    { name: 'first 500 → rollback start, min', value: Math.min(...detect) / 1000, unit: ' s' },
    { name: 'first 500 → rollback start, max', value: Math.max(...detect) / 1000, unit: ' s' },
    { name: 'printed worst case (3 × 1s + 2s query time)', value: median(worst) / 1000, unit: ' s' },
    { name: 'one interval, both sources (median wall)', value: sampleMs, unit: ' ms', digits: 0 },
    { name: 'CPU per interval (user+sys)', value: perInterval * 1000, unit: ' ms', digits: 1 },
    { name: 'CPU of a 3-hour watch at --interval 30s', value: perInterval * 360, unit: ' s', digits: 1 },
    { name: 'CPU of a 3-hour watch at --interval 1s', value: perInterval * 10800, unit: ' s', digits: 0 },
  ]);
  console.log(`  (runs: ${detect.map((d) => (d / 1000).toFixed(2)).join(', ')} s)`);
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  stopApp();
  rmSync(work, { recursive: true, force: true });
}
