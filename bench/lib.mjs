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
