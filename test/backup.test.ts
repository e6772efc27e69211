/**
 * ltc backup and the database items of ltc golive check against a real PostgreSQL (Debian's,
 * started by test/helpers/postgres.ts on a free loopback port): encrypted dumps, restore
 * verification into a scratch database, altered and cut-short files, a wrong password, an
 * unreachable database, pruning, the alert webhook test message.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cleanupTempDirs, freePort, runLtc, tempDir } from './helpers/cli.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';
import { generateDemoApp } from '../src/demo/generate-app.js';

let pg: PostgresServer;
let dir: string;
let env: Record<string, string>;
let hook: Server;
let hookPort: number;
const received: string[] = [];
const APP_PASSWORD = randomBytes(18).toString('base64url');
const RC = 'rc-2026-03-01';

async function writeConfig(dbPort: number, more: Record<string, unknown> = {}): Promise<void> {
  await writeFile(
    join(dir, 'ltc.config.yaml'),
    stringify({
      version: 1,
      app: { repo: join(dir, 'app') },
      environments: {
        prod: {
          secrets: {
            backend: 'file',
            required: [
              { name: 'DB_PASSWORD', kind: 'password', length: 16 },
              { name: 'LTC_BACKUP_KEY', kind: 'secret_key' },
            ],
          },
          database: {
            host: '127.0.0.1',
            port: dbPort,
            name: 'appdb',
            user: 'app',
            password_secret: 'DB_PASSWORD',
            backup: { dir: 'backups', key_secret: 'LTC_BACKUP_KEY', sanity: [{ sql: 'select count(*) from items', expect: '3' }, { sql: "select name from items where id = 2", expect: 'bolt' }] },
          },
        },
      },
      golive: { alert_webhook: `http://127.0.0.1:${hookPort}/hook`, ...more },
    }),
  );
}
const ltc = (args: string[], input?: string) => runLtc(args, { cwd: dir, env, ...(input !== undefined ? { input } : {}) });
type Item = { item: string; status: string; evidence: string[]; fix?: string };
async function item(id: string, extra: string[] = []): Promise<Item> {
  const r = await ltc(['golive', 'check', '--rc', RC, '--env', 'prod', '--item', id, '--json', ...extra]);
  const doc = r.json as { items?: Item[] } | undefined;
  if (!doc?.items) throw new Error(`no JSON: ${r.stderr}`);
  return doc.items[0]!;
}
const index = async () => (JSON.parse(await readFile(join(dir, 'backups', 'index.json'), 'utf8')) as { backups: { id: string; file: string; size: number; sha256: string; verify?: { ok: boolean; error?: string; restoreMs: number } }[] }).backups;

beforeAll(async () => {
  pg = await startPostgres();
  await pg.sql(`create role app login createdb password '${APP_PASSWORD}'; create database appdb owner app;`);
  await pg.sql(`set role app; create table items (id int primary key, name text); insert into items values (1, 'nut'), (2, 'bolt'), (3, 'gear');`, 'appdb');
  dir = await tempDir('ltc-backup-');
  await generateDemoApp({ dir: join(dir, 'app') });
  hookPort = await freePort();
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(hookPort, '127.0.0.1', r));
  env = { LTC_MASTER_KEY: randomBytes(32).toString('base64'), XDG_CACHE_HOME: join(dir, '.cache') };
  await writeConfig(pg.port);
  expect((await ltc(['secrets', 'set', 'DB_PASSWORD', '--env', 'prod'], APP_PASSWORD)).code).toBe(0);
  expect((await ltc(['secrets', 'generate', 'LTC_BACKUP_KEY', '--env', 'prod'])).code).toBe(0);
}, 180_000);

afterAll(async () => {
  hook?.close();
  await pg?.close();
  await cleanupTempDirs();
});

describe('ltc backup', () => {
  it('create writes an encrypted dump of mode 0600 with checksum, size and duration in the index; verify restores it and runs the sanity queries', async () => {
    const c = await ltc(['backup', 'create', '--env', 'prod', '--json']);
    expect(c.code, c.stderr).toBe(0);
    const [b] = await index();
    const file = join(dir, 'backups', b!.file);
    const st = await stat(file);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.size).toBe(b!.size);
    const bytes = await readFile(file);
    expect(bytes.subarray(0, 7).toString()).toBe('LTCBK1\n');
    expect(bytes.includes(Buffer.from('PGDMP'))).toBe(false); // pg_dump's custom-format magic: not in clear
    expect(bytes.includes(Buffer.from('bolt'))).toBe(false);
    const v = await ltc(['backup', 'verify', '--env', 'prod']);
    expect(v.code, v.stderr + v.stdout).toBe(0);
    expect(v.stdout).toMatch(/verified: restored into a scratch database in .*2 sanity queries passed/);
    const [after] = await index();
    expect(after!.verify).toMatchObject({ ok: true });
    expect(after!.verify!.restoreMs).toBeGreaterThan(0);
    expect(await pg.sql("select count(*) from pg_database where datname like 'ltc_verify_%'")).toMatch(/^0/);
    const audit = await readFile(join(dir, '.ltc', 'audit.jsonl'), 'utf8');
    expect(audit).toMatch(/"action":"backup\.create","outcome":"ok"/);
    expect(audit).toMatch(/"action":"backup\.verify","outcome":"ok"/);
    expect(audit).not.toContain(APP_PASSWORD);
    expect(c.stdout + c.stderr + v.stdout + v.stderr).not.toContain(APP_PASSWORD);
  }, 60_000);

  it('the golive items: database login, connections, backup verified, and the alert webhook test message', async () => {
    const login = await item('database.login');
    expect(login.status, login.evidence.join('\n')).toBe('passed');
    expect(login.evidence[0]).toMatch(/logged in as app@127\.0\.0\.1:\d+\/appdb with the password from DB_PASSWORD/);
    const conn = await item('database.connections');
    expect(conn.status, conn.evidence.join('\n')).toBe('passed');
    expect(conn.evidence[0]).toMatch(/\d+ of max_connections \d+ in use/);
    const bk = await item('backup.verified');
    expect(bk.status, bk.evidence.join('\n')).toBe('passed');
    const before = await item('alerts.webhook');
    expect(before.status).toBe('failed');
    expect(before.evidence[0]).toBe('no test alert recorded');
    const sent = await item('alerts.webhook', ['--send-test-alert']);
    expect(sent.status, sent.evidence.join('\n')).toBe('passed');
    expect(received.at(-1)).toMatch(/test alert for rc-2026-03-01 on prod/);
    expect((await item('alerts.webhook')).status).toBe('passed');
  }, 60_000);

  it('a sanity query with an unexpected result fails verify (exit 1), recorded in the index', async () => {
    await pg.sql("insert into items values (4, 'spring')", 'appdb');
    expect((await ltc(['backup', 'create', '--env', 'prod'])).code).toBe(0);
    const v = await ltc(['backup', 'verify', '--env', 'prod']);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/FAILED verification: sanity query "select count\(\*\) from items" returned "4", expected "3"/);
    expect((await index()).at(-1)!.verify).toMatchObject({ ok: false });
    expect((await item('backup.verified')).status).toBe('failed');
    await pg.sql('delete from items where id = 4', 'appdb');
  }, 60_000);

  it('an altered or cut-short backup fails verify with exit 1 and the index says so', async () => {
    expect((await ltc(['backup', 'create', '--env', 'prod'])).code).toBe(0);
    const b = (await index()).at(-1)!;
    const file = join(dir, 'backups', b.file);
    const bytes = await readFile(file);
    bytes[200] = bytes[200]! ^ 0xff;
    await writeFile(file, bytes);
    const v = await ltc(['backup', 'verify', '--env', 'prod', '--json']);
    expect(v.code).toBe(1);
    expect((await index()).at(-1)!.verify!.error).toMatch(/does not match its index entry.*cut short or altered/);
    // The index entry rewritten to match the altered file: the GCM tag still catches it.
    const all = JSON.parse(await readFile(join(dir, 'backups', 'index.json'), 'utf8')) as { backups: { sha256: string; verify?: unknown }[] };
    const { createHash } = await import('node:crypto');
    all.backups.at(-1)!.sha256 = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(dir, 'backups', 'index.json'), JSON.stringify(all));
    const v2 = await ltc(['backup', 'verify', '--env', 'prod']);
    expect(v2.code).toBe(1);
    expect((await index()).at(-1)!.verify!.error).toMatch(/decrypting .* failed|pg_restore/);
    expect(await pg.sql("select count(*) from pg_database where datname like 'ltc_verify_%'")).toMatch(/^0/);
    expect((await ltc(['backup', 'create', '--env', 'prod'])).code).toBe(0);
    const c = (await index()).at(-1)!;
    await truncate(join(dir, 'backups', c.file), Math.floor(c.size / 2));
    const v3 = await ltc(['backup', 'verify', '--env', 'prod']);
    expect(v3.code).toBe(1);
    expect(v3.stdout).toMatch(/cut short or altered/);
  }, 90_000);

  it('prune --keep N removes the oldest backups and their files; a bad --keep is refused', async () => {
    const bad = await ltc(['backup', 'prune', '--env', 'prod', '--keep', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--keep "0" is not a count/);
    const before = await index();
    const r = await ltc(['backup', 'prune', '--env', 'prod', '--keep', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const after = await index();
    expect(after.map((b) => b.id)).toEqual([before.at(-1)!.id]);
    for (const b of before.slice(0, -1)) await expect(stat(join(dir, 'backups', b.file))).rejects.toThrow();
  });

  it('a wrong password in the secret backend fails database.login with the fix, and backup create exits 1', async () => {
    expect((await ltc(['secrets', 'set', 'DB_PASSWORD', '--env', 'prod'], 'not-the-password-at-all')).code).toBe(0);
    const login = await item('database.login');
    expect(login.status).toBe('failed');
    expect(login.evidence[0]).toMatch(/password authentication failed.*28P01/);
    expect(login.fix).toMatch(/ltc secrets rotate DB_PASSWORD --env prod/);
    const c = await ltc(['backup', 'create', '--env', 'prod']);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/pg_dump .* failed/);
    expect(c.stderr).toMatch(/does not match role app/);
    expect(c.stderr).not.toContain('not-the-password-at-all');
    expect((await ltc(['secrets', 'set', 'DB_PASSWORD', '--env', 'prod'], APP_PASSWORD)).code).toBe(0);
  }, 60_000);

  it('an unreachable database fails database.login and connections', async () => {
    await writeConfig(await freePort());
    const login = await item('database.login');
    expect(login.status).toBe('failed');
    expect(login.evidence[0]).toMatch(/cannot log in as app@127\.0\.0\.1:\d+\/appdb: .*ECONNREFUSED/);
    expect((await item('database.connections')).status).toBe('failed');
    await writeConfig(pg.port);
  });
});
