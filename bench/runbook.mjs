#!/usr/bin/env node
// Runbook engine overhead: a runbook of 200 `run: ["true"]` steps (journaled, fsync at each step
// end) against spawning `true` 200 times from plain Node, in the same process. Target ratio ≤ 1.3.
// Run `npm run build` first.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';

const STEPS = 200;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
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

async function plain() {
  const t = performance.now();
  for (let i = 0; i < STEPS; i++) await spawnTrue();
  return performance.now() - t;
}

/** The exec adapter alone (what a run step calls), to split the ratio into adapter and engine. */
async function adapter() {
  const t = performance.now();
  for (let i = 0; i < STEPS; i++) await execCommand(['true'], { onLine: () => undefined }, masker);
  return performance.now() - t;
}

async function runbook() {
  const t = performance.now();
  const summary = await runRunbook(file, {}, ctx, { render: 'plain' });
  if (summary.status !== 'ok' || summary.steps.length !== STEPS) throw new Error('bench runbook failed');
  return performance.now() - t;
}

await plain(); // warm-up: page cache, JIT
await adapter();
await runbook();
const plainTimes = [];
const adapterTimes = [];
const runbookTimes = [];
for (let r = 0; r < ROUNDS; r++) {
  plainTimes.push(await plain());
  adapterTimes.push(await adapter());
  runbookTimes.push(await runbook());
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p = median(plainTimes);
const rb = median(runbookTimes);
const ad = median(adapterTimes);
console.log(`runbook bench: ${STEPS} steps of run: ["true"], median of ${ROUNDS} rounds`);
console.log(`  plain Node spawn ×${STEPS}: ${p.toFixed(0)} ms (${(p / STEPS).toFixed(2)} ms each)`);
console.log(`  exec adapter ×${STEPS}:    ${ad.toFixed(0)} ms (${(ad / STEPS).toFixed(2)} ms each; src/exec/exec.ts alone)`);
console.log(`  runbook run:            ${rb.toFixed(0)} ms (${(rb / STEPS).toFixed(2)} ms per step)`);
console.log(`  ratio: ${(rb / p).toFixed(2)} (target ≤ 1.3); of it, exec adapter ${(ad / p).toFixed(2)}, engine ${(rb / ad).toFixed(2)}`);
await rm(dir, { recursive: true, force: true });
