/**
 * A deploy whose output breaks halfway — the reader of its pipe left (`ltc deploy | head`), or
 * the disk its stdout goes to is full — goes on to its end: the failed release is rolled back and
 * recorded, and the exit code is the deploy's. Only the output is given up.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, LTC } from './helpers/cli.ts';
import { currentRelease, liveVersion, makeStage, processesUnder, revisions, stopStage, type Stage } from './helpers/deploy.ts';

const stages: Stage[] = [];
afterEach(async () => {
  for (const s of stages.splice(0)) {
    await stopStage(s);
    expect(processesUnder(s.dir)).toEqual([]);
  }
});
afterAll(cleanupTempDirs);

async function deployedStage(): Promise<Stage> {
  const s = await makeStage();
  stages.push(s);
  const first = await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
  expect(first.code, first.stderr).toBe(0);
  return s;
}

const envOf = (s: Stage) => ({ ...process.env, ...s.env, NO_COLOR: '1', CI: 'true' });

describe('a deploy whose stdout breaks halfway still ends as a deploy', () => {
  it('`ltc deploy … | head -c 1` of a release that fails its health: rolled back, recorded, exit 3 (not 0, not killed)', async () => {
    const s = await deployedStage();
    const good = currentRelease(s);
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${LTC}" deploy --rc rc-2026-03-01.1 --env staging | head -c 1 >/dev/null; echo "\${PIPESTATUS[0]}"`], {
      cwd: s.ops,
      env: envOf(s),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stdout.trim(), r.stderr).toBe('3');
    expect(currentRelease(s)).toBe(good);
    expect(await liveVersion(s)).toBe('1.0.0');
    const last = revisions(s).at(-1)!;
    expect(last).toMatchObject({ action: 'deploy', rc: 'rc-2026-03-01.1', outcome: 'rolled_back' });
  }, 180_000);

  it('stdout on a full disk (/dev/full): the deploy of a good release completes, exit 1 for the lost output, one error line', async () => {
    const s = await deployedStage();
    const full = openSync('/dev/full', 'w');
    let r;
    try {
      r = spawnSync(process.execPath, [LTC, 'deploy', '--rc', 'rc-2026-03-01', '--env', 'staging'], { cwd: s.ops, env: envOf(s), stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 120_000 });
    } finally {
      closeSync(full);
    }
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/error: cannot write the output to stdout: ENOSPC/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await liveVersion(s)).toBe('1.1.0');
    expect(revisions(s).at(-1)).toMatchObject({ action: 'deploy', rc: 'rc-2026-03-01', outcome: 'ok' });
  }, 180_000);
});

describe('health checks answered by another process on the port', () => {
  it('the new app dies on EADDRINUSE while an old process answers: the rollback fails (exit 4) instead of reporting it healthy', async () => {
    const { createServer } = await import('node:http');
    const s = await deployedStage();
    const release = currentRelease(s)!;
    expect((await s.ltc(['stop', '--env', 'staging'])).code).toBe(0);
    // An impostor answers every health check with 200 on the app's port.
    const impostor = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"status":"ok"}');
    });
    await new Promise<void>((resolve) => impostor.listen(s.port, '127.0.0.1', resolve));
    try {
      const r = await s.ltc(['rollback', '--env', 'staging', '--to', release, '--verbose']);
      expect(r.code, r.stdout + r.stderr).toBe(4);
      expect(r.stdout + r.stderr).toMatch(/answered at once, before .* could listen/);
      expect(r.stdout + r.stderr).toMatch(/exited with code 1 while another process answered its health checks/);
      expect(r.stdout + r.stderr).toMatch(/EADDRINUSE/);
    } finally {
      await new Promise((resolve) => impostor.close(resolve));
    }
  }, 120_000);
});

describe('an interrupt during the restart step', () => {
  it('SIGTERM (a closed terminal) right after the old app was stopped: the new one is still started, so something runs', async () => {
    const { spawn } = await import('node:child_process');
    const s = await deployedStage();
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging'])).code).toBe(0);
    const child = spawn(process.execPath, [LTC, 'rollback', '--env', 'staging', '--verbose'], { cwd: s.ops, env: envOf(s), stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    const onData = (d: Buffer) => {
      seen += String(d);
      if (seen.includes('SIGTERM to its process group')) {
        child.stderr.off('data', onData);
        child.stdout.off('data', onData);
        child.kill('SIGTERM');
      }
    };
    child.stderr.on('data', onData);
    child.stdout.on('data', onData);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(seen).toContain('SIGTERM to its process group');
    expect(code).not.toBe(0);
    // Whatever the run reports, an app runs and answers (once it has started): the rolled-back-to release.
    let version = '';
    for (let i = 0; i < 100 && version !== '1.0.0'; i++) {
      version = await liveVersion(s);
      if (version !== '1.0.0') await new Promise((r) => setTimeout(r, 50));
    }
    expect(version, seen).toBe('1.0.0');
  }, 120_000);
});
