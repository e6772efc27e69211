/**
 * Deploy failures and bad input on the local target, with the real demo app: a failing build,
 * an app that never becomes healthy, a start command that exits at once, a first deploy that
 * fails, a rollback that fails too (exit 4 with the state), a crashed or hung current release,
 * a missing tag, injection attempts in --rc (exit 2 before any command runs).
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LTC, cleanupTempDirs, tempDir } from './helpers/cli.ts';
import {
  alive,
  appPid,
  currentRelease,
  isCompleteRelease,
  liveVersion,
  makeStage,
  previousRelease,
  processesUnder,
  revisions,
  snapshot,
  stopStage,
  type Stage,
} from './helpers/deploy.ts';

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

/** A start command that behaves per rc: the real server, except for the rcs given. */
function startPer(rules: Record<string, 'hang' | 'exit' | 'error-log' | 'ignore-term' | 'warm-up' | 'die-after-green'>): string[] {
  const js =
    `const rc = process.env.LTC_RC; const rules = ${JSON.stringify(rules)};` +
    `if (rules[rc] === 'hang') { console.log('starting, but never listening'); setInterval(() => {}, 1000); }` +
    `else if (rules[rc] === 'exit') { console.error('fatal: cannot open the database'); process.exit(3); }` +
    `else if (rules[rc] === 'ignore-term') import(process.cwd() + '/server.mjs').then(() => { process.removeAllListeners('SIGTERM'); process.on('SIGTERM', () => console.log('SIGTERM ignored')); });` +
    `else if (rules[rc] === 'error-log') { console.log('2026-03-01T09:00:00Z ERROR cache warm-up failed'); import(process.cwd() + '/server.mjs'); }` +
    // Like Uvicorn: an access log line per request, and 503 from /api/health while it warms up (its
    // first two answers, and any request asking for it with ?warming).
    `else if (rules[rc] === 'warm-up') { const http = require('node:http'); const create = http.createServer; let warm = 2;` +
    `  http.createServer = (...a) => { const handler = a.find((x) => typeof x === 'function'); const srv = create.apply(http, a.filter((x) => typeof x !== 'function'));` +
    `    srv.on('request', (req, res) => { res.on('finish', () => console.log('INFO:     127.0.0.1:50000 - "' + req.method + ' ' + req.url + ' HTTP/1.1" ' + res.statusCode));` +
    `      if (req.url.startsWith('/api/health') && (warm-- > 0 || req.url.endsWith('?warming'))) { res.statusCode = 503; res.end('warming up'); } else handler(req, res); }); return srv; };` +
    `  require('node:module').syncBuiltinESMExports(); import(process.cwd() + '/server.mjs'); }` +
    `else if (rules[rc] === 'die-after-green') { import(process.cwd() + '/server.mjs'); setTimeout(() => { console.error('fatal: lost the database'); process.exit(5); }, 400); }` +
    `else import(process.cwd() + '/server.mjs');`;
  return ['node', '-e', js];
}

function partials(s: Stage): string[] {
  const dir = join(s.deployRoot, 'releases');
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('.')) : [];
}

