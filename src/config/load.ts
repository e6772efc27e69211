import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import type { Config, EnvironmentConfig } from './schema/index.js';
import { cacheKey, readCachedConfig, writeCachedConfig } from './cache.js';

export const CONFIG_FILE = 'ltc.config.yaml';

export interface LoadedConfig {
  file: string;
  dir: string;
  config: Config;
  /** Resolves a path from the config relative to the config file's folder. */
  resolvePath(p: string): string;
  environment(name: string | undefined): { name: string; env: EnvironmentConfig };
}

/** `--config`, else LTC_CONFIG, else ltc.config.yaml found upward from `cwd`. */
export function findConfigFile(cwd: string, explicit: string | undefined, envValue: string | undefined): string {
  const given = explicit ?? envValue;
  if (given) {
    const file = resolve(cwd, given);
    if (!existsSync(file)) {
      throw new ConfigError(`config file not found: ${file}`, {
        hint: `check the path given by ${explicit ? '--config' : 'LTC_CONFIG'}, or create one with \`ltc init\``,
      });
    }
    if (statSync(file).isDirectory()) {
      const inside = join(file, CONFIG_FILE);
      const there = existsSync(inside);
      const flag = explicit ? '--config' : 'LTC_CONFIG';
      throw new ConfigError(`${flag} ${file} is a folder, not a config file`, {
        hint: explicit
          ? there
            ? `pass the file: --config ${inside}`
            : `pass a config file (there is no ${CONFIG_FILE} in that folder; \`ltc init\` writes one)`
          : `point LTC_CONFIG at the config file${there ? `: ${inside}` : ` (there is no ${CONFIG_FILE} in that folder; \`ltc init\` writes one)`}`,
      });
    }
    return file;
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, CONFIG_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new ConfigError(`no ${CONFIG_FILE} found in ${cwd} or any folder above it`, {
    hint: 'run `ltc init` to write one, or pass --config <file> (or set LTC_CONFIG)',
  });
}

/** Parses and validates config text (loads yaml and zod on demand). */
export async function parseConfigText(file: string, text: string): Promise<Config> {
  return (await import('./parse.js')).parseConfig(file, text);
}

export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  let text: string;
  text = await (await import('./read-text.js')).readTextFile(file, 'config');
  const key = await cacheKey(file, text);
  let config = await readCachedConfig(key, env);
  if (!config) {
    config = await parseConfigText(file, text);
    await writeCachedConfig(key, config, env);
  }
  return createLoadedConfig(file, config);
}

export function createLoadedConfig(file: string, config: Config): LoadedConfig {
  const dir = dirname(file);
  return {
    file,
    dir,
    config,
    resolvePath: (p) => (isAbsolute(p) || /^[a-z]+:\/\//i.test(p) ? p : resolve(dir, p)),
    environment(name) {
      const names = Object.keys(config.environments);
      if (!name && config.default_env) name = config.default_env;
      if (!name) {
        if (names.length === 1) return { name: names[0]!, env: config.environments[names[0]!]! };
        throw new UsageError('no environment given', {
          hint: `pass --env <name> (or set LTC_ENV, or default_env in ${file}); configured: ${names.join(', ') || 'none'}`,
        });
      }
      // Own keys only: `__proto__`, `constructor` or `toString` is an unknown environment, not Object's.
      const env = Object.hasOwn(config.environments, name) ? config.environments[name] : undefined;
      if (!env) {
        throw new UsageError(`unknown environment ${JSON.stringify(name)} in ${file}`, {
          hint: didYouMean(name, names) ?? `configured environments: ${names.join(', ') || 'none'}`,
        });
      }
      return { name, env };
    },
  };
}
