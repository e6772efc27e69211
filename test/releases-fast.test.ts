/**
 * The fast path of `ltc releases` (bin/ltc.js → src/deploy/releases-fast.ts): on a local target it
 * prints what the full CLI prints, text and --json, without loading commander, zod, yaml or any npm
 * package; anything else (--hosts, an unknown environment, no cached config, a credential that
 * would need masking) is answered by the full CLI.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastReleases } from '../src/deploy/releases-fast.js';
import { cleanupTempDirs } from './helpers/cli.js';
import { tracedLtc } from './helpers/load-trace.js';
import { currentRelease, makeStage, releaseMeta, stopStage, type Stage } from './helpers/deploy.js';

let s: Stage;
let env: Record<string, string>;

/** ltc with the load-trace hook (npm packages, the full CLI, the costlier builtins). */
function traced(args: string[], extra: Record<string, string> = {}) {
  return tracedLtc(args, { cwd: s.ops, hookDir: s.dir, env: { ...env, ...extra } });
}

beforeAll(async () => {
  s = await makeStage();
  env = { ...s.env, XDG_CACHE_HOME: join(s.dir, '.cache') };
  const r = await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'], { env: { XDG_CACHE_HOME: env.XDG_CACHE_HOME } });
  expect(r.code, r.stderr + r.stdout).toBe(0);
}, 120_000);

afterAll(async () => {
  if (s) await stopStage(s);
  await cleanupTempDirs();
});

describe('ltc releases fast path', () => {
  it('prints what the full CLI prints (text and --json), loading no npm package, no child_process, crypto, fs/promises or stream', async () => {
    const fast = await traced(['releases', '--env', 'staging']);
    const fastJson = await traced(['releases', '--env=staging', '--json']);
    expect(fast.code, fast.stderr).toBe(0);
    expect(fast.loaded).toEqual([]);
    expect(fastJson.loaded).toEqual([]);
    const cur = currentRelease(s)!;
    expect(fast.stdout).toMatch(new RegExp(`^\\* current\\s+${cur}\\s+${releaseMeta(s, cur).commit.slice(0, 12)}`, 'm'));
    expect(fast.stdout).toMatch(/last: deploy ok/);
    expect(fast.stdout).toMatch(/app: pid \d+ runs /);

    const full = await traced(['releases', '--env', 'staging'], { LTC_NO_CONFIG_CACHE: '1' });
    const fullJson = await traced(['releases', '--env', 'staging', '--json'], { LTC_NO_CONFIG_CACHE: '1' });
    expect(full.loaded).toContain('ltc-full-cli');
    expect(full.loaded).toContain('node:child_process'); // the hook sees it (commander imports it)
    expect(full.loaded).toContain('node:net'); // process.stdout on a pipe
    expect(fast.stdout).toBe(full.stdout);
    expect(JSON.parse(fastJson.stdout)).toEqual(JSON.parse(fullJson.stdout));
    expect(JSON.parse(fastJson.stdout)).toMatchObject({ ok: true, environment: 'staging', current: cur, previous: null, releases: [{ name: cur, mark: 'current', last: 'deploy ok' }] });
  });

  it('a credential in the environment that the output would show: the full CLI answers and masks it', async () => {
    const commit = releaseMeta(s, currentRelease(s)!).commit.slice(0, 12);
    const r = await traced(['releases', '--env', 'staging'], { VAULT_TOKEN: commit });
    expect(r.code).toBe(0);
    expect(r.loaded).toContain('ltc-full-cli');
    expect(r.stdout).not.toContain(commit);
    expect(r.stdout).toContain('***');
  });

  it('hands anything else to the full CLI: an unknown environment, --hosts, no cached config', async () => {
    const unknown = await traced(['releases', '--env', 'stagign']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown environment "stagign"[\s\S]*did you mean "staging"\?/);
    const hosts = await traced(['releases', '--env', 'staging', '--hosts', 'api1']);
    expect(hosts.loaded).toContain('ltc-full-cli');
    const run = (args: string[]) => fastReleases(args, { ...env }, s.ops);
    expect(await run(['releases', '--env', 'staging', '--hosts', 'api1'])).toBeUndefined();
    expect(await run(['releases', 'extra', '--env', 'staging'])).toBeUndefined();
    expect(await run(['releases', '--env'])).toBeUndefined();
    expect(await run(['releases', '--verbose', '--env', 'staging'])).toBeUndefined();
    await rm(join(env.XDG_CACHE_HOME!, 'ltc', 'config'), { recursive: true, force: true });
    expect(await run(['releases', '--env', 'staging'])).toBeUndefined();
    const again = await traced(['releases', '--env', 'staging']);
    expect(again.code).toBe(0);
    expect(again.loaded).toContain('ltc-full-cli');
    expect((await traced(['releases', '--env', 'staging'])).loaded).toEqual([]);
  });
});
