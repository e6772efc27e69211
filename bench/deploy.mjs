// bench/deploy.mjs: deploy and rollback on the local target with the demo app (build: npm ci +
// npm run build, start: node server.mjs, file secret backend). Prints:
//   - `ltc rollback` from the call until the previous release answers healthy (polled every 5 ms
//     from outside), with the current release running, crashed (SIGKILL) and hung (SIGSTOP:
//     stop sends SIGCONT after SIGTERM, so it ends at once instead of after stop_grace);
//     target ≤ 3 s (the handbook allows 5 minutes);
//   - ltc's own overhead in a deploy: its wall time minus the configured build commands and the
//     start (spawn until healthy), both taken from revisions.log; target ≤ 1 s;
//   - the full deploy time;
//   - a broken release (rc-2026-03-01.1: /api/health answers 500 steadily) with health_deadline
//     60s: from its first answer (polled from outside) until ltc starts the rollback (its
//     "rolling back to" line, --verbose) and until the previous release answers healthy again;
//     target ≤ 5 s (health_failures: 3 answers in a row, instead of waiting for the deadline).
// Needs `npm run build` first (npm run bench does it).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LTC, ROOT, median, report } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const { generateDemoApp } = await import(join(ROOT, 'dist', 'src', 'demo', 'generate-app.js'));

const freePort = () =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

const work = mkdtempSync(join(tmpdir(), 'ltc-bench-deploy-'));
const deployRoot = join(work, 'deploy');
const ops = join(work, 'ops');
const env = { ...process.env, NO_COLOR: '1', CI: 'true', LTC_MASTER_KEY: randomBytes(32).toString('base64'), LTC_ENV: 'bench' };
delete env.LTC_CONFIG;

function ltc(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [LTC, ...args], { cwd: ops, encoding: 'utf8', env });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  return { wall, code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function must(r, what) {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r;
}

function lastRevision() {
  const lines = readFileSync(join(deployRoot, 'revisions.log'), 'utf8').trim().split('\n');
  return JSON.parse(lines.at(-1));
}

function appPid() {
  return JSON.parse(readFileSync(join(deployRoot, 'shared', 'app.pid'), 'utf8')).pid;
}

/** Runs `ltc rollback …` and polls /api/health until it reports `version`: ms from the call. */
async function rollbackUntilHealthy(url, args, version) {
  const start = performance.now();
  const child = spawn(process.execPath, [LTC, 'rollback', ...args], { cwd: ops, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  child.stdout.resume();
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve({ code, wall: performance.now() - start })));
  let healthyAt;
  while (healthyAt === undefined) {
    try {
      const r = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(200) });
      const body = await r.json().catch(() => ({}));
      if (r.status === 200 && body.version === version) healthyAt = performance.now() - start;
    } catch {
      /* down, or the old one hangs */
    }
    if (healthyAt === undefined) await new Promise((r) => setTimeout(r, 5));
    if (performance.now() - start > 60_000) throw new Error('rollback did not bring the release back within 60 s');
  }
  const done = await exited;
  if (done.code !== 0) throw new Error(`ltc rollback ${args.join(' ')} exited ${done.code}: ${stderr}`);
  return { healthy: healthyAt, wall: done.wall };
}

