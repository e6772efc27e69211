/**
 * The fast path of `ltc secrets get <NAME>` (bin/ltc.js → src/secrets/fast.ts): same output as the
 * full CLI, no commander/zod/yaml/SDKs loaded, a config change or anything unusual falls back.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { fastSecretsGet } from '../src/secrets/fast.js';
import { cleanupTempDirs } from './helpers/cli.js';
import { tracedLtc } from './helpers/load-trace.js';
import { fileEnv, makeOps, type Ops } from './helpers/secrets.js';

afterAll(cleanupTempDirs);

/** ltc with the load-trace hook: `packages` is what it reported (npm packages, `ltc-full-cli`). */
async function traced(ops: Ops, args: string[]): Promise<{ code: number; stdout: string; packages: string[]; builtins: string[] }> {
  const r = await tracedLtc(args, { cwd: ops.dir, hookDir: ops.dir, env: ops.env });
  return { code: r.code, stdout: r.stdout, packages: r.loaded.filter((p) => !p.startsWith('node:')), builtins: r.loaded.filter((p) => p.startsWith('node:')) };
}

describe('secrets get fast path', () => {
  it('prints what the full CLI prints, loading no npm package at all', async () => {
    const ops = await makeOps({ staging: fileEnv([{ name: 'LTC_SECRET_KEY', kind: 'secret_key' }]) });
    expect((await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY'])).code).toBe(0);
    expect((await ops.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY'])).code).toBe(0);

    const fastText = await traced(ops, ['secrets', 'get', 'LTC_SECRET_KEY']);
    const fastJson = await traced(ops, ['secrets', 'get', 'LTC_SECRET_KEY', '--json', '--env', 'staging']);
    expect(fastText.code).toBe(0);
    expect(fastText.packages).toEqual([]);
    expect(fastJson.packages).toEqual([]);
    // Nor the costlier builtins: child_process, crypto, fs/promises, net/tty (process.stdout).
    expect(fastText.builtins).toEqual([]);
    expect(fastJson.builtins).toEqual([]);
    expect(fastText.stdout).toContain('current');

    // Without the cache the full CLI answers (and writes the cache again).
    const cache = join(ops.dir, '.cache', 'ltc', 'config');
    await rm(cache, { recursive: true });
    const slowText = await traced(ops, ['secrets', 'get', 'LTC_SECRET_KEY']);
    expect(slowText.packages).toContain('ltc-full-cli');
    await rm(cache, { recursive: true });
    const slowJson = await traced(ops, ['secrets', 'get', 'LTC_SECRET_KEY', '--json', '--env', 'staging']);
    expect(slowText.stdout).toBe(fastText.stdout);
    expect(JSON.parse(slowJson.stdout)).toEqual(JSON.parse(fastJson.stdout));
    expect(JSON.parse(fastJson.stdout)).toMatchObject({ ok: true, environment: 'staging', backend: 'file', required: true, secret: { name: 'LTC_SECRET_KEY' } });
    expect((await traced(ops, ['secrets', 'get', 'LTC_SECRET_KEY'])).packages).toEqual([]);
  });

  it('an edited config is never served from the cache', async () => {
    const ops = await makeOps({ staging: fileEnv() });
    expect((await ops.ltc(['secrets', 'generate', 'API_TOKEN'])).code).toBe(0);
    expect(JSON.parse((await traced(ops, ['secrets', 'get', 'API_TOKEN', '--json'])).stdout)).toMatchObject({ required: false });
    await writeFile(join(ops.dir, 'ltc.config.yaml'), stringify({ version: 1, app: { repo: './app' }, environments: { staging: fileEnv([{ name: 'API_TOKEN', kind: 'token' }]) } }));
    const after = await traced(ops, ['secrets', 'get', 'API_TOKEN', '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject({ required: true });
    expect(after.packages).toContain('ltc-full-cli');
    const again = await traced(ops, ['secrets', 'get', 'API_TOKEN', '--json']);
    expect(again.packages).toEqual([]);
    expect(JSON.parse(again.stdout)).toMatchObject({ required: true });
  });

  it('hands anything else to the full CLI: errors, other flags, other backends', async () => {
    const ops = await makeOps({ staging: fileEnv(), prod: { secrets: { backend: 'vault', address: 'http://127.0.0.1:1' } } });
    expect((await ops.ltc(['secrets', 'generate', 'API_TOKEN', '--env', 'staging'])).code).toBe(0);
    const unknown = await ops.ltc(['secrets', 'get', 'API_TOKN', '--env', 'staging']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('did you mean "API_TOKEN"?');
    const noEnv = await ops.ltc(['secrets', 'get', 'API_TOKEN']);
    expect(noEnv.code).toBe(2);
    expect(noEnv.stderr).toContain('no environment given');
    // A damaged store is reported by the full CLI, as without the fast path.
    const store = join(ops.dir, '.ltc', 'secrets', 'staging.json');
    const good = await readFile(store, 'utf8');
    const { iv: _iv, ...noIv } = JSON.parse(good) as Record<string, unknown>;
    await writeFile(store, JSON.stringify(noIv));
    const damaged = await ops.ltc(['secrets', 'get', 'API_TOKEN', '--env', 'staging']);
    expect(damaged.code).toBe(2);
    expect(damaged.stderr).toContain(`${store} is corrupted`);
    await writeFile(store, good);
    const env = { ...ops.env };
    const run = (args: string[]) => fastSecretsGet(args, env, ops.dir);
    expect(await run(['secrets', 'get', 'API_TOKEN', '--env', 'staging', '--reveal'])).toBeUndefined();
    expect(await run(['secrets', 'get', 'API_TOKEN', '--env', 'staging', '--stage', 'previous'])).toBeUndefined();
    expect(await run(['secrets', 'get', 'API_TOKEN', '--env', 'prod'])).toBeUndefined();
    expect(await run(['secrets', 'get', 'API_TOKEN'])).toBeUndefined();
    expect(await run(['secrets', 'list'])).toBeUndefined();
  });
});
