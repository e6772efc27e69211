/**
 * The deploy and the go-live checklist together, from the built binary: a deploy to a protected
 * environment with a database takes an encrypted backup of the real PostgreSQL before its switch
 * (and a backup that cannot be taken stops the deploy before the switch, current untouched); the
 * deploy's smoke tests and log scan land in revisions.log, which staging.smoke reads.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { cleanupTempDirs, freePort } from './helpers/cli.js';
import { audit, currentRelease, makeStage, revisions, type Stage } from './helpers/deploy.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';

let pg: PostgresServer;
let stage: Stage;
const APP_PASSWORD = randomBytes(18).toString('base64url');
const cfgFile = () => join(stage.ops, 'ltc.config.yaml');

type Item = { item: string; status: string; evidence: string[]; fix?: string };
async function item(id: string, rc: string): Promise<Item> {
  const r = await stage.ltc(['golive', 'check', '--rc', rc, '--env', 'staging', '--item', id, '--json']);
  const doc = r.json as { items?: Item[] } | undefined;
  if (!doc?.items) throw new Error(`no JSON from golive check: ${r.stderr}`);
  return doc.items[0]!;
}
const backups = async () => {
  const f = join(stage.ops, 'backups', 'index.json');
  return existsSync(f) ? (JSON.parse(await readFile(f, 'utf8')) as { backups: { id: string; created: string; size: number }[] }).backups : [];
};
async function setDbPort(port: number): Promise<void> {
  const c = parse(await readFile(cfgFile(), 'utf8')) as { environments: { staging: { database: { port: number } } } };
  c.environments.staging.database.port = port;
  const { writeFile } = await import('node:fs/promises');
  await writeFile(cfgFile(), stringify(c));
}

beforeAll(async () => {
  pg = await startPostgres();
  await pg.sql(`create role app login createdb password '${APP_PASSWORD}'; create database appdb owner app;`);
  await pg.sql(`set role app; create table items (id int primary key, name text); insert into items values (1, 'nut'), (2, 'bolt');`, 'appdb');
  stage = await makeStage({
    target: {
      smoke: [['node', '-e', "fetch(process.env.LTC_URL + '/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]],
    },
    environment: {
      protected: true,
      secrets: {
        backend: 'file',
        required: [
          { name: 'LTC_SECRET_KEY', kind: 'secret_key' },
          { name: 'DB_PASSWORD', kind: 'password', length: 16 },
          { name: 'LTC_BACKUP_KEY', kind: 'secret_key' },
        ],
      },
      database: {
        host: '127.0.0.1',
        port: pg.port,
        name: 'appdb',
        user: 'app',
        password_secret: 'DB_PASSWORD',
        backup: { dir: 'backups', key_secret: 'LTC_BACKUP_KEY', sanity: [{ sql: 'select count(*) from items', expect: '2' }] },
      },
    },
  });
  const { runLtc } = await import('./helpers/cli.js');
  expect((await runLtc(['secrets', 'set', 'DB_PASSWORD', '--env', 'staging'], { cwd: stage.ops, env: stage.env, input: APP_PASSWORD })).code).toBe(0);
  expect((await stage.ltc(['secrets', 'generate', 'LTC_BACKUP_KEY', '--env', 'staging'])).code).toBe(0);
}, 180_000);

afterAll(async () => {
  if (stage) await stage.ltc(['stop', '--env', 'staging', '--yes']).catch(() => undefined);
  await pg?.close();
  await cleanupTempDirs();
});

describe('deploy to a protected environment with a database', () => {
  it('takes an encrypted backup before the switch; the backup verifies; smoke and log scan are recorded and pass staging.smoke', async () => {
    const d = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging', '--skip-gates', '--yes']);
    expect(d.code, d.stderr).toBe(0);
    const list = await backups();
    expect(list).toHaveLength(1);
    const rev = revisions(stage).filter((r) => r.action === 'deploy');
    expect(rev.at(-1)?.outcome).toBe('ok');
    // the audit log has the backup before the deploy's record (the next test shows it runs before the switch)
    const a = await audit(stage);
    const iBackup = a.findIndex((e) => e.action === 'backup.create' && e.outcome === 'ok');
    const iDeploy = a.findIndex((e) => e.action === 'deploy' && e.outcome === 'ok');
    expect(iBackup).toBeGreaterThanOrEqual(0);
    expect(iBackup).toBeLessThan(iDeploy);
    const v = await stage.ltc(['backup', 'verify', '--env', 'staging']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const raw = (await readFile(join(stage.deployRoot, 'revisions.log'), 'utf8')).trim().split('\n').at(-1)!;
    expect(JSON.parse(raw).verified).toEqual({ smoke: 1, logScan: { scanned: expect.any(Number), patterns: 2 } });
    const smoke = await item('staging.smoke', 'rc-2026-02-15');
    expect(smoke.status, smoke.evidence.join('\n')).toBe('passed');
    expect(smoke.evidence.join('\n')).toMatch(/1 smoke test\(s\) passed\nlog scan: \d+ line\(s\) of the app log, none matched 2 pattern\(s\)/);
    const b = await item('backup.verified', 'rc-2026-02-15');
    expect(b.status, b.evidence.join('\n')).toBe('passed');
  });

  it('a backup that cannot be taken (database unreachable) stops the deploy before the switch: current stays, no backup indexed', async () => {
    const before = currentRelease(stage);
    expect(before).toMatch(/^rc-2026-02-15-/);
    await setDbPort(await freePort());
    try {
      const d = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--skip-gates', '--yes']);
      expect(d.code).not.toBe(0);
      expect(d.stderr).toMatch(/pg_dump of appdb at 127\.0\.0\.1:\d+ failed/);
      expect(currentRelease(stage)).toBe(before);
      // failed before the switch: nothing to roll back (after the switch it would be rolled_back)
      const last = revisions(stage).at(-1)!;
      expect(last).toMatchObject({ action: 'deploy', rc: 'rc-2026-03-01', outcome: 'failed' });
      expect(await backups()).toHaveLength(1);
      expect(d.stderr + d.stdout).not.toContain(APP_PASSWORD);
      const never = await item('staging.deployed', 'rc-2026-03-01');
      expect(never.status).toBe('failed');
    } finally {
      await setDbPort(pg.port);
    }
  });
});
