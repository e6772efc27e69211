/**
 * `ltc restart` and a rotation of a secret the deployed app uses, end to end with the demo app:
 * after the rotation the running process really has the new value (its /api/debug/secret-hash
 * is the SHA-256 of the new LTC_SECRET_KEY, computed from the value ltc reveals), shared/.env
 * holds it, and revisions.log and the audit log record the restart. A failed health check with
 * the new value puts the old value back into the backend, the env file and the running app.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from './helpers/cli.js';
import { audit, getJson, makeStage, revisions, type Stage } from './helpers/deploy.js';

const hash = (v: string) => createHash('sha256').update(v).digest('hex').slice(0, 16);

let s: Stage;
let marker: string;

async function liveHash(): Promise<string | null> {
  const r = await getJson(`${s.url}/api/debug/secret-hash`);
  expect(r.status).toBe(200);
  return (r.body as { LTC_SECRET_KEY: string | null }).LTC_SECRET_KEY;
}

async function currentValue(): Promise<string> {
  const r = await s.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--env', 'staging', '--reveal', '--yes']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

function envFileValue(): string | undefined {
  return /^LTC_SECRET_KEY=(.*)$/m.exec(readFileSync(join(s.deployRoot, 'shared', '.env'), 'utf8'))?.[1];
}

beforeAll(async () => {
  // The start command fails once (and removes the marker) while the marker file exists: a start
  // that does not come up healthy with the new value.
  const dir = (await import('./helpers/cli.js')).tempDir;
  marker = join(await dir('ltc-restart-marker-'), 'fail-next-start');
  s = await makeStage({ target: { start: ['bash', '-c', `if [ -e '${marker}' ]; then rm -f '${marker}'; echo "refusing to start" >&2; exit 1; fi; exec node server.mjs`] } });
  const d = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
  expect(d.code, d.stderr).toBe(0);
});

afterAll(async () => {
  await s?.ltc(['stop', '--env', 'staging']);
  await cleanupTempDirs();
});

describe('rotation restarts the app that uses the secret', () => {
  it('after `ltc secrets rotate` the running app has the new value (and shared/.env too)', async () => {
    const before = await currentValue();
    expect(await liveHash()).toBe(hash(before));
    const r = await s.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('the app of staging');
    const after = await currentValue();
    expect(after).not.toBe(before);
    expect(await liveHash()).toBe(hash(after));
    expect(envFileValue()).toBe(after);
    const last = revisions(s).at(-1)!;
    expect(last).toMatchObject({ action: 'restart', outcome: 'ok' });
    expect((await audit(s)).some((e) => e.action === 'restart' && e.outcome === 'ok')).toBe(true);
    // No value in any output or record.
    for (const text of [r.stdout, r.stderr, readFileSync(join(s.deployRoot, 'revisions.log'), 'utf8'), readFileSync(join(s.ops, '.ltc', 'audit.jsonl'), 'utf8')]) {
      expect(text).not.toContain(after);
      expect(text).not.toContain(before);
    }
  });

  it('a failed health check with the new value: the old value is back in the backend, shared/.env and the running app', async () => {
    const before = await currentValue();
    writeFileSync(marker, '');
    const r = await s.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('failed at set');
    expect(existsSync(marker)).toBe(false);
    expect(await currentValue()).toBe(before);
    expect(envFileValue()).toBe(before);
    expect(await liveHash()).toBe(hash(before));
    const restarts = revisions(s).filter((x) => x.action === 'restart').slice(-2);
    expect(restarts.map((x) => x.outcome)).toEqual(['failed', 'ok']);
  });

  it('--no-restart leaves the app on the old value; `ltc restart` then gives it the new one', async () => {
    const before = await currentValue();
    const r = await s.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY', '--env', 'staging', '--no-restart']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('--no-restart');
    const after = await currentValue();
    expect(await liveHash()).toBe(hash(before));
    const pidBefore = Number(readFileSync(join(s.deployRoot, 'shared', 'app.pid'), 'utf8').match(/\d+/)?.[0] ?? 0);
    const rs = await s.ltc(['restart', '--env', 'staging', '--json']);
    expect(rs.code, rs.stderr).toBe(0);
    expect(rs.json).toMatchObject({ ok: true, environment: 'staging', secrets: ['LTC_SECRET_KEY'] });
    expect((rs.json as { pid: number }).pid).not.toBe(pidBefore);
    expect(await liveHash()).toBe(hash(after));
    expect(envFileValue()).toBe(after);
    expect(revisions(s).at(-1)).toMatchObject({ action: 'restart', outcome: 'ok' });
  });

  it('`ltc restart` whose start fails: the env file as it was is back, the app restarted with it, exit 3', async () => {
    const value = await currentValue();
    writeFileSync(marker, '');
    const r = await s.ltc(['restart', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('the env file as it was is back');
    expect(await liveHash()).toBe(hash(value));
    expect(revisions(s).at(-1)).toMatchObject({ action: 'restart', outcome: 'rolled_back' });
  });

  it('`ltc restart` while the environment is locked: exit 5; a rotation then fails at set and changes nothing', async () => {
    const lockFile = join(s.deployRoot, '.ltc-lock');
    const st = await s.ltc(['lock', 'status', '--env', 'staging', '--json']);
    const file = (st.json as { lock: string }).lock ?? lockFile;
    // A live holder: this test process.
    writeFileSync(file, JSON.stringify({ pid: process.pid, action: 'deploy', actor: 'test', host: (await import('node:os')).hostname(), startedAt: new Date().toISOString(), heartbeat: new Date().toISOString() }));
    try {
      const count = revisions(s).length;
      const r = await s.ltc(['restart', '--env', 'staging']);
      expect(r.code, r.stderr).toBe(5);
      expect(revisions(s).length).toBe(count);
      // A rotation meanwhile: nothing was put anywhere, so nothing is undone; the value stays.
      const before = await currentValue();
      const rot = await s.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY', '--env', 'staging']);
      expect(rot.code, rot.stderr).toBe(1);
      expect(rot.stderr).toContain('the app of staging was not restarted');
      expect(rot.stderr).toContain('is locked');
      expect(await currentValue()).toBe(before);
      expect(envFileValue()).toBe(before);
      expect(revisions(s).length).toBe(count);
    } finally {
      (await import('node:fs')).rmSync(file, { force: true });
    }
  });
});
