/**
 * `ltc stop --env <env>` (the app ends, recorded and audited; idempotent; --dry-run; a hung app;
 * the lock; a service target), and what a killed ltc can leave behind: an app running without a
 * pid file (found and ended by the next deploy), temp files with secrets (removed under the lock).
 * Also: a missing required secret stops the deploy before the build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from './helpers/cli.ts';
import { alive, appPid, audit, currentRelease, liveVersion, makeStage, processesUnder, revisions, snapshot, stopStage, type Stage } from './helpers/deploy.ts';

const stages: Stage[] = [];
async function stage(o: Parameters<typeof makeStage>[0] = {}): Promise<Stage> {
  const s = await makeStage(o);
  stages.push(s);
  return s;
}

afterEach(async () => {
  for (const s of stages.splice(0)) {
    await stopStage(s);
    expect(processesUnder(s.dir), `processes left under ${s.dir}`).toEqual([]);
  }
});
afterAll(cleanupTempDirs);

/** A pid that has ended. */
const deadPid = () => spawnSync('true').pid!;

describe('ltc stop', () => {
  it('stops the app (recorded, audited), then says nothing runs; --dry-run changes nothing; a hung app ends too', async () => {
    const s = await stage();
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const pid = appPid(s)!;
    const cur = currentRelease(s)!;

    const up0 = await s.ltc(['status', '--env', 'staging', '--json']);
    expect(up0.code, up0.stderr).toBe(0);
    expect(up0.json).toMatchObject({ target: 'local', current: cur, app: { running: true, pid }, health: { ok: true }, lock: { state: 'free' }, last: { action: 'deploy', outcome: 'ok' } });

    const before = snapshot(s.deployRoot);
    const dry = await s.ltc(['stop', '--env', 'staging', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would stop pid ${pid} (${cur})`);
    expect(snapshot(s.deployRoot)).toBe(before);
    expect(alive(pid)).toBe(true);

    process.kill(pid, 'SIGSTOP'); // hung: answers nothing
    const r = await s.ltc(['stop', '--env', 'staging', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, environment: 'staging', stopped: true, pid, release: cur, killed: false, current: cur });
    expect(alive(pid)).toBe(false);
    expect(processesUnder(s.dir)).toEqual([]);
    expect(existsSync(join(s.deployRoot, 'shared', 'app.pid'))).toBe(false);
    expect(await liveVersion(s, 500)).toMatch(/^down/);
    expect(currentRelease(s)).toBe(cur); // current stays
    expect(revisions(s).at(-1)).toMatchObject({ action: 'stop', outcome: 'ok', release: cur, rc: 'rc-2026-02-15' });
    expect((await audit(s)).at(-1)).toMatchObject({ action: 'app.stop', outcome: 'ok', details: { stopped: true, pid, release: cur } });
    expect(existsSync(join(s.deployRoot, '.ltc-lock'))).toBe(false);
    const down = await s.ltc(['status', '--env', 'staging']);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/app\s+not running/);
    expect(down.stdout).toMatch(/health\s+failing: /);
    expect(down.stdout).toMatch(/not ok: not healthy, the app does not run/);

    const again = await s.ltc(['stop', '--env', 'staging']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('staging: the app was not running; nothing to stop');

    // what it prints to start it again works
    const human = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(human.code, human.stderr).toBe(0);
    const text = await s.ltc(['stop', '--env', 'staging']);
    expect(text.stdout).toMatch(/stopped staging: pid \d+ \(rc-2026-03-01-\S+\) ended on SIGTERM in /);
    const again2 = /start it again with: (ltc rollback --env staging --to \S+)/.exec(text.stdout)![1]!.split(' ').slice(1);
    const up = await s.ltc(again2);
    expect(up.code, up.stderr).toBe(0);
    expect(await liveVersion(s)).toBe('1.1.0');
  });

  it('a deploy in progress: exit 5 naming it; a service target: exit 2 (not ltc\'s to stop)', async () => {
    const s = await stage();
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const pid = appPid(s)!;
    writeFileSync(join(s.deployRoot, '.ltc-lock'), JSON.stringify({ pid: process.pid, host: hostname(), user: 'ops', action: 'deploy', rc: 'rc-2026-03-01', startedAt: new Date().toISOString() }));
    const locked = await s.ltc(['stop', '--env', 'staging']);
    expect(locked.code).toBe(5);
    expect(locked.stderr).toContain('is locked: deploy of rc-2026-03-01 by ops@');
    expect(alive(pid)).toBe(true);
    rmSync(join(s.deployRoot, '.ltc-lock'));

    const svc = await stage({ target: { start: undefined, service: ['true'] } });
    const r = await svc.ltc(['stop', '--env', 'staging']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is run by the service command true, not by ltc');
  });
});

describe('what a killed ltc leaves behind', () => {
  it('an app running without a pid file (killed between start and pid file) is reported, and ended by the next deploy', async () => {
    const s = await stage();
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const orphan = appPid(s)!;
    rmSync(join(s.deployRoot, 'shared', 'app.pid'));

    const rel = await s.ltc(['releases', '--env', 'staging', '--json']);
    expect((rel.json as { app: { running: boolean; unrecorded?: number[] } }).app).toMatchObject({ running: true, unrecorded: [orphan] });

    const r = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--verbose']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`found 1 process\\(es\\) of staging running from .* without a pid file \\(pid ${orphan};`));
    expect(alive(orphan)).toBe(false);
    expect(await liveVersion(s)).toBe('1.1.0');
    expect(processesUnder(s.dir)).toEqual([appPid(s)]);
  });

  it('a person\'s shell in a release folder is not taken for the app', async () => {
    const s = await stage();
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const cur = currentRelease(s)!;
    const shell = spawn('sleep', ['30'], { cwd: join(s.deployRoot, 'releases', cur), env: { PATH: process.env.PATH ?? '', LTC_ENV: 'staging' }, stdio: 'ignore' });
    try {
      expect((await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging'])).code).toBe(0);
      expect(alive(shell.pid!)).toBe(true);
    } finally {
      shell.kill('SIGKILL');
    }
  });

  it('temp files of a killed run (a copy of the secrets among them) are removed once the lock is taken', async () => {
    const s = await stage();
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const dead = deadPid();
    const shared = join(s.deployRoot, 'shared');
    const left = [
      join(shared, `.env.${dead}.1a2b3c4d.tmp`),
      join(shared, `app.pid.${dead}.tmp`),
      join(s.deployRoot, `.current.tmp-${dead}-a1b2c3`),
      join(s.deployRoot, `.ltc-lock.${dead}.0badf00d.tmp`),
    ];
    for (const f of left) writeFileSync(f, 'LTC_SECRET_KEY=old-value-of-a-rotated-secret\n', { mode: 0o600 });
    const mine = join(shared, `.env.${process.pid}.cafe0001.tmp`); // its writer (this test) still runs
    writeFileSync(mine, 'x', { mode: 0o600 });
    const r = await s.ltc(['rollback', '--env', 'staging', '--to', 'rc-2026-02-15', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('removed what an interrupted run left');
    for (const f of left) expect(existsSync(f), f).toBe(false);
    expect(existsSync(mine)).toBe(true);
    rmSync(mine);
    expect(readdirSync(shared).sort()).toEqual(['.env', 'app.pid', 'logs']);
  });
});

describe('secrets checked before the build', () => {
  it('a required secret that is missing: exit 2 before anything is built, the deploy root as before', async () => {
    const marker = join(await (await import('./helpers/cli.ts')).tempDir('ltc-build-marker-'), 'built');
    const s = await stage({ secret: false, target: { build: [['node', '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`]] } });
    const r = await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('environment staging lacks required secret LTC_SECRET_KEY');
    expect(r.stderr).toContain('ltc secrets generate LTC_SECRET_KEY --env staging');
    expect(existsSync(marker)).toBe(false);
    expect(currentRelease(s)).toBeUndefined();
    const releasesDir = join(s.deployRoot, 'releases');
    expect(existsSync(releasesDir) ? readdirSync(releasesDir) : []).toEqual([]);
    expect(existsSync(join(s.deployRoot, '.ltc-lock'))).toBe(false);
    const auditFile = join(s.ops, '.ltc', 'audit.jsonl');
    expect(existsSync(auditFile) ? readFileSync(auditFile, 'utf8') : '').not.toContain('"secret.read"');
  });
});

