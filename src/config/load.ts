import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { configSchema, type Config, type EnvironmentConfig } from './schema/index.js';
import { parseWithSchema } from './schema-errors.js';
import { YamlSource } from './yaml-source.js';

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

export function parseConfig(file: string, text: string): Config {
  const source = YamlSource.parse(file, text, 'config');
  if (source.toJS() == null) {
    throw new ConfigError(`${file}:1:1: config is empty`, { hint: 'run `ltc init` for a commented example' });
  }
  return parseWithSchema(configSchema, source, `config ${file}`);
}

export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  const config = parseConfig(file, text);
  const dir = dirname(file);
  return {
    file,
    dir,
    config,
    resolvePath: (p) => (isAbsolute(p) || /^[a-z]+:\/\//i.test(p) ? p : resolve(dir, p)),
    environment(name) {
      const names = Object.keys(config.environments);
      if (!name) {
        if (names.length === 1) return { name: names[0]!, env: config.environments[names[0]!]! };
        throw new UsageError('no environment given', {
          hint: `pass --env <name> (or set LTC_ENV); configured: ${names.join(', ') || 'none'}`,
        });
      }
      const env = config.environments[name];
      if (!env) {
        throw new UsageError(`unknown environment "${name}" in ${file}`, {
          hint: didYouMean(name, names) ?? `configured environments: ${names.join(', ') || 'none'}`,
        });
      }
      return { name, env };
    },
  };
}
