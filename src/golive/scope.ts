/** What every go-live check reads: the RC, its commit, the environment, backends and trees, each loaded once. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from '../core/context.js';
import type { LoadedConfig } from '../config/load.js';
import type { EnvironmentConfig } from '../config/schema/index.js';
import type { GoliveConfig } from '../config/schema/golive.js';
import { ConfigError, UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import type { SecretsBackend } from '../secrets/backend.js';
import { userRegex } from '../core/user-regex.js';

export interface GoliveScope {
  ctx: Context;
  rc: string;
  environment: string;
  env: EnvironmentConfig;
  loaded: LoadedConfig;
  golive: GoliveConfig;
  stateDir: string;
  sendTestAlert: boolean;
  signal: AbortSignal;
  now: number;
  commit(): Promise<string>;
  mirror(): Promise<string>;
  /** The RC's tree exported into a temp folder (removed by close()). */
  tree(): Promise<string>;
  backend(envName: string): Promise<SecretsBackend>;
  envConfig(envName: string): EnvironmentConfig;
  close(): Promise<void>;
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

export async function openGoliveScope(ctx: Context, opts: { rc: string; environment?: string; sendTestAlert?: boolean }): Promise<GoliveScope> {
  const loaded = await ctx.config();
  const { name, env } = loaded.environment(opts.environment ?? ctx.options.env ?? ctx.env.LTC_ENV);
  const stateDir = await ctx.stateDir();
  const config = loaded.config;
  const { checkRcPattern } = { checkRcPattern: (rc: string) => new RegExp(config.app.tag_pattern).test(rc) };
  if (!checkRcPattern(opts.rc)) {
    throw new UsageError(`--rc ${JSON.stringify(opts.rc)} does not match app.tag_pattern ${config.app.tag_pattern} (${loaded.file})`, {
      hint: 'give a release candidate tag such as rc-2026-03-01',
    });
  }
  const cleanups: string[] = [];
  const backends = new Map<string, Promise<SecretsBackend>>();
  const scope: GoliveScope = {
    ctx,
    rc: opts.rc,
    environment: name,
    env,
    loaded,
    golive: config.golive,
    stateDir,
    sendTestAlert: opts.sendTestAlert ?? false,
    signal: ctx.signal,
    now: Date.now(),
    commit: once(async () => {
      const { resolveTag, checkRepoString, isRemoteUrl } = await import('../git/repo.js');
      const repo = checkRepoString(isRemoteUrl(config.app.repo) ? config.app.repo : loaded.resolvePath(config.app.repo));
      return resolveTag(repo, opts.rc, { pattern: userRegex(config.app.tag_pattern, 'app.tag_pattern'), signal: ctx.signal });
    }),
    mirror: once(async () => {
      const { ensureMirror, checkRepoString, isRemoteUrl } = await import('../git/repo.js');
      const repo = checkRepoString(isRemoteUrl(config.app.repo) ? config.app.repo : loaded.resolvePath(config.app.repo));
      return ensureMirror(repo, join(stateDir, 'cache'), { commit: await scope.commit(), signal: ctx.signal });
    }),
    tree: once(async () => {
      const { exportTree } = await import('../git/repo.js');
      const dir = await mkdtemp(join(tmpdir(), 'ltc-golive-tree-'));
      cleanups.push(dir);
      const dest = join(dir, 'tree');
      await exportTree(await scope.mirror(), await scope.commit(), dest, { signal: ctx.signal });
      return dest;
    }),
    envConfig(envName) {
      const e = config.environments[envName];
      if (!e) {
        throw new ConfigError(`environment "${envName}" is not configured in ${loaded.file}`, {
          hint: didYouMean(envName, Object.keys(config.environments)) ?? `configured: ${Object.keys(config.environments).join(', ') || 'none'}`,
        });
      }
      return e;
    },
    backend(envName) {
      let b = backends.get(envName);
      if (!b) {
        b = (async () => {
          const e = scope.envConfig(envName);
          if (!e.secrets) throw new ConfigError(`environment "${envName}" has no secrets: section in ${loaded.file}`, { hint: 'add secrets: { backend: file, required: [...] }' });
          const { openBackend } = await import('../secrets/backend.js');
          return openBackend({ environment: envName, config: e.secrets, resolvePath: loaded.resolvePath, stateDir, env: ctx.env, masker: ctx.masker, configFile: loaded.file });
        })();
        backends.set(envName, b);
      }
      return b;
    },
    async close() {
      for (const b of backends.values()) await b.then((x) => x.close?.()).catch(() => undefined);
      for (const d of cleanups) await rm(d, { recursive: true, force: true });
    },
  };
  return scope;
}