describe('a build left running by a killed ltc', () => {
  it('is ended once the next deploy holds the lock (it would go on writing into a folder that deploy removes)', async () => {
    // The build of rc-2026-03-01.1 SIGKILLs ltc (its parent) and then keeps running, as `npm ci` does when ltc is killed.
    const s = await stage({
      target: {
        build: [['npm', 'run', 'build'], ['node', '-e', 'if (process.env.LTC_RC === "rc-2026-03-01.1") { process.kill(process.ppid, "SIGKILL"); setInterval(() => {}, 1000) }']],
      },
    });
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const app = appPid(s)!;
    const killed = await s.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    expect(killed.code).toBe(-1); // ended by SIGKILL
    const builds = processesUnder(join(s.deployRoot, 'releases')).filter((p) => p !== app);
    expect(builds.length, 'the build outlived ltc').toBeGreaterThan(0);

    // not taken for the app either
    const rel = await s.ltc(['releases', '--env', 'staging', '--json']);
    expect((rel.json as { app: { pid: number; unrecorded?: number[] } }).app).toMatchObject({ pid: app });
    expect((rel.json as { app: { unrecorded?: number[] } }).app.unrecorded).toBeUndefined();

    const r = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/ended \d+ process\(es\) an interrupted deploy left building in .*\.partial-… \(pid \d+/);
    for (const pid of builds) expect(alive(pid), `build pid ${pid}`).toBe(false);
    expect(readdirSync(join(s.deployRoot, 'releases')).filter((n) => n.startsWith('.partial-'))).toEqual([]);
    expect(processesUnder(s.dir)).toEqual([appPid(s)]);
  });
});

