/**
 * What the first real deployment tripped over: a steady 500 is "up and failing" (rolled back after
 * health_failures answers, not at health_deadline), the automatic rollback line is ✓ when it
 * worked, a failed build shows npm's cause and names the log, default_env, and `ltc init`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs, runLtc, tempDir } from './helpers/cli.ts';
import { currentRelease, makeStage, processesUnder, revisions, stopStage, type Stage } from './helpers/deploy.ts';

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

describe('health: up and failing fails fast', () => {
  it('a release that answers 500 steadily is rolled back after 3 failing answers, not at health_deadline (60s); the rollback line is ✓', async () => {
    const s = await stage({ target: { health_deadline: '60s' } });
    expect((await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging'])).code).toBe(0);
    const good = currentRelease(s);
    const r = await s.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging'], { env: { NO_COLOR: '1' } });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('is up but unhealthy: 3 answers in a row failed their conditions');
    expect(r.stderr).toContain('health_failures: 3');
    expect(r.stderr).toContain(`rolled back to ${good}`);
    expect(currentRelease(s)).toBe(good);
    // The health step failed (✗); its on_failure rollback worked (✓).
    expect(r.stdout).toMatch(/✗ health/);
    expect(r.stdout).toMatch(/✓ rollback-health/);
    expect(r.stdout).not.toMatch(/✗ rollback-health/);
    expect(revisions(s).at(-1)).toMatchObject({ outcome: 'rolled_back', failedPhase: 'health' });
  });

  it('health_failures below 1 is a config error naming the key', async () => {
    const s = await stage({ target: { health_failures: 0 }, secret: false });
    const r = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('health_failures');
  });
});

describe('a failed build says why', () => {
  it("npm ci without a lock file: the hint starts with npm's cause, not its usage text, and names the kept log", async () => {
    const s = await stage({ target: { build: [['bash', '-c', 'rm -f package-lock.json && npm ci']] } });
    const r = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(1);
    const hint = r.stderr.slice(r.stderr.indexOf('hint:'));
    expect(hint).toContain('can only install with an existing package-lock.json');
    expect(hint.indexOf('can only install')).toBeLessThan(hint.indexOf('(ran in') === -1 ? Infinity : hint.indexOf('(ran in'));
    expect(hint).not.toContain('Usage:');
    expect(hint).not.toContain('--install-strategy');
    const log = /its whole output: (\S+)/.exec(hint)?.[1];
    expect(log, hint).toBeDefined();
    expect(existsSync(log!)).toBe(true);
    expect(readFileSync(log!, 'utf8')).toContain('Usage:');
  });
});

describe('default_env', () => {
  async function ops(config: Record<string, unknown>): Promise<string> {
    const dir = await tempDir('ltc-default-env-');
    writeFileSync(join(dir, 'ltc.config.yaml'), stringify({ version: 1, app: { repo: './app' }, ...config }));
    return dir;
  }
  const envs = {
    staging: { secrets: { backend: 'file' } },
    prod: { protected: true, secrets: { backend: 'file' } },
  };

  it('commands that take --env use default_env without it', async () => {
    const dir = await ops({ default_env: 'staging', environments: envs });
    const r = await runLtc(['secrets', 'list', '--json'], { cwd: dir, env: { LTC_MASTER_KEY: 'x'.repeat(44), LTC_ENV: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ environment: 'staging' });
    const explicit = await runLtc(['secrets', 'list', '--json', '--env', 'prod'], { cwd: dir, env: { LTC_MASTER_KEY: 'x'.repeat(44), LTC_ENV: '' } });
    expect(explicit.json).toMatchObject({ environment: 'prod' });
    const none = await ops({ environments: envs });
    const missing = await runLtc(['secrets', 'list'], { cwd: none, env: { LTC_ENV: '' } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('default_env');
  });

  it('a protected or unknown default_env is a config error (exit 2)', async () => {
    const prot = await runLtc(['config', 'validate'], { cwd: await ops({ default_env: 'prod', environments: envs }) });
    expect(prot.code).toBe(2);
    expect(prot.stderr).toContain('default_env');
    expect(prot.stderr).toContain('protected');
    const unknown = await runLtc(['config', 'validate'], { cwd: await ops({ default_env: 'stagin', environments: envs }) });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"stagin" is not a configured environment');
  });
});

describe('ltc init', () => {
  it('--repo: the next step does not say "edit app.repo"; default_env is staging; the pwsh hint names no tools/test_all.mjs', async () => {
    const dir = await tempDir('ltc-init-');
    const r = await runLtc(['init', '--repo', 'git@github.com:example/lifetimecircle.git'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('edit app.repo');
    expect(r.stdout).toContain('app.repo is "git@github.com:example/lifetimecircle.git"');
    const text = readFileSync(join(dir, 'ltc.config.yaml'), 'utf8');
    expect(text).toMatch(/^default_env: staging$/m);
    expect(text).not.toContain('test_all.mjs');
    expect((await runLtc(['config', 'validate'], { cwd: dir })).code).toBe(0);
    const plain = await tempDir('ltc-init-');
    const p = await runLtc(['init'], { cwd: plain });
    expect(p.stdout).toContain('edit app.repo');
  });
});

describe('the rollback hint offers only releases that answered healthy', () => {
  it('previous that never ran is not offered; the newest healthy other release is', async () => {
    const { suggestRelease } = await import('../src/deploy/rollback.ts');
    const releases = [{ name: 'r4' }, { name: 'r3' }, { name: 'r2' }, { name: 'r1' }];
    // r3 (previous) was switched to by a killed deploy and never answered; r2 was live.
    expect(suggestRelease(releases, 'r3', ['r4', 'r4'], new Set(['r2', 'r1']))).toBe('r2');
    expect(suggestRelease(releases, 'r3', ['r4'], new Set(['r3', 'r2']))).toBe('r3');
    expect(suggestRelease(releases, 'r3', ['r4'], new Set())).toBeUndefined();
    expect(suggestRelease(releases, undefined, ['r4', 'r2'], new Set(['r4', 'r2']))).toBeUndefined();
  });
});
