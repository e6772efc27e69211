/**
 * Rotation of a real PostgreSQL role password (Debian's postgresql, started per test file):
 * the four steps, a failing test step, and rotations killed with SIGKILL then finished by the
 * next run.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from './helpers/cli.js';
import { startPostgres, type PostgresServer } from './helpers/postgres.js';
import { makeOps, type Ops } from './helpers/secrets.js';

let server: PostgresServer;

async function login(user: string, password: string): Promise<'ok' | string> {
  const client = new pg.Client({ host: server.host, port: server.port, user, password, database: 'postgres', connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const r = await client.query<{ u: string }>('SELECT current_user AS u');
    return r.rows[0]?.u === user ? 'ok' : `logged in as ${r.rows[0]?.u}`;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function reveal(ops: Ops, name: string, stage = 'current'): Promise<string> {
  const r = await ops.ltc(['secrets', 'get', name, '--stage', stage, '--reveal', '--yes', '--env', 'staging']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

async function describeSecret(ops: Ops, name: string): Promise<{ versions: Array<{ id: string; stages: string[] }> }> {
  const r = await ops.ltc(['secrets', 'get', name, '--env', 'staging', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (r.json as { secret: { versions: Array<{ id: string; stages: string[] }> } }).secret;
}

function stageOf(d: { versions: Array<{ id: string; stages: string[] }> }, stage: string): string | undefined {
  return d.versions.find((v) => v.stages.includes(stage))?.id;
}

async function auditActions(ops: Ops): Promise<Array<{ action: string; outcome: string; secret?: string }>> {
  const text = await readFile(join(ops.dir, '.ltc', 'audit.jsonl'), 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string; secret?: string });
}

/** An ops folder whose DATABASE_PASSWORD is the password of a fresh role `role`. */
async function opsWithRole(role: string, rotate: Record<string, unknown>, opts: { nologin?: boolean; adminSecret?: boolean } = {}): Promise<{ ops: Ops; initial: string }> {
  const ops = await makeOps({
    staging: {
      secrets: {
        backend: 'file',
        required: [
          { name: 'DATABASE_PASSWORD', kind: 'password', rotate: { postgres: { host: server.host, port: server.port, database: 'postgres', role, ...rotate } } },
          ...(opts.adminSecret ? [{ name: 'PG_ADMIN_PASSWORD', kind: 'string' }] : []),
        ],
      },
    },
  });
  const gen = await ops.ltc(['secrets', 'generate', 'DATABASE_PASSWORD', '--env', 'staging']);
  expect(gen.code, gen.stderr).toBe(0);
  const initial = await reveal(ops, 'DATABASE_PASSWORD');
  await server.sql(`CREATE ROLE "${role}" ${opts.nologin ? 'NOLOGIN' : 'LOGIN'} PASSWORD '${initial}'`);
  if (opts.adminSecret) {
    const set = await ops.ltc(['secrets', 'set', 'PG_ADMIN_PASSWORD', '--env', 'staging'], { input: server.password });
    expect(set.code, set.stderr).toBe(0);
  }
  return { ops, initial };
}

beforeAll(async () => {
  server = await startPostgres();
});

afterAll(async () => {
  await server?.close();
  await cleanupTempDirs();
});