describe('deploy failures', () => {
  it('a build that fails: nothing switched, the partial release removed, exit 1', async () => {
    const s = await stage({
      target: {
        build: [['npm', 'run', 'build'], ['node', '-e', 'if (process.env.LTC_RC === "rc-2026-03-01") { console.error("boom: the build broke"); process.exit(7) }']],
      },
    });
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const before = currentRelease(s);
    const pid = appPid(s)!;
    const r = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/build command node -e .* exited with 7/);
    expect(r.stderr).toContain('boom: the build broke');
    expect(currentRelease(s)).toBe(before);
    expect(alive(pid)).toBe(true);
    expect(appPid(s)).toBe(pid);
    expect(await liveVersion(s)).toBe('1.0.0');
    expect(partials(s)).toEqual([]);
    expect(readdirSync(join(s.deployRoot, 'releases'))).toEqual([before]);
    expect(revisions(s).at(-1)).toMatchObject({ action: 'deploy', outcome: 'failed', failedPhase: 'build', rc: 'rc-2026-03-01', release: null });
    expect(revisions(s).at(-1)!.buildMs, 'the record says how long the failed build ran').toBeGreaterThan(0);
    expect(r.stderr).toMatch(/ran in .*\.partial-rc-2026-03-01-\S+, removed since/);
    expect(existsSync(join(s.deployRoot, '.ltc-lock'))).toBe(false);
  });

  it('an app that never becomes healthy is rolled back (exit 3); a start command that exits at once too', async () => {
    const s = await stage({ target: { start: startPer({ 'rc-2026-03-01': 'hang', 'rc-2026-03-01.1': 'exit' }), health_deadline: '2s' } });
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const good = currentRelease(s)!;

    const hang = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(hang.code, hang.stderr).toBe(3);
    expect(hang.stderr).toMatch(/did not become healthy within 2\.0s/);
    expect(hang.stderr).toContain(`rolled back to ${good}`);
    expect(currentRelease(s)).toBe(good);
    expect(await liveVersion(s)).toBe('1.0.0');
    expect(processesUnder(s.dir)).toEqual([appPid(s)]); // the hanging process was stopped

    const exits = await s.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    expect(exits.code, exits.stderr).toBe(3);
    expect(exits.stderr).toMatch(/the app exited with code 3 right after its start/);
    expect(exits.stderr).toContain('fatal: cannot open the database');
    expect(currentRelease(s)).toBe(good);
    expect(await liveVersion(s)).toBe('1.0.0');
    expect(revisions(s).map((r) => r.outcome)).toEqual(['ok', 'rolled_back', 'rolled_back']);
  });

  it('an ERROR in the app log after the start, or a failing smoke test, rolls back (exit 3)', async () => {
    // The smoke test learns to fail from a marker file: children get an allow-listed environment,
    // so a variable set on ltc's own command line would never reach it.
    const marker = join(await tempDir(), "smoke-break");
    const s = await stage({
      target: {
        start: startPer({ 'rc-2026-03-01': 'error-log' }),
        smoke: [['node', '-e', `if (process.env.LTC_RC === "rc-2026-03-01.1") process.exit(0); if (process.env.LTC_RELEASE.startsWith("rc-2026-02-15") && require("fs").existsSync(${JSON.stringify(marker)})) { console.error("smoke: login page missing"); process.exit(1) }`]],
      },
    });
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const good = currentRelease(s)!;
    const r = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('failed at log_scan');
    expect(r.stderr).toContain('ERROR cache warm-up failed');
    expect(currentRelease(s)).toBe(good);
    expect(await liveVersion(s)).toBe('1.0.0');

    writeFileSync(marker, '');
    const smoke = await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(smoke.code, smoke.stderr).toBe(3);
    expect(smoke.stderr).toMatch(/failed at smoke: smoke test node -e .* exited with 1/);
    expect(smoke.stderr).toContain(`rolled back to ${good}`);
    expect(await liveVersion(s)).toBe('1.0.0');
    expect(revisions(s).map((x) => `${x.outcome}:${x.failedPhase ?? ''}`)).toEqual(['ok:', 'rolled_back:log_scan', 'rolled_back:smoke']);
  });

  it("the app's log of its 503 answers to ltc's health probes while it warms up is no failure; the same 503 after green is", async () => {
    const s = await stage({
      target: {
        start: startPer({ 'rc-2026-03-01': 'warm-up', 'rc-2026-03-01.2': 'warm-up' }),
        // After green: the smoke test of rc-2026-03-01.2 asks /api/health for a 503.
        smoke: [['node', '-e', 'if (process.env.LTC_RELEASE.startsWith("rc-2026-03-01.2-")) fetch(process.env.LTC_URL + "/api/health?warming").then((r) => r.text())']],
      },
    });
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const r = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/left out \d+ line\(s\) of the app's answers to the health probes before it was healthy/);
    const log = readFileSync(join(s.deployRoot, 'shared', 'logs', 'app.log'), 'utf8');
    expect(log).toMatch(/"GET \/api\/health HTTP\/1\.1" 503/);
    expect(await liveVersion(s)).toBe('1.1.0');

    const late = await s.ltc(['deploy', '--rc', 'rc-2026-03-01.2', '--env', 'staging', '--verbose']);
    expect(late.code, late.stderr + late.stdout).toBe(3);
    expect(late.stderr).toContain('failed at log_scan');
    expect(late.stderr).toContain('"GET /api/health?warming HTTP/1.1" 503');
    expect(await liveVersion(s)).toBe('1.1.0');
  });

  it('an app that passes its health checks and dies during the smoke tests is rolled back (exit 3)', async () => {
    const s = await stage({
      target: {
        start: startPer({ 'rc-2026-03-01': 'die-after-green' }),
        smoke: [['node', '-e', 'setTimeout(() => {}, 900)']],
      },
    });
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const good = currentRelease(s)!;
    const r = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/the app exited with code 5 after its health checks had passed/);
    expect(r.stderr).toContain('fatal: lost the database');
    expect(currentRelease(s)).toBe(good);
    expect(await liveVersion(s)).toBe('1.0.0');
  });

  it('a first deploy that fails leaves things as before it: no current, nothing running (exit 3)', async () => {
    const s = await stage();
    const r = await s.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('there was no earlier release');
    expect(currentRelease(s)).toBeUndefined();
    expect(processesUnder(s.dir)).toEqual([]);
    expect(existsSync(join(s.deployRoot, 'shared', 'app.pid'))).toBe(false);
  });

  it('when the rollback fails too: exit 4 with the exact state and the next commands', async () => {
    const s = await stage();
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const first = currentRelease(s)!;
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging'])).code).toBe(0);
    const second = currentRelease(s)!;
    // The release to return to breaks meanwhile (think: its database migration was reverted).
    const rel = join(s.deployRoot, 'releases', second, 'release.json');
    writeFileSync(rel, readFileSync(rel, 'utf8').replace('"ok"', '"broken"'));

    const r = await s.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain(`the rollback to ${second} failed too`);
    expect(r.stderr).toContain(`current  → releases/${second}`);
    expect(r.stderr).toMatch(/app {6}: pid \d+ runs release /);
    expect(r.stderr).toContain(`app log  : ${join(s.deployRoot, 'shared', 'logs', 'app.log')}`);
    expect(r.stderr).toContain('next:');
    // The release suggested is one that was live and healthy, not the one that just failed.
    expect(r.stderr).toContain(`ltc rollback --env staging --to ${first}`);
    expect(r.stderr).not.toMatch(/--to rc-2026-03-01\.1-/);
    expect(r.stderr).toContain("(the rollback's failure: ");
    expect(revisions(s).at(-1)).toMatchObject({ outcome: 'rollback_failed', failedPhase: 'health' });
    expect(existsSync(join(s.deployRoot, '.ltc-lock'))).toBe(false);

    // A failing `ltc rollback` is exit 4 as well; the named good release then brings it back.
    const again = await s.ltc(['rollback', '--env', 'staging', '--to', second, '--json']);
    expect(again.code).toBe(4);
    expect((again.json as { error: { code: string; state: { current: string } } }).error).toMatchObject({ code: 'rollback_failed', state: { current: second } });
    const ok = await s.ltc(['rollback', '--env', 'staging', '--to', first]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await liveVersion(s)).toBe('1.0.0');
  });

  it('ltc rollback works while the current release is crashed, and while it hangs', async () => {
    const s = await stage();
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging'])).code).toBe(0);
    const crashed = appPid(s)!;
    process.kill(crashed, 'SIGKILL');
    const r = await s.ltc(['rollback', '--env', 'staging', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('was stale');
    expect(await liveVersion(s)).toBe('1.0.0');

    // hung: stopped with SIGSTOP, it answers nothing; SIGTERM and SIGCONT end it without waiting for the grace
    expect((await s.ltc(['rollback', '--env', 'staging', '--to', 'rc-2026-03-01'])).code).toBe(0);
    const hung = appPid(s)!;
    process.kill(hung, 'SIGSTOP');
    expect(await liveVersion(s, 500)).toMatch(/^down/);
    const h = await s.ltc(['rollback', '--env', 'staging', '--to', 'rc-2026-02-15', '--verbose']);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toContain(`stopping pid ${hung}`);
    expect(h.stdout).not.toMatch(/SIGKILL/);
    expect(alive(hung)).toBe(false);
    expect(await liveVersion(s)).toBe('1.0.0');
  });

  it('Ctrl-C during ltc rollback after its switch: exit 130, and the hint says where current points and how to finish or go back', async () => {
    // health_failures: the 500s would end the health phase before the Ctrl-C (fail-fast); this is about the interrupt.
    const s = await stage({ target: { health_deadline: '20s', health_failures: 100000 } });
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const first = currentRelease(s)!;
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging'])).code).toBe(0);
    const second = currentRelease(s)!;
    // the release to return to answers 500 now: its health check goes on until Ctrl-C
    const rel = join(s.deployRoot, 'releases', first, 'release.json');
    writeFileSync(rel, readFileSync(rel, 'utf8').replace('"ok"', '"broken"'));
    const before = appPid(s);
    const child = spawn(process.execPath, [LTC, 'rollback', '--env', 'staging'], { cwd: s.ops, env: { ...process.env, ...s.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.resume();
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const until = Date.now() + 30_000;
    while (appPid(s) === before || appPid(s) === undefined) {
      if (Date.now() > until) throw new Error('the rollback never restarted the app');
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300)); // in the health checks now
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(currentRelease(s)).toBe(first);
    expect(stderr).toContain(`hint: current → releases/${first} (switched before the interrupt; its health was not confirmed)`);
    expect(stderr).toContain(`or go back: \`ltc rollback --env staging --to ${second}\``);
    expect(stderr).not.toContain('nothing is left half-done');
    const back = await s.ltc(['rollback', '--env', 'staging', '--to', second]);
    expect(back.code, back.stderr).toBe(0);
    expect(await liveVersion(s)).toBe('1.1.0');
  });

  it('a release that ignores SIGTERM is killed (SIGKILL) once stop_grace has passed, and the rollback goes on', async () => {
    const s = await stage({ target: { start: startPer({ 'rc-2026-03-01': 'ignore-term' }), stop_grace: '1s' } });
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging'])).code).toBe(0);
    const stubborn = appPid(s)!;
    const r = await s.ltc(['rollback', '--env', 'staging', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout, r.stdout).toMatch(new RegExp(`pid ${stubborn} still runs after 1000ms: SIGKILL`));
    expect(alive(stubborn)).toBe(false);
    expect(await liveVersion(s)).toBe('1.0.0');
  });
});

describe('bad input', () => {
  it('a tag that does not exist: exit 2, the nearest tags named, the deploy root untouched', async () => {
    const s = await stage();
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const before = snapshot(s.deployRoot);
    const r = await s.ltc(['deploy', '--rc', 'rc-2026-04-01', '--env', 'staging']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tag "rc-2026-04-01" does not exist');
    expect(r.stderr).toContain('rc-2026-03-01');
    expect(snapshot(s.deployRoot)).toBe(before);
  });

  it('--rc values that try injection are refused with exit 2 before any command runs; nothing changes', async () => {
    const s = await stage();
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const before = snapshot(s.deployRoot);
    // Every command ltc could run goes through these wrappers, which log their call.
    const bin = join(await tempDir('ltc-fakebin-'), 'bin');
    mkdirSync(bin);
    const calls = join(bin, '..', 'calls.log');
    for (const tool of ['git', 'npm', 'node', 'tar', 'sh', 'bash', 'id']) {
      let real = '';
      try {
        real = execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
      } catch {
        continue;
      }
      writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> '${calls}'\nexec '${real}' "$@"\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    const env = { PATH: `${bin}:${process.env.PATH}` };
    for (const rc of ['rc-2026-03-01;id', '--upload-pack=x', '../../etc', 'rc-2026-03-01$(id)', 'rc-2026-03-01 && id', '-rf']) {
      for (const args of [['deploy', '--rc', rc, '--env', 'staging'], ['deploy', `--rc=${rc}`, '--env', 'staging']]) {
        const r = await s.ltc(args, { env });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stderr, rc).toMatch(/--rc .*(refused|not allowed|not a valid|does not match)/);
      }
    }
    const bad = await s.ltc(['rollback', '--env', 'staging', '--to', '../../etc'], { env });
    expect(bad.code).toBe(2);
    expect(existsSync(calls) ? readFileSync(calls, 'utf8') : '').toBe('');
    expect(snapshot(s.deployRoot)).toBe(before);
    expect(revisions(s)).toHaveLength(1);
  });

  it('what would only fail after the switch is refused before anything: a missing start command, a health path without url', async () => {
    const s = await stage({ target: { start: ['no-such-app-server', 'x'] } });
    const r = await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('environments.staging.target.start: command not found on PATH: no-such-app-server');
    expect(existsSync(s.deployRoot)).toBe(false);

    // (refused by the config schema, or by the deploy's own check before anything)
    const u = await stage({ environment: { url: undefined }, secret: false });
    const r2 = await u.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/"?\/api\/health"? is (the|a) path,? but (the|this) environment has no url/);
    expect(existsSync(u.deployRoot)).toBe(false);
  });

  it('a protected environment: no TTY needs --yes (exit 2 before anything), then green gates; --skip-gates is audited', async () => {
    const s = await stage({
      environment: { protected: true },
      top: { gates: [{ name: 'build', run: ['npm', 'run', 'build'] }] },
    });
    const noYes = await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toContain('error: environment staging is protected');
    expect(noYes.stderr).toContain('ltc deploy --rc rc-2026-02-15 --env staging --yes');
    expect(existsSync(s.deployRoot)).toBe(false);

    const noGates = await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging', '--yes']);
    expect(noGates.code, noGates.stderr).toBe(1);
    expect(noGates.stderr).toMatch(/gates are not green/);
    expect(noGates.stderr).toContain('--skip-gates');
    expect(currentRelease(s)).toBeUndefined();
    expect(existsSync(join(s.deployRoot, '.ltc-lock'))).toBe(false);
    // recorded as failed at the gates; no release was made, so none is named
    expect(revisions(s).at(-1)).toMatchObject({ outcome: 'failed', failedPhase: 'gates', release: null, releaseDir: null });

    const skipped = await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging', '--yes', '--skip-gates']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain('--skip-gates');
    const auditText = readFileSync(join(s.ops, '.ltc', 'audit.jsonl'), 'utf8');
    expect(auditText).toContain('"action":"deploy.skip_gates"');

    expect((await s.ltc(['gates', 'run', '--rc', 'rc-2026-03-01'])).code).toBe(0);
    const green = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--yes']);
    expect(green.code, green.stderr).toBe(0);
    expect(await liveVersion(s)).toBe('1.1.0');
    expect(previousRelease(s)).toBeDefined();
    expect(isCompleteRelease(s, currentRelease(s))).toBe(true);
  });
});
