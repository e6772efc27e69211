/**
 * What the fast paths of read-only commands share (`ltc secrets get`, `ltc releases`: see
 * bin/ltc.js): they run before the CLI framework loads — no commander, no yaml, no zod — from the
 * validated config in the config cache (src/config/cache.ts), which every full load writes. Each
 * returns undefined for anything it does not handle (another flag, a stale or missing cache, any
 * error), and the normal path then runs and renders errors as always.
 */
import { cacheKey, readCachedConfig } from '../config/cache.js';
import { createLoadedConfig, findConfigFile, type LoadedConfig } from '../config/load.js';
import { readTextFileSync } from '../config/read-text.js';
import type { EnvironmentConfig } from '../config/schema/index.js';
import { Masker } from '../core/masker.js';
import { colorWanted, loadPalette, type Palette } from '../core/output.js';
import { stateDirFor } from '../core/paths.js';
import { stdoutIsTerminal, writeStdoutSync } from '../core/stdout-sync.js';
import { credentialValues } from '../exec/child-env.js';

export interface FastArgs {
  /** The words after the command's own words that are not flags. */
  positional: string[];
  env?: string;
  config?: string;
  json: boolean;
  noColor: boolean;
}

/**
 * `args` starting with `command` (e.g. ['secrets', 'get']), then only --env, --config, --json,
 * --no-color and positional words; anything else is undefined.
 */
export function parseFastArgs(args: readonly string[], command: readonly string[]): FastArgs | undefined {
  if (command.some((w, i) => args[i] !== w)) return undefined;
  const p: FastArgs = { positional: [], json: false, noColor: false };
  for (let i = command.length; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    if (flag === '--env' || flag === '--config') {
      const value = inline ?? args[++i];
      if (value === undefined || value === '' || value.startsWith('-')) return undefined;
      if (flag === '--env') p.env = value;
      else p.config = value;
    } else if (a === '--json') p.json = true;
    else if (a === '--no-color') p.noColor = true;
    else if (a.startsWith('-')) return undefined;
    else p.positional.push(a);
  }
  return p;
}

export interface FastEnvironment {
  name: string;
  env: EnvironmentConfig;
  loaded: LoadedConfig;
  stateDir: string;
}

/**
 * The environment the normal path would choose, from the cached config; undefined when not
 * cached. Throws where the normal path would fail (no config file, unknown environment): the
 * callers then hand over to it, so that it renders the error.
 */
export async function cachedEnvironment(p: FastArgs, env: NodeJS.ProcessEnv, cwd: string): Promise<FastEnvironment | undefined> {
  const file = findConfigFile(cwd, p.config, env.LTC_CONFIG || undefined);
  const config = await readCachedConfig(await cacheKey(file, readTextFileSync(file, 'config')), env);
  if (!config) return undefined;
  const loaded = createLoadedConfig(file, config);
  const chosen = loaded.environment(p.env ?? (env.LTC_ENV || undefined));
  return { ...chosen, loaded, stateDir: stateDirFor(file, env) };
}

/**
 * Prints a command's result as the normal path does: one JSON document or the text. A fast path
 * prints metadata (names, paths, dates, commits) and loads no secret value; should a credential
 * from the environment still show up in it, the normal path runs instead and masks every form of it.
 */
export async function printFast(p: FastArgs, env: NodeJS.ProcessEnv, result: (c: Palette) => Promise<{ data: Record<string, unknown>; text: string }>): Promise<number | undefined> {
  const r = await result(await loadPalette(colorWanted(!p.noColor, env, stdoutIsTerminal)));
  const out = p.json ? JSON.stringify({ ok: true, ...r.data }, null, 2) : r.text;
  // Any form the masker knows (lower-cased, JSON-escaped, base64, …), not only the value as is.
  const masker = new Masker();
  for (const v of credentialValues(env)) masker.add(v);
  if (masker.mask(out) !== out) return undefined;
  writeStdoutSync(out + '\n');
  return 0;
}
