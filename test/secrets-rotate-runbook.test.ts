/**
 * LTC_SECRET_KEY rotation through the shipped runbook `rotate-secret` (the `secret` step writes
 * the env file, a `run` step restarts, an `http` step checks health), against an app that reads
 * the env file on every request.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, freePort, LTC } from './helpers/cli.js';
import { makeOps, type Ops } from './helpers/secrets.js';

let app: Server;
let port: number;
let healthy = true;
let envFile = '';

beforeAll(async () => {
  port = await freePort();
  // The "app": healthy when its env file holds an LTC_SECRET_KEY of 32+ bytes (and `healthy`).
  app = createServer((req, res) => {
    void readFile(envFile, 'utf8')
      .catch(() => '')
      .then((text) => {
        const key = /^LTC_SECRET_KEY=(.*)$/m.exec(text)?.[1] ?? '';
        const ok = healthy && Buffer.from(key, 'base64url').length >= 32;
        res.writeHead(ok ? 200 : 500, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'bad' }));
      });
  });
  await new Promise<void>((r) => app.listen(port, '127.0.0.1', r));
});

afterAll(async () => {
  await new Promise((r) => app.close(r));
  await cleanupTempDirs();
});

async function reveal(ops: Ops, stage = 'current'): Promise<string> {
  const r = await ops.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--stage', stage, '--reveal', '--yes']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

async function keyInEnvFile(): Promise<string | undefined> {
  return /^LTC_SECRET_KEY=(.*)$/m.exec(await readFile(envFile, 'utf8'))?.[1];
}

describe('LTC_SECRET_KEY rotation through runbooks/rotate-secret.yaml', () => {
  let ops: Ops;

  beforeAll(async () => {
    ops = await makeOps({
      staging: {
        secrets: {
          backend: 'file',
          required: [
            {
              name: 'LTC_SECRET_KEY',
              kind: 'secret_key',
              rotate: {
                runbook: 'rotate-secret',
                inputs: { env_file: 'shared/.env', restart: 'echo restarted >> restarts.log', health_url: `http://127.0.0.1:${port}/api/health` },
              },
            },
          ],
        },
      },
    });
    envFile = join(ops.dir, 'shared', '.env');
    expect((await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY', '--env', 'staging'])).code).toBe(0);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(ops.dir, 'shared'));
    await writeFile(envFile, `OTHER=kept\nLTC_SECRET_KEY=${await reveal(ops)}\n`, { mode: 0o600 });
  });

  it('writes the pending key into the env file, restarts, checks health, then finishes', async () => {
    const before = await reveal(ops);
    const r = await ops.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY', '--env', 'staging', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, current: '2', previous: '1', target: 'runbook rotate-secret' });
    const now = await reveal(ops);
    expect(now).not.toBe(before);
    expect(await keyInEnvFile()).toBe(now);
    expect(await readFile(envFile, 'utf8')).toContain('OTHER=kept\n');
    expect((await readFile(join(ops.dir, 'restarts.log'), 'utf8')).trim().split('\n')).toHaveLength(1);
    const { stat } = await import('node:fs/promises');
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);

    // rollback: the previous key goes back into the env file (phase "rollback"), then health.
    const back = await ops.ltc(['secrets', 'rollback', 'LTC_SECRET_KEY', '--env', 'staging']);
    expect(back.code, back.stderr).toBe(0);
    expect(await reveal(ops)).toBe(before);
    expect(await keyInEnvFile()).toBe(before);
    expect((await readFile(join(ops.dir, 'restarts.log'), 'utf8')).trim().split('\n')).toHaveLength(2);
    // and forward again, so the next test starts from a rotated key
    expect((await ops.ltc(['secrets', 'rollback', 'LTC_SECRET_KEY', '--env', 'staging'])).code).toBe(0);
    expect(await keyInEnvFile()).toBe(now);
  });

  it('a failing health check puts the current key back and removes pending', async () => {
    healthy = false;
    try {
      const before = await reveal(ops);
      const r = await ops.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY', '--env', 'staging']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('failed at test');
      expect(await reveal(ops)).toBe(before);
      expect(await keyInEnvFile()).toBe(before);
      const meta = await ops.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--env', 'staging', '--json']);
      const versions = (meta.json as { secret: { versions: Array<{ stages: string[] }> } }).secret.versions;
      expect(versions.some((v) => v.stages.includes('pending'))).toBe(false);
      // set + revert each restarted the app.
      expect((await readFile(join(ops.dir, 'restarts.log'), 'utf8')).trim().split('\n')).toHaveLength(5);
    } finally {
      healthy = true;
    }
  });

  it('Ctrl-C during the test step still puts the current key back (exit 130): the interrupt does not cut the undo short', async () => {
    healthy = false;
    try {
      const before = await reveal(ops);
      const restarts = async () => (await readFile(join(ops.dir, 'restarts.log'), 'utf8')).trim().split('\n').length;
      const restartsBefore = await restarts();
      const child = spawn(process.execPath, [LTC, 'secrets', 'rotate', 'LTC_SECRET_KEY', '--env', 'staging'], {
        cwd: ops.dir,
        env: { ...process.env, ...ops.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.stdout.resume();
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      // Wait until the pending key is in the env file and the app was restarted: the health checks run now.
      const until = Date.now() + 30_000;
      while ((await keyInEnvFile()) === before || (await restarts()) === restartsBefore) {
        if (Date.now() > until) throw new Error(`the rotation never wrote the pending key: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(130);
      expect(stderr).toContain('rotation of LTC_SECRET_KEY interrupted at test');
      expect(stderr).toContain('was put back into runbook rotate-secret; the pending version was removed');
      expect(await reveal(ops)).toBe(before);
      expect(await keyInEnvFile()).toBe(before);
      const meta = await ops.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--env', 'staging', '--json']);
      const versions = (meta.json as { secret: { versions: Array<{ stages: string[] }> } }).secret.versions;
      expect(versions.some((v) => v.stages.includes('pending'))).toBe(false);
      // set + revert each restarted the app.
      expect(await restarts()).toBe(restartsBefore + 2);
    } finally {
      healthy = true;
    }
  });
});
