#!/usr/bin/env node
// Runbook engine overhead: a runbook of 200 `run: ["true"]` steps (journaled: every event written
// before the next step, fsync at most once a second) against spawning `true` 200 times from plain
// Node, in the same process. Target ratio ≤ 1.3. Run `npm run build` first.
// Spawning costs more the more memory the process has mapped (fork copies its page tables), so
// garbage a run leaves behind shows up as slower spawns; on a shared machine the wall times swing
// with other load, hence paired rounds, the median of their ratios, and ltc's own CPU time.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

const STEPS = 200;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const dist = new URL('../dist/src/', import.meta.url);
const { runRunbook } = await import(new URL('runbook/api.js', dist));
const { createContext } = await import(new URL('core/context.js', dist));
const { Masker } = await import(new URL('core/masker.js', dist));
const { Output } = await import(new URL('core/output.js', dist));
const { Prompter } = await import(new URL('ui/prompt.js', dist));
const { execCommand } = await import(new URL('exec/exec.js', dist));

const dir = await mkdtemp(join(tmpdir(), 'ltc-bench-runbook-'));
const file = join(dir, 'bench.yaml');
await writeFile(file, ['name: bench', 'steps:', ...Array.from({ length: STEPS }, (_, i) => `  - id: s${i}\n    run: ["true"]`)].join('\n') + '\n');

const sink = new PassThrough();
sink.resume();
const masker = new Masker();
const ctx = createContext({
  cwd: dir,
  env: { ...process.env, LTC_STATE_DIR: join(dir, 'state') },
  options: { json: false, yes: false, dryRun: false, verbose: false, debug: false, color: false, approve: [] },
  out: new Output({ json: false, color: false, verbose: false, debug: false, masker, stdout: sink, stderr: sink }),
  masker,
  prompt: new Prompter({ interactive: false, yes: false, approvals: new Set() }),
  signal: new AbortController().signal,
  isTTY: false,
  ci: true,
});

const spawnTrue = () =>
  new Promise((resolve, reject) => {
    const child = spawn('true', [], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', resolve);
  });

/** Wall and this process's CPU time of one measured block. */
async function measure(fn) {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await fn();
  const wall = performance.now() - t;
  const c = process.cpuUsage(cpu);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

const plain = () =>
  measure(async () => {
    for (let i = 0; i < STEPS; i++) await spawnTrue();
  });

/** The exec adapter alone (what a run step calls), to split the ratio into adapter and engine. */
const adapter = () =>
  measure(async () => {
    for (let i = 0; i < STEPS; i++) await execCommand(['true'], { onLine: () => undefined }, masker);
  });

const runbook = () =>
  measure(async () => {
    const summary = await runRunbook(file, {}, ctx, { render: 'plain' });
    if (summary.status !== 'ok' || summary.steps.length !== STEPS) throw new Error('bench runbook failed');
  });

await plain(); // warm-up: page cache, JIT
await adapter();
await runbook();
// Each round measures the three back to back, in a rotating order, so a burst of load on a shared
// machine hits all of them alike; the ratio is the median of the rounds' own ratios.
const kinds = { plain, adapter, runbook };
const rounds = [];
for (let r = 0; r < ROUNDS; r++) {
  const names = Object.keys(kinds);
  const order = [...names.slice(r % 3), ...names.slice(0, r % 3)];
  const round = {};
  for (const name of order) round[name] = await kinds[name]();
  rounds.push(round);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const med = (name, field) => median(rounds.map((r) => r[name][field]));
const p = med('plain', 'wall');
const ad = med('adapter', 'wall');
const rb = med('runbook', 'wall');
const ratio = median(rounds.map((r) => r.runbook.wall / r.plain.wall));
const adapterRatio = median(rounds.map((r) => r.adapter.wall / r.plain.wall));
const engineRatio = median(rounds.map((r) => r.runbook.wall / r.adapter.wall));
const cpuRatio = median(rounds.map((r) => r.runbook.cpu / r.plain.cpu));
console.log(`runbook bench: ${STEPS} steps of run: ["true"], ${ROUNDS} rounds`);
console.log(`  plain Node spawn ×${STEPS}: ${p.toFixed(0)} ms (${(p / STEPS).toFixed(2)} ms each)`);
console.log(`  exec adapter ×${STEPS}:    ${ad.toFixed(0)} ms (${(ad / STEPS).toFixed(2)} ms each; src/exec/exec.ts alone)`);
console.log(`  runbook run:            ${rb.toFixed(0)} ms (${(rb / STEPS).toFixed(2)} ms per step)`);
console.log(`  ltc's own CPU: runbook ${med('runbook', 'cpu').toFixed(0)} ms vs plain ${med('plain', 'cpu').toFixed(0)} ms (ratio ${cpuRatio.toFixed(2)}; fork's share grows with the heap, other load does not count)`);
console.log(`  ratio: ${ratio.toFixed(2)} (target ≤ 1.3; median of per-round ratios); of it, exec adapter ${adapterRatio.toFixed(2)}, engine ${engineRatio.toFixed(2)}`);
await rm(dir, { recursive: true, force: true });
