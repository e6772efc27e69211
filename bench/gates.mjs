// bench/gates.mjs: three gates that each `sleep 1`, marked parallel vs sequential, in the same run
// of this script against the same demo app repo. Prints the wall time of each `ltc gates run`, the
// checkout time (mirror fetch + clean work tree) and ltc's overhead (wall - checkout - ideal sleep).
// Needs `npm run build` first (npm run bench does it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LTC, ROOT, median, report } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const { generateDemoApp } = await import(join(ROOT, 'dist', 'src', 'demo', 'generate-app.js'));

const work = mkdtempSync(join(tmpdir(), 'ltc-bench-gates-'));
try {
  const app = await generateDemoApp({ dir: join(work, 'app') });
  const gates = (parallel) => ['one', 'two', 'three'].map((name) => `  - { name: ${name}, run: [sleep, '1'], parallel: ${parallel} }`).join('\n');
  const ops = (name, parallel) => {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'ltc.config.yaml'), `version: 1\napp:\n  repo: ${JSON.stringify(app.repoDir)}\ngates:\n${gates(parallel)}\n`);
    return dir;
  };
  const dirs = { parallel: ops('parallel', true), sequential: ops('sequential', false) };

  const run = (dir, extra = []) => {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [LTC, 'gates', 'run', '--rc', 'rc-2026-03-01', '--no-install', '--json', ...extra], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', CI: 'true' },
    });
    const wall = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`ltc gates run exited ${r.status}: ${r.stderr}`);
    const doc = JSON.parse(r.stdout);
    return { wall, resolve: doc.resolveMs, checkout: doc.checkoutMs, gatesPhase: doc.gatesMs, total: doc.durationMs };
  };

  // The first run in each ops dir mirrors the repo (a cold cache): measured on its own.
  const cold = { parallel: run(dirs.parallel), sequential: run(dirs.sequential, []) };
  const cases = {
    [`parallel, default --jobs (${availableParallelism()} CPUs)`]: [dirs.parallel, [], 1000 * Math.ceil(3 / availableParallelism())],
    'parallel, --jobs 3': [dirs.parallel, ['--jobs', '3'], 1000],
    sequential: [dirs.sequential, [], 3000],
  };
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const [name, [dir, extra]] of Object.entries(cases)) samples[name].push(run(dir, extra));
  }

  const rows = [];
  for (const [name, [, , ideal]] of Object.entries(cases)) {
    const s = samples[name];
    const m = (key) => median(s.map((x) => x[key]));
    const wall = m('wall');
    const checkout = m('checkout');
    const target = ideal === 1000 ? 1300 : undefined;
    rows.push({ name: `${name}: wall`, value: wall, unit: ' ms', digits: 0 });
    rows.push({ name: `  checkout (mirror up to date, clean work tree)`, value: checkout, unit: ' ms', digits: 0 });
    rows.push({ name: `  wall - checkout`, value: wall - checkout, unit: ' ms', digits: 0, target });
    rows.push({ name: `  gates phase (first gate start to last gate end)`, value: m('gatesPhase'), unit: ' ms', digits: 0 });
    rows.push({ name: `  ltc overhead (wall - checkout - ${ideal} ms of sleep)`, value: wall - checkout - ideal, unit: ' ms', digits: 0 });
    rows.push({ name: `    of it: process start, CLI, config load, exit`, value: median(s.map((x) => x.wall - x.total)), unit: ' ms', digits: 0 });
    rows.push({ name: `    of it: resolve the tag (ls-remote) + load exec adapter`, value: m('resolve'), unit: ' ms', digits: 0 });
    rows.push({ name: `    of it: gate spawning and recording`, value: median(s.map((x) => x.total - x.resolve - x.checkout)) - ideal, unit: ' ms', digits: 0 });
  }
  report(`ltc gates run: 3 gates x sleep 1 (median of ${RUNS} runs, warm mirror, --no-install)`, rows);
  report('first run in a fresh .ltc (cold mirror)', [
    { name: 'checkout with git clone --mirror', value: cold.parallel.checkout, unit: ' ms', digits: 0 },
    { name: 'wall (default --jobs)', value: cold.parallel.wall, unit: ' ms', digits: 0 },
  ]);
  const seq = median(samples.sequential.map((x) => x.wall));
  const par = median(samples['parallel, --jobs 3'].map((x) => x.wall));
  console.log(`\n  parallel (--jobs 3) is ${(seq / par).toFixed(2)}x faster than sequential`);
  if (availableParallelism() < 3) {
    console.log(`  note: this machine has ${availableParallelism()} CPUs; by default parallel gates are bounded by the CPU count, so 3 gates take ${Math.ceil(3 / availableParallelism())} rounds`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