describe('secrets rotate with PostgreSQL', () => {
  it('rotates a role password in four steps: the new one logs in, the old one no longer does', async () => {
    const { ops, initial } = await opsWithRole('app_self', {});
    expect(await login('app_self', initial)).toBe('ok');
    // The server logs every statement: the new password must not be among them.
    await server.sql("ALTER SYSTEM SET log_statement = 'all'");
    await server.sql('SELECT pg_reload_conf()');

    const r = await ops.ltc(['secrets', 'rotate', 'DATABASE_PASSWORD', '--env', 'staging', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, secret: 'DATABASE_PASSWORD', current: '2', previous: '1', resumed: false });

    const now = await reveal(ops, 'DATABASE_PASSWORD');
    expect(now).not.toBe(initial);
    expect(now).toHaveLength(32);
    expect(now).not.toMatch(/[/@"'\\]/);
    expect(await login('app_self', now)).toBe('ok');
    expect(await login('app_self', initial)).toBe('28P01');
    expect(await reveal(ops, 'DATABASE_PASSWORD', 'previous')).toBe(initial);

    // The password went over the wire as a SCRAM verifier: the server holds no plain text.
    const stored = await server.sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'app_self'");
    expect(stored.trim()).toMatch(/^SCRAM-SHA-256\$4096:/);
    const log = await readFile(join(server.dir, 'server.log'), 'utf8');
    expect(log).toMatch(/ALTER ROLE "app_self" PASSWORD 'SCRAM-SHA-256\$4096:/);
    for (const v of [now, initial, encodeURIComponent(now), Buffer.from(now).toString('base64')]) expect(log).not.toContain(v);
    await server.sql('ALTER SYSTEM RESET log_statement');
    await server.sql('SELECT pg_reload_conf()');

    const actions = (await auditActions(ops)).filter((a) => a.action.startsWith('secret.rotate'));
    expect(actions.map((a) => `${a.action}:${a.outcome}`)).toEqual([
      'secret.rotate:started',
      'secret.rotate.create:ok',
      'secret.rotate.set:ok',
      'secret.rotate.test:ok',
      'secret.rotate.finish:ok',
      'secret.rotate:ok',
    ]);
    expect(existsSync(join(ops.dir, '.ltc', 'rotations', 'staging', 'DATABASE_PASSWORD.json'))).toBe(false);

    // rollback puts the previous password back into the database too.
    const back = await ops.ltc(['secrets', 'rollback', 'DATABASE_PASSWORD', '--env', 'staging']);
    expect(back.code, back.stderr).toBe(0);
    expect(await reveal(ops, 'DATABASE_PASSWORD')).toBe(initial);
    expect(await login('app_self', initial)).toBe('ok');
    expect(await login('app_self', now)).toBe('28P01');
  });

  it('a failing test step leaves current untouched, removes pending and puts the old password back', async () => {
    // The role may not log in: ALTER ROLE (as the admin) works, the login test fails.
    const { ops, initial } = await opsWithRole('app_nologin', { admin_user: 'postgres', admin_password_secret: 'PG_ADMIN_PASSWORD' }, { nologin: true, adminSecret: true });
    const before = await describeSecret(ops, 'DATABASE_PASSWORD');

    const r = await ops.ltc(['secrets', 'rotate', 'DATABASE_PASSWORD', '--env', 'staging']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('rotation of DATABASE_PASSWORD failed at test');
    expect(r.stderr).toContain('version 1 is still current');

    const after = await describeSecret(ops, 'DATABASE_PASSWORD');
    expect(stageOf(after, 'current')).toBe(stageOf(before, 'current'));
    expect(stageOf(after, 'pending')).toBeUndefined();
    expect(await reveal(ops, 'DATABASE_PASSWORD')).toBe(initial);
    expect(existsSync(join(ops.dir, '.ltc', 'rotations', 'staging', 'DATABASE_PASSWORD.json'))).toBe(false);

    // The database holds the old password again.
    await server.sql('ALTER ROLE app_nologin LOGIN');
    expect(await login('app_nologin', initial)).toBe('ok');

    const actions = (await auditActions(ops)).map((a) => `${a.action}:${a.outcome}`);
    expect(actions).toContain('secret.rotate.test:failed');
    expect(actions).toContain('secret.rotate.undo:ok');
    expect(actions.filter((a) => a.startsWith('secret.rotate')).at(-1)).toBe('secret.rotate:failed');
  });

  it('a set step that cannot change the password (it drifted, no admin configured): exit 1, pending removed, nothing to undo', async () => {
    const { ops, initial } = await opsWithRole('app_drift', {});
    const drifted = 'changed-outside-ltc-' + Date.now();
    await server.sql(`ALTER ROLE app_drift PASSWORD '${drifted}'`);
    const before = await describeSecret(ops, 'DATABASE_PASSWORD');

    const r = await ops.ltc(['secrets', 'rotate', 'DATABASE_PASSWORD', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('rotation of DATABASE_PASSWORD failed at set: cannot connect to PostgreSQL');
    expect(r.stderr).toContain('version 1 is still current; the pending version was removed');
    // The cause's own advice is kept.
    expect(r.stderr).toContain('admin_user');

    const after = await describeSecret(ops, 'DATABASE_PASSWORD');
    expect(stageOf(after, 'current')).toBe(stageOf(before, 'current'));
    expect(stageOf(after, 'pending')).toBeUndefined();
    expect(await reveal(ops, 'DATABASE_PASSWORD')).toBe(initial);
    expect(existsSync(join(ops.dir, '.ltc', 'rotations', 'staging', 'DATABASE_PASSWORD.json'))).toBe(false);
    expect(await login('app_drift', drifted)).toBe('ok');
    const actions = (await auditActions(ops)).map((a) => `${a.action}:${a.outcome}`);
    expect(actions).toContain('secret.rotate.undo:ok');
    // And rollback/rotate are not blocked by a left-over rotation.
    expect((await ops.ltc(['secrets', 'rotate', 'DATABASE_PASSWORD', '--env', 'staging', '--dry-run'])).stdout).not.toContain('resume');
  });

  for (const phase of ['created', 'set'] as const) {
    it(`a rotation killed (SIGKILL) after ${phase} is finished by the next run with the same pending version`, async () => {
      const role = `app_kill_${phase}`;
      const { ops, initial } = await opsWithRole(role, {});

      const killed = await ops.ltc(['secrets', 'rotate', 'DATABASE_PASSWORD', '--env', 'staging'], { env: { LTC_TEST_KILL_AT: `rotate:${phase}` } });
      expect(killed.code).not.toBe(0);
      const journalFile = join(ops.dir, '.ltc', 'rotations', 'staging', 'DATABASE_PASSWORD.json');
      const journal = JSON.parse(await readFile(journalFile, 'utf8')) as { phase: string; token: string; versionId: string };
      expect(journal.phase).toBe(phase);
      const mid = await describeSecret(ops, 'DATABASE_PASSWORD');
      expect(stageOf(mid, 'current')).toBe('1');
      expect(stageOf(mid, 'pending')).toBe(journal.versionId);
      const pending = await reveal(ops, 'DATABASE_PASSWORD', 'pending');
      // After `set` the database already has the pending password; after `created` not yet.
      expect(await login(role, phase === 'set' ? pending : initial)).toBe('ok');

      const next = await ops.ltc(['secrets', 'rotate', 'DATABASE_PASSWORD', '--env', 'staging', '--json']);
      expect(next.code, next.stderr).toBe(0);
      expect(next.json).toMatchObject({ ok: true, resumed: true, current: journal.versionId, previous: '1', token: journal.token });
      expect(await reveal(ops, 'DATABASE_PASSWORD')).toBe(pending);
      expect(await login(role, pending)).toBe('ok');
      expect(await login(role, initial)).toBe('28P01');
      expect(existsSync(journalFile)).toBe(false);
      const end = await describeSecret(ops, 'DATABASE_PASSWORD');
      expect(end.versions.map((v) => v.id).sort()).toEqual(['1', journal.versionId].sort());

      // Idempotent: one more run is an ordinary new rotation, not a replay.
      const again = await ops.ltc(['secrets', 'rotate', 'DATABASE_PASSWORD', '--env', 'staging', '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.json).toMatchObject({ resumed: false, previous: journal.versionId });
    });
  }
});
