// ltc golive check on the demo (concurrent vs one check at a time) and ltc backup create + verify
// of a ~100 MB PostgreSQL database vs plain pg_dump + pg_restore of the same database.
// Run after `npm run build`: node bench/golive.mjs   (BENCH_RUNS=11 (at least 11), BENCH_DB_MB=100,
// BENCH_BACKUP_RUNS=3 by default; BENCH_ONLY=golive or =backup runs one part). The golive check is
// timed interleaved with a floor (node -e 0): median, min and max of each.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { LTC, median, report } from './lib.mjs';

const RC = 'rc-2026-03-01';
const node = process.execPath;
const env = { ...process.env, NO_COLOR: '1', CI: 'true' };

function ltc(args, cwd, extraEnv = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(node, [LTC, ...args], { cwd, env: { ...env, ...extraEnv }, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// ---------------------------------------------------------------- golive check on the demo
const work = mkdtempSync(join(tmpdir(), 'ltc-bench-golive-'));
try {
  if (process.env.BENCH_ONLY === 'backup') throw Object.assign(new Error('skipped'), { skipped: true });
  const demo = ltc(['demo', '--dir', work], process.cwd());
  if (demo.code !== 0) throw new Error(`ltc demo failed:\n${demo.stderr.slice(-2000)}`);
  const ops = join(work, 'ops');
  const dep = ltc(['deploy', '--rc', RC], ops); // the demo stops its app at the end: start it again for the health items
  if (dep.code !== 0) throw new Error(`deploy failed: ${dep.stderr}`);
  const cfgFile = join(ops, 'ltc.config.yaml');
  const base = readFileSync(cfgFile, 'utf8');
  const withConcurrency = (n) => {
    const c = parse(base);
    c.golive = { ...(c.golive ?? {}), concurrency: n };
    writeFileSync(cfgFile, stringify(c));
  };
  const runs = Math.max(11, Number(process.env.BENCH_RUNS ?? 11));
  const floor = [], conc = [], seq = [], concInner = [], seqInner = [], sums = [];
  let items = 0;
  // Interleaved: per round the floor (node -e 0), the concurrent check, the one-at-a-time check.
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(node, ['-e', '0'], { env, stdio: 'ignore' });
    floor.push(Number(process.hrtime.bigint() - t0) / 1e6);
    withConcurrency(6);
    const a = ltc(['golive', 'check', '--rc', RC, '--json'], ops);
    if (a.code !== 0 && a.code !== 1) throw new Error(`golive check exited ${a.code}: ${a.stderr}`);
    const da = JSON.parse(a.stdout);
    items = da.items.length;
    conc.push(a.ms);
    concInner.push(da.durationMs);
    sums.push(da.items.reduce((s, x) => s + x.durationMs, 0));
    withConcurrency(1);
    const b = ltc(['golive', 'check', '--rc', RC, '--json'], ops);
    seq.push(b.ms);
    seqInner.push(JSON.parse(b.stdout).durationMs);
  }
  writeFileSync(cfgFile, base);
  ltc(['stop'], ops);
  const st = (v) => `${median(v).toFixed(0)} ms (min ${Math.min(...v).toFixed(0)}, max ${Math.max(...v).toFixed(0)})`;
  report(`ltc golive check on the demo (${items} items, ${runs} interleaved runs; median (min, max))`, [
    { name: 'floor: node -e 0', value: st(floor) },
    { name: 'ltc golive check, concurrent (golive.concurrency 6)', value: st(conc) },
    { name: 'ltc golive check, one at a time (golive.concurrency 1)', value: st(seq) },
    { name: 'concurrent minus floor', value: `${(median(conc) - median(floor)).toFixed(0)} ms` },
    { name: 'concurrent: checks phase (record durationMs)', value: st(concInner) },
    { name: 'one at a time: checks phase', value: st(seqInner) },
    { name: 'sum of the item durations in the concurrent run', value: st(sums) },
    { name: 'checks phase: concurrent / one at a time', value: median(concInner) / median(seqInner), unit: '×', target: 0.5 },
    { name: 'checks phase: concurrent / sum of its item durations', value: median(concInner) / median(sums), unit: '×', target: 0.5 },
    { name: 'process wall: concurrent / one at a time', value: median(conc) / median(seq), unit: '×' },
    { name: 'process wall: concurrent / floor', value: median(conc) / median(floor), unit: '×' },
  ]);
} catch (err) {
  if (!err.skipped) throw err;
} finally {
  spawnSync(node, [LTC, 'stop'], { cwd: join(work, 'ops'), env, stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}

// ---------------------------------------------------------------- backup of a ~100 MB database
if (process.env.BENCH_ONLY === 'golive') process.exit(0);
function pgBin() {
  const root = '/usr/lib/postgresql';
  const v = existsSync(root) ? readdirSync(root).filter((x) => existsSync(join(root, x, 'bin', 'initdb'))).sort((a, b) => b - a)[0] : undefined;
  if (!v) throw new Error('PostgreSQL not found: install the Debian package "postgresql"');
  return join(root, v, 'bin');
}
const freePort = () => new Promise((res) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
const bin = pgBin();
const asRoot = process.getuid() === 0;
const pgdir = mkdtempSync(join(tmpdir(), 'ltc-bench-pg-'));
const as = (file, args) => execFileSync(asRoot ? 'runuser' : file, asRoot ? ['-u', 'postgres', '--', file, ...args] : args, { cwd: pgdir, stdio: 'pipe' });
const password = randomBytes(18).toString('base64url');
const port = await freePort();
const data = join(pgdir, 'data');
writeFileSync(join(pgdir, 'pw'), password + '\n', { mode: 0o600 });
if (asRoot) {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString()), gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
  chownSync(pgdir, uid, gid);
  chownSync(join(pgdir, 'pw'), uid, gid);
}
as(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', `--pwfile=${join(pgdir, 'pw')}`, '--auth-host=scram-sha-256', '--auth-local=trust', '--no-sync', '-E', 'UTF8', '--no-locale']);
as(join(bin, 'pg_ctl'), ['-D', data, '-l', join(pgdir, 'log'), '-w', '-o', `-p ${port} -k ${pgdir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
const pgEnv = { ...process.env, PGPASSWORD: password, PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: 'postgres' };
const psql = (sql, db = 'postgres') => execFileSync(join(bin, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql], { env: pgEnv }).toString().trim();
const ops = mkdtempSync(join(tmpdir(), 'ltc-bench-backup-'));
try {
  const mb = Number(process.env.BENCH_DB_MB ?? 100);
  psql('create database appdb');
  const rows = Math.round((mb * 1024 * 1024) / 270);
  psql(`create table items as select i as id, md5(i::text) || md5((i*7)::text) || repeat(md5((i*13)::text), 6) as pad from generate_series(1, ${rows}) i; alter table items add primary key (id)`, 'appdb');
  const size = psql("select pg_size_pretty(pg_database_size('appdb'))");
  writeFileSync(join(ops, 'ltc.config.yaml'), stringify({
    version: 1,
    app: { repo: ops },
    environments: {
      prod: {
        secrets: { backend: 'file', required: [{ name: 'DB_PASSWORD', kind: 'password' }, { name: 'LTC_BACKUP_KEY', kind: 'secret_key' }] },
        database: { host: '127.0.0.1', port, name: 'appdb', user: 'postgres', password_secret: 'DB_PASSWORD', backup: { dir: 'backups', key_secret: 'LTC_BACKUP_KEY', sanity: [{ sql: 'select count(*) from items', expect: String(rows) }] } },
      },
    },
  }));
  const benv = { LTC_MASTER_KEY: randomBytes(32).toString('base64') };
  const set = spawnSync(node, [LTC, 'secrets', 'set', 'DB_PASSWORD', '--env', 'prod'], { cwd: ops, env: { ...env, ...benv }, input: password });
  if (set.status !== 0) throw new Error(set.stderr.toString());
  ltc(['secrets', 'generate', 'LTC_BACKUP_KEY', '--env', 'prod'], ops, benv);
  const runs = Number(process.env.BENCH_BACKUP_RUNS ?? 3);
  const plain = [], plainDump = [], ours = [], oursCreate = [], oursVerify = [], innerCreate = [], innerRestore = [];
  for (let i = 0; i < runs; i++) {
    const f = join(ops, 'plain.dump');
    const t0 = process.hrtime.bigint();
    execFileSync(join(bin, 'pg_dump'), ['-Fc', '-Z', '1', '-d', 'appdb', '-f', f], { env: pgEnv });
    plainDump.push(Number(process.hrtime.bigint() - t0) / 1e6);
    psql('create database scratch');
    execFileSync(join(bin, 'pg_restore'), ['--no-owner', '--no-privileges', '--exit-on-error', '-d', 'scratch', f], { env: pgEnv });
    psql('select count(*) from items', 'scratch');
    psql('drop database scratch');
    plain.push(Number(process.hrtime.bigint() - t0) / 1e6);
    rmSync(f);
    const c = ltc(['backup', 'create', '--env', 'prod'], ops, benv);
    if (c.code !== 0) throw new Error(c.stderr);
    const v = ltc(['backup', 'verify', '--env', 'prod'], ops, benv);
    if (v.code !== 0) throw new Error(v.stdout + v.stderr);
    oursCreate.push(c.ms);
    const listed = JSON.parse(ltc(['backup', 'list', '--env', 'prod', '--json'], ops, benv).stdout).backups.at(-1);
    innerCreate.push(listed.durationMs);
    innerRestore.push(listed.verify.restoreMs);
    oursVerify.push(v.ms);
    ours.push(c.ms + v.ms);
    ltc(['backup', 'prune', '--env', 'prod', '--keep', '1'], ops, benv);
  }
  report(`ltc backup create + verify of a ${size} database (median of ${runs})`, [
    { name: 'pg_dump -Fc -Z1 + createdb + pg_restore + count + dropdb', value: median(plain), unit: 'ms', digits: 0 },
    { name: 'of it: plain pg_dump -Fc -Z1 to a file', value: median(plainDump), unit: 'ms', digits: 0 },
    { name: 'ltc backup create (dump, AES-256-GCM, sha256, index)', value: median(oursCreate), unit: 'ms', digits: 0 },
    { name: 'of it: the dump (index durationMs)', value: median(innerCreate), unit: 'ms', digits: 0 },
    { name: 'ltc backup verify (sha256, decrypt, restore, sanity, drop)', value: median(oursVerify), unit: 'ms', digits: 0 },
    { name: 'of it: checksum + decrypt + restore (index restoreMs)', value: median(innerRestore), unit: 'ms', digits: 0 },
    { name: 'ltc create + verify / plain', value: median(ours) / median(plain), unit: '×', target: 1.2 },
  ]);
} finally {
  try { as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']); } catch {}
  rmSync(pgdir, { recursive: true, force: true });
  rmSync(ops, { recursive: true, force: true });
}
