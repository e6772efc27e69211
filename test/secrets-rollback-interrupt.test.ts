/**
 * Ctrl-C during `ltc secrets rollback <NAME>` of a secret whose rotation target is the shipped
 * runbook `rotate-secret`: the previous value was already written into the env file and the
 * restart is running when SIGINT arrives. The revert must still run (the current value goes back
 * into the env file, the app is restarted again), the store keeps the current version, and ltc
 * exits 130 — not 1 as if a check had failed.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, LTC } from './helpers/cli.js';
import { stillRunningAfter, waitFor } from './helpers/runbooks.js';
import { makeOps, type Ops } from './helpers/secrets.js';

afterAll(async () => {
  await cleanupTempDirs();
});

describe('secrets rollback with a runbook target, interrupted by Ctrl-C', () => {
  let ops: Ops;
  let envFile = '';
  // The restart sleeps once (while a `slow` marker exists) after writing its pid; every restart
  // that completes is logged.
  const restart = 'if [ -f slow ]; then rm -f slow; echo $$ > restart.pid; sleep 120; fi; echo restarted >> restarts.log';

  const reveal = async (stage = 'current'): Promise<string> => {
    const r = await ops.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--env', 'staging', '--stage', stage, '--reveal', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  const keyInEnvFile = async (): Promise<string | undefined> => /^LTC_SECRET_KEY=(.*)$/m.exec(await readFile(envFile, 'utf8'))?.[1];
  const restarts = async (): Promise<number> =>
    existsSync(join(ops.dir, 'restarts.log')) ? (await readFile(join(ops.dir, 'restarts.log'), 'utf8')).trim().split('\n').length : 0;

  beforeAll(async () => {
    ops = await makeOps({
      staging: {
        secrets: {
          backend: 'file',
          required: [{ name: 'LTC_SECRET_KEY', kind: 'secret_key', rotate: { runbook: 'rotate-secret', inputs: { env_file: 'shared/.env', restart } } }],
        },
      },
    });
    envFile = join(ops.dir, 'shared', '.env');
    const gen = await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY', '--env', 'staging']);
    expect(gen.code, gen.stderr).toBe(0);
    await mkdir(join(ops.dir, 'shared'));
    await writeFile(envFile, `OTHER=kept\nLTC_SECRET_KEY=${await reveal()}\n`, { mode: 0o600 });
    // One rotation, so there is a previous version to roll back to.
    const rot = await ops.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY', '--env', 'staging']);
    expect(rot.code, rot.stderr).toBe(0);
  });

  it('puts the current value back into the env file, then exits 130', async () => {
    const current = await reveal();
    const previous = await reveal('previous');
    expect(current).not.toBe(previous);
    expect(await keyInEnvFile()).toBe(current);
    const restartsBefore = await restarts();
    const pidFile = join(ops.dir, 'restart.pid');
    await rm(pidFile, { force: true });
    await writeFile(join(ops.dir, 'slow'), '');

    const child = spawn(process.execPath, [LTC, 'secrets', 'rollback', 'LTC_SECRET_KEY', '--env', 'staging'], {
      cwd: ops.dir,
      env: { ...process.env, ...ops.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.resume();
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      // The restart of phase "rollback" is running: the previous key is in the env file now.
      const restartPid = Number(await waitFor(pidFile));
      expect(await keyInEnvFile()).toBe(previous);
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(130);
      expect(stderr).toContain('rollback of LTC_SECRET_KEY interrupted');
      expect(stderr).toContain('stays current and was put back into runbook rotate-secret');
      // The interrupted restart was ended, not left running.
      expect(await stillRunningAfter(restartPid)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    // Undone: the store keeps the current version, the env file holds it again, and the revert's
    // restart ran to the end (the interrupted one did not log).
    expect(await reveal()).toBe(current);
    expect(await reveal('previous')).toBe(previous);
    expect(await keyInEnvFile()).toBe(current);
    expect(await readFile(envFile, 'utf8')).toContain('OTHER=kept\n');
    expect(await restarts()).toBe(restartsBefore + 1);
  });
});
