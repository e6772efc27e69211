// Cost with history (issue 17 item 3): `ltc releases` and `ltc rollback --to <rc>` (until ltc
// exits) with revisions.log and .ltc/audit.jsonl padded to BENCH_HISTORY lines (default 100000:
// old records from 2025, a valid audit chain) against the same commands with the fixture's
// short history, interleaved (each case copies its history in before it runs, outside the
// timing). Goal: flat within 10 % (ratio ≤ 1.1).
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LTC, emit, interleave, timeProcess } from './lib.mjs';
import { deployedDemo } from './fixture.mjs';

const N = Number(process.env.BENCH_HISTORY ?? 100_000);
const sha = (t) => createHash('sha256').update(t).digest('hex');
const fx = await deployedDemo('history');
try {
  const revisions = join(fx.deployRoot, 'revisions.log');
  const audit = join(fx.ops, '.ltc', 'audit.jsonl');
  const head = join(fx.ops, '.ltc', 'audit.head');
  const files = [revisions, audit, head];
  const save = (suffix) => files.forEach((f) => copyFileSync(f, `${f}.${suffix}`));
  const restore = (suffix) => files.forEach((f) => copyFileSync(`${f}.${suffix}`, f));
  save('short');
  // Long: N old revision records before the real ones; an audit chain of N entries, then the real ones re-chained.
  const t0 = Date.parse('2025-01-01T00:00:00Z');
  const old = Array.from({ length: N }, (_, i) => JSON.stringify({ time: new Date(t0 + i * 60_000).toISOString(), actor: 'bench', action: 'deploy', environment: 'bench', rc: 'rc-2025-01-01', commit: null, release: `rc-2025-01-01-old${i}`, releaseDir: null, from: null, outcome: i % 5 ? 'ok' : 'failed', durationMs: 1000 }));
  writeFileSync(revisions, old.join('\n') + '\n' + readFileSync(`${revisions}.short`, 'utf8'));
  const real = readFileSync(`${audit}.short`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const lines = [];
  let prev = '0'.repeat(64);
  const push = (entry) => {
    const line = JSON.stringify({ ...entry, seq: lines.length + 1, prev });
    lines.push(line);
    prev = sha(line);
  };
  for (let i = 0; i < N; i++) push({ time: new Date(t0 + i * 60_000).toISOString(), actor: 'bench', action: 'secret.read', outcome: 'ok', secret: 'LTC_SECRET_KEY', environment: 'bench' });
  for (const e of real) push(e);
  writeFileSync(audit, lines.join('\n') + '\n');
  writeFileSync(head, JSON.stringify({ seq: lines.length, sha256: prev }) + '\n');
  save('long');

  let current = 'rc-2026-03-01';
  const next = () => (current = current === 'rc-2026-03-01' ? 'rc-2026-02-15' : 'rc-2026-03-01');
  const opts = { cwd: fx.ops, env: fx.env };
  const with_ = (suffix, argv) => () => {
    restore(suffix);
    return timeProcess(typeof argv === 'function' ? argv() : argv, opts);
  };
  const releases = [process.execPath, LTC, 'releases'];
  const rollback = () => [process.execPath, LTC, 'rollback', '--to', next()];
  const t = await interleave({
    releasesShort: with_('short', releases),
    releasesLong: with_('long', releases),
    rollbackShort: with_('short', rollback),
    rollbackLong: with_('long', rollback),
  });
  const short = `same, short history (${real.length} audit lines)`;
  emit('history', [
    { case: `ltc releases, ${N} lines of history`, ltc: t.releasesLong, floorName: short, floor: t.releasesShort, goal: 1.1 },
    { case: `ltc rollback --to <rc>, ${N} lines of history`, ltc: t.rollbackLong, floorName: short, floor: t.rollbackShort, goal: 1.1 },
  ]);
} finally {
  fx.cleanup();
}
