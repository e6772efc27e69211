// `ltc secrets get <NAME>` (file backend, metadata) against `ltc --version`, interleaved in one
// run, plus what that command loads (the AWS SDK, node-vault, zod, yaml and commander must not).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LTC, compare, report } from './lib.mjs';

const dir = mkdtempSync(join(tmpdir(), 'ltc-bench-secrets-'));
try {
  writeFileSync(
    join(dir, 'ltc.config.yaml'),
    [
      'version: 1',
      'app: { repo: ./app }',
      'environments:',
      '  staging:',
      '    secrets:',
      '      backend: file',
      '      required:',
      '        - { name: LTC_SECRET_KEY, kind: secret_key }',
      '        - { name: DATABASE_PASSWORD, kind: password }',
      '',
    ].join('\n'),
  );
  const env = { ...process.env, LTC_MASTER_KEY: randomBytes(32).toString('base64'), NO_COLOR: '1', LTC_ENV: '', LTC_CONFIG: '', LTC_STATE_DIR: '' };
  const ltc = (...args) => {
    const r = spawnSync(process.execPath, [LTC, ...args], { cwd: dir, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ltc ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r;
  };
  // Two secrets with a few versions; the full path (generate) leaves the config cache the fast path reads.
  ltc('secrets', 'generate', 'LTC_SECRET_KEY');
  ltc('secrets', 'generate', 'DATABASE_PASSWORD');
  ltc('secrets', 'rotate', 'LTC_SECRET_KEY');

  // What `secrets get` loads: package names and ltc modules, through a resolve hook.
  const hook = join(dir, 'hook.mjs');
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); const m = r.url.match(/node_modules\\/((@[^/]+\\/)?[^/]+)/) ?? r.url.match(/\\/dist\\/(.*)$/); if (m && !seen.has(m[1])) { seen.add(m[1]); process.stderr.write('LOADED ' + m[1] + '\\n'); } return r; } });\n`,
  );
  const traced = spawnSync(process.execPath, ['--import', hook, LTC, 'secrets', 'get', 'LTC_SECRET_KEY'], { cwd: dir, env, encoding: 'utf8' });
  const loaded = traced.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
  const heavy = loaded.filter((m) => /^(@aws-sdk\/|@smithy\/|node-vault|axios|zod|yaml|commander|@secretlint\/|listr2|@inquirer\/)/.test(m));

  const opts = { cwd: dir, env };
  const m = compare(
    {
      version: [process.execPath, LTC, '--version'],
      get: [process.execPath, LTC, 'secrets', 'get', 'LTC_SECRET_KEY'],
      list: [process.execPath, LTC, 'secrets', 'list'],
      reveal: [process.execPath, LTC, 'secrets', 'get', 'LTC_SECRET_KEY', '--reveal', '--yes'],
    },
    21,
    opts,
  );
  report('secrets (file backend, median of 21 interleaved runs)', [
    { name: 'ltc --version', value: m.version, unit: ' ms', digits: 1 },
    { name: 'ltc secrets get LTC_SECRET_KEY', value: m.get, unit: ' ms', digits: 1 },
    { name: 'ltc secrets list (full CLI path)', value: m.list, unit: ' ms', digits: 1 },
    { name: 'ltc secrets get --reveal --yes (full path, decrypt, audit)', value: m.reveal, unit: ' ms', digits: 1 },
    { name: 'ratio secrets get / --version', value: m.get / m.version, target: 1.3 },
  ]);
  console.log(`  modules loaded by secrets get: ${loaded.join(', ')}`);
  console.log(`  heavy modules loaded by secrets get: ${heavy.length ? heavy.join(', ') + '  OVER TARGET' : 'none  ok'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