describe('a deploy root copied with its pid file (cp -a, a restored backup)', () => {
  it("does not claim the original's app: the copy shows it not running, and ltc stop on the copy leaves it alone", async () => {
    const s = await stage();
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const pid = appPid(s)!;
    const copy = join(s.dir, 'deploy-copy');
    expect(spawnSync('cp', ['-a', s.deployRoot, copy]).status).toBe(0);
    const configFile = join(s.ops, 'ltc.config.yaml');
    const config = readFileSync(configFile, 'utf8');
    writeFileSync(join(s.ops, 'copy.yaml'), config.replace(`deploy_root: ${s.deployRoot}`, `deploy_root: ${copy}`));
    expect(readFileSync(join(s.ops, 'copy.yaml'), 'utf8')).toContain(copy);

    const shown = await s.ltc(['releases', '--env', 'staging', '--config', join(s.ops, 'copy.yaml'), '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    expect((shown.json as { app: { running: boolean } }).app).toMatchObject({ running: false, stale: true, elsewhere: true });
    const status = await s.ltc(['status', '--env', 'staging', '--config', join(s.ops, 'copy.yaml')]);
    expect(status.stdout).toMatch(new RegExp(`not running \\(the pid file \\S+app\\.pid names pid ${pid}, which runs from another deploy root`));
    const original = await s.ltc(['releases', '--env', 'staging', '--json']);
    expect((original.json as { app: { running: boolean; pid: number } }).app).toMatchObject({ running: true, pid });

    const stop = await s.ltc(['stop', '--env', 'staging', '--config', join(s.ops, 'copy.yaml')]);
    expect(stop.code, stop.stderr + stop.stdout).toBe(0);
    expect(alive(pid)).toBe(true);
    expect(await liveVersion(s)).toBe('1.0.0');
  });

  it('also when the recorded process (a wrapper) is gone and its child serves: the copy leaves that group alone', async () => {
    const s = await stage({ target: { start: ['sh', '-c', 'node server.mjs; true'] } });
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const wrapper = appPid(s)!;
    const child = processesUnder(s.dir).filter((p) => p !== wrapper);
    expect(child.length).toBeGreaterThan(0);
    process.kill(wrapper, 'SIGKILL');
    const copy = join(s.dir, 'deploy-copy');
    expect(spawnSync('cp', ['-a', s.deployRoot, copy]).status).toBe(0);
    writeFileSync(join(s.ops, 'copy.yaml'), readFileSync(join(s.ops, 'ltc.config.yaml'), 'utf8').replace(`deploy_root: ${s.deployRoot}`, `deploy_root: ${copy}`));
    const stop = await s.ltc(['stop', '--env', 'staging', '--config', join(s.ops, 'copy.yaml')]);
    expect(stop.code, stop.stderr + stop.stdout).toBe(0);
    for (const p of child) expect(alive(p), `pid ${p}`).toBe(true);
    expect(await liveVersion(s)).toBe('1.0.0');
  });
});
