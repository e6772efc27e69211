import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './schema/index.js';

/**
 * Validated configs cached by content: parsing YAML and validating with zod costs ~100 ms
 * of imports, paid once per distinct config text and ltc build instead of on every command.
 */
function cacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ltc', 'config');
}

async function buildStamp(): Promise<string> {
  // Changes whenever the schema is rebuilt, so a cached result never outlives its schema.
  const schemaFile = fileURLToPath(new URL('./schema/index.js', import.meta.url));
  const s = await stat(schemaFile).catch(() => undefined);
  return s ? `${s.mtimeMs}:${s.size}` : 'none';
}

export async function cacheKey(file: string, text: string): Promise<string> {
  return createHash('sha256').update(`${await buildStamp()}\0${file}\0${text}`).digest('hex');
}

export async function readCachedConfig(key: string, env: NodeJS.ProcessEnv): Promise<Config | undefined> {
  if (env.LTC_NO_CONFIG_CACHE) return undefined;
  try {
    return JSON.parse(await readFile(join(cacheDir(env), `${key}.json`), 'utf8')) as Config;
  } catch {
    return undefined;
  }
}

export async function writeCachedConfig(key: string, config: Config, env: NodeJS.ProcessEnv): Promise<void> {
  if (env.LTC_NO_CONFIG_CACHE) return;
  try {
    const dir = cacheDir(env);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, `${key}.${process.pid}.tmp`);
    await writeFile(tmp, JSON.stringify(config), { mode: 0o600 });
    await rename(tmp, join(dir, `${key}.json`));
  } catch {
    // A cache that cannot be written only costs speed.
  }
}
