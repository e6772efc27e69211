// `npm run bench [-- <name>...]`: runs every benchmark in bench/ (or the ones named, e.g.
// `npm run bench -- rollback health`) one after another, then prints ONE markdown table of every
// row measured against a floor (bench/lib.mjs emit), with date, machine and load average.
// BENCH_RUNS=<n> sets the rounds (default 11). Exits 1 when a bench failed or missed its goal.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TABLE_HEAD, tableRow } from './lib.mjs';

const dir = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
// The floor benches first (quick), the long ones (a deploy series, a 100 MB database) after.
const order = ['startup', 'health', 'rollback', 'history', 'runbook', 'gates'];
const rank = (f) => (order.indexOf(f.replace(/\.mjs$/, '')) + order.length + 1) % (order.length + 1);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs') && !['run.mjs', 'lib.mjs', 'fixture.mjs'].includes(f))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.mjs$/, '')))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
const tmp = mkdtempSync(join(tmpdir(), 'ltc-bench-out-'));
const out = join(tmp, 'rows.jsonl');
const loadStart = loadavg().map((x) => x.toFixed(2)).join(' ');
const started = new Date();
const failed = [];
for (const f of files) {
  console.log(`\n# bench/${f}`);
  const r = spawnSync(process.execPath, [join(dir, f)], { stdio: 'inherit', env: { ...process.env, BENCH_OUT: out } });
  if (r.status !== 0) failed.push(f);
}
let rows = [];
try {
  rows = readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
} catch {
  /* no bench emitted rows */
}
rmSync(tmp, { recursive: true, force: true });
const cpu = cpus();
console.log(`\n## All benches against their floors\n`);
console.log(`${started.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${cpu.length} × ${cpu[0]?.model ?? 'CPU'} · Linux ${release()} · Node ${process.versions.node} · load average at start ${loadStart}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')} · median of ${rows[0]?.runs ?? '?'} interleaved runs\n`);
for (const line of [...TABLE_HEAD, ...rows.map(tableRow)]) console.log(line);
const over = rows.filter((r) => r.goal !== undefined && r.ratio > r.goal);
if (over.length) console.log(`\n${over.length} row(s) over their goal: ${over.map((r) => `${r.bench}: ${r.case}`).join('; ')}`);
if (failed.length) console.log(`\nfailed or over a goal: ${failed.join(', ')}`);
process.exit(failed.length ? 1 : 0);