try {
  const app = await generateDemoApp({ dir: join(work, 'app') });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  mkdirSync(ops);
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
      '      endpoints:',
      '        - { name: api, url: /api/health, conditions: [status == 200, body.status == "ok"] }',
      '        - { name: frontend, url: /, conditions: [status == 200] }',
      '    target:',
      '      type: local',
      `      deploy_root: ${JSON.stringify(deployRoot)}`,
      '      build: [[npm, ci], [npm, run, build]]',
      '      start: [node, server.mjs]',
      `      env: { PORT: "${port}", HOST: 127.0.0.1 }`,
      '      stop_grace: 2s',
      '      health_deadline: 15s',
      '    secrets:',
      '      backend: file',
      '      required: [{ name: LTC_SECRET_KEY, kind: secret_key }]',
      '',
    ].join('\n'),
  );
  must(ltc(['secrets', 'generate', 'LTC_SECRET_KEY']), 'secrets generate');

  // Deploys: the first one also mirrors the repo (cold cache).
  const deploys = [];
  const rcs = ['rc-2026-02-15', 'rc-2026-03-01'];
  for (let i = 0; i < RUNS * 2 + 1; i++) {
    const rc = rcs[i % 2];
    const r = must(ltc(['deploy', '--rc', rc, '--json']), `deploy ${rc}`);
    const rev = lastRevision();
    deploys.push({ cold: i === 0, wall: r.wall, build: rev.buildMs, start: rev.startMs, overhead: r.wall - rev.buildMs - rev.startMs, inside: rev.durationMs });
  }
  const warm = deploys.filter((d) => !d.cold);
  const cold = deploys[0];

  // Now current = rc-2026-02-15, previous = rc-2026-03-01.
  const versionOf = { 'rc-2026-02-15': '1.0.0', 'rc-2026-03-01': '1.1.0' };
  const running = [];
  const crashed = [];
  const hung = [];
  let target = 'rc-2026-03-01';
  for (let i = 0; i < RUNS; i++) {
    running.push(await rollbackUntilHealthy(url, ['--to', target], versionOf[target]));
    target = target === 'rc-2026-03-01' ? 'rc-2026-02-15' : 'rc-2026-03-01';
    process.kill(appPid(), 'SIGKILL');
    crashed.push(await rollbackUntilHealthy(url, ['--to', target], versionOf[target]));
    target = target === 'rc-2026-03-01' ? 'rc-2026-02-15' : 'rc-2026-03-01';
  }
  for (let i = 0; i < Math.min(RUNS, 2); i++) {
    process.kill(appPid(), 'SIGSTOP');
    hung.push(await rollbackUntilHealthy(url, ['--to', target], versionOf[target]));
    target = target === 'rc-2026-03-01' ? 'rc-2026-02-15' : 'rc-2026-03-01';
  }
  const startup = median(Array.from({ length: 5 }, () => ltc(['--version']).wall));

  // A broken release with the deadline the issue names (60 s).
  const cfg = join(ops, 'ltc.config.yaml');
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('health_deadline: 15s', 'health_deadline: 60s'));
  const broken = [];
  for (let i = 0; i < Math.min(RUNS, 3); i++) {
    const liveBefore = (await (await fetch(`${url}/api/health`)).json()).version;
    const start = performance.now();
    const child = spawn(process.execPath, [LTC, 'deploy', '--rc', 'rc-2026-03-01.1', '--verbose'], { cwd: ops, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let rollbackAt;
    child.stdout.on('data', (b) => {
      out += b;
      if (rollbackAt === undefined && out.includes('rolling back to')) rollbackAt = performance.now();
    });
    child.stderr.resume();
    const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    let firstAnswer;
    let healthyAgain;
    while (healthyAgain === undefined) {
      try {
        const r = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(200) });
        const body = await r.json().catch(() => ({}));
        if (firstAnswer === undefined && r.status === 500) firstAnswer = performance.now();
        if (firstAnswer !== undefined && r.status === 200 && body.version === liveBefore) healthyAgain = performance.now();
      } catch {
        /* down between the stop and the start */
      }
      if (healthyAgain === undefined) await new Promise((r) => setTimeout(r, 5));
      if (performance.now() - start > 120_000) throw new Error('the broken deploy was not rolled back within 120 s');
    }
    const code = await exited;
    if (code !== 3) throw new Error(`deploy of the broken release exited ${code}, expected 3`);
    broken.push({ started: (rollbackAt ?? healthyAgain) - firstAnswer, healthy: healthyAgain - firstAnswer, wall: performance.now() - start });
  }

  report(`ltc rollback until the previous release answers healthy (median of ${RUNS})`, [
    { name: 'current release running', value: median(running.map((r) => r.healthy)) / 1000, unit: ' s', target: 3 },
    { name: 'current release crashed (SIGKILL before)', value: median(crashed.map((r) => r.healthy)) / 1000, unit: ' s', target: 3 },
    { name: `current release hung (SIGSTOP; ended by SIGTERM+SIGCONT, median of ${hung.length})`, value: median(hung.map((r) => r.healthy)) / 1000, unit: ' s', target: 3 },
    { name: 'ltc rollback wall time (running)', value: median(running.map((r) => r.wall)) / 1000, unit: ' s' },
  ]);
  report(`ltc deploy (median of ${warm.length} warm deploys; build = npm ci + npm run build)`, [
    { name: "ltc's own overhead: wall - build - start", value: median(warm.map((d) => d.overhead)) / 1000, unit: ' s', target: 1 },
    { name: 'full deploy wall time', value: median(warm.map((d) => d.wall)) / 1000, unit: ' s' },
    { name: 'configured build commands', value: median(warm.map((d) => d.build)) / 1000, unit: ' s' },
    { name: 'start: spawn until healthy', value: median(warm.map((d) => d.start)) / 1000, unit: ' s' },
    { name: 'first deploy (clones the mirror): wall', value: cold.wall / 1000, unit: ' s' },
    { name: 'first deploy: overhead', value: cold.overhead / 1000, unit: ' s' },
    { name: 'node + ltc startup (ltc --version), part of the overhead', value: startup / 1000, unit: ' s' },
  ]);
  report(`a broken release (steady 500), health_deadline 60s (median of ${broken.length})`, [
    { name: 'first 500 answer → rollback started', value: median(broken.map((b) => b.started)) / 1000, unit: ' s', target: 5 },
    { name: 'first 500 answer → previous release healthy again', value: median(broken.map((b) => b.healthy)) / 1000, unit: ' s' },
    { name: 'ltc deploy wall time (exit 3)', value: median(broken.map((b) => b.wall)) / 1000, unit: ' s' },
  ]);
} finally {
  try {
    const pid = appPid();
    process.kill(-pid, 'SIGCONT');
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* nothing runs */
  }
  rmSync(work, { recursive: true, force: true });
}
