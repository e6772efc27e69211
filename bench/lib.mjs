// Small helpers shared by the benchmarks: timing of whole commands, medians, ratios.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const LTC = join(ROOT, 'bin', 'ltc.js');

export function timeCommand(argv, opts = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: opts.stdio ?? 'ignore', cwd: opts.cwd, env: { ...process.env, ...opts.env } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (opts.expectExit !== undefined && r.status !== opts.expectExit) {
    throw new Error(`${argv.join(' ')} exited ${r.status}, expected ${opts.expectExit}`);
  }
  return ms;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Runs each command `runs` times, interleaved, and returns medians in ms. */
export function compare(commands, runs = 15, opts = {}) {
  const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, argv] of Object.entries(commands)) times[name].push(timeCommand(argv, opts));
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

export function report(title, rows) {
  console.log(`\n## ${title}`);
  for (const r of rows) {
    const verdict = r.target === undefined ? '' : r.value <= r.target ? '  ok' : '  OVER TARGET';
    console.log(`  ${r.name.padEnd(56)} ${typeof r.value === 'number' ? r.value.toFixed(r.digits ?? 2) : r.value}${r.unit ?? ''}${r.target !== undefined ? ` (target ≤ ${r.target}${r.unit ?? ''})` : ''}${verdict}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Floors (issue 17): every figure is a case measured against a floor in the same run, interleaved
// (the order rotates each round, so a burst of load hits both alike), the median of ≥ 11 rounds
// with min and max, and the load average while it ran. BENCH_RUNS overrides the round count.
// Each bench prints its rows as a markdown table; under `npm run bench` (BENCH_OUT set) the rows
// also go to a JSON-lines file from which bench/run.mjs prints one table of every bench.
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';

export const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 11));

export function stats(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

export const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/**
 * Runs every case `runs` times, interleaved in a rotating order; a case is a function returning
 * its time in ms (or a promise of it). `warmup` runs each once first (not counted).
 */
export async function interleave(cases, runs = RUNS, { warmup = true } = {}) {
  const names = Object.keys(cases);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  if (warmup) for (const n of names) await cases[n]();
  for (let r = 0; r < runs; r++) {
    const order = [...names.slice(r % names.length), ...names.slice(0, r % names.length)];
    for (const n of order) samples[n].push(await cases[n]());
  }
  return Object.fromEntries(names.map((n) => [n, stats(samples[n])]));
}

/** Wall time in ms of one process, run to its exit; throws on another exit code than expected. */
export function timeProcess(argv, opts = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const expect = opts.expectExit ?? 0;
  if (expect !== null && r.status !== expect) {
    throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}, expected ${expect}: ${String(r.stderr).slice(-1500)}${String(r.stdout).slice(-500)}`);
  }
  return ms;
}

const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`);
const span = (s) => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;

export const TABLE_HEAD = [
  '| bench | case | ltc: median (min–max) | floor | floor: median (min–max) | ratio | goal | load |',
  '|---|---|---|---|---|---|---|---|',
];

export function tableRow(r) {
  const verdict = r.goal === undefined ? '' : r.ratio <= r.goal ? ' ok' : ' **over**';
  return `| ${r.bench} | ${r.case} | ${span(r.ltc)} | ${r.floorName} | ${span(r.floor)} | ${r.ratio.toFixed(2)}× | ${r.goal === undefined ? '–' : `≤ ${r.goal}×${verdict}`} | ${r.load} |`;
}

/**
 * Prints the rows of one bench as a markdown table (and appends them to BENCH_OUT). A row:
 * { case, ltc: stats, floorName, floor: stats, goal? } — ratio = median / floor median.
 * Sets exit code 1 when a row misses its goal (item 4), unless BENCH_NO_FAIL is set.
 */
export function emit(bench, rows) {
  const l = load();
  const full = rows.map((r) => ({ bench, load: l, ...r, ratio: r.ltc.median / r.floor.median, runs: r.ltc.n }));
  console.log(`\n### ${bench} (median of ${full[0]?.runs ?? 0} interleaved runs; load average ${l})\n`);
  for (const line of [...TABLE_HEAD, ...full.map(tableRow)]) console.log(line);
  if (process.env.BENCH_OUT) appendFileSync(process.env.BENCH_OUT, full.map((r) => JSON.stringify(r) + '\n').join(''));
  if (full.some((r) => r.goal !== undefined && r.ratio > r.goal) && !process.env.BENCH_NO_FAIL) process.exitCode = 1;
  return full;
}
