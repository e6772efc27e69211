/**
 * The fast path of `ltc secrets get <NAME>` (metadata, file backend), called from bin/ltc.js
 * before the CLI framework loads: no commander, no yaml, no zod. It reads the validated config
 * from the config cache (src/config/cache.ts), which every full load of the config writes, keyed by
 * the config text and the schema build. The file store's metadata is readable (the values are what is encrypted, see
 * src/secrets/backends/file.ts), so this needs no key, no crypto and two modules (this, format.js).
 * Whenever anything is unusual — another flag, a stale or missing cache, another backend, any
 * error — it returns undefined and the normal path runs (and renders errors) as always.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { cacheKey, readCachedConfig } from '../config/cache.js';
import { defaultStorePath, describeMeta, describeResult, isStoreEnvelope } from './format.js';

const CONFIG_FILE = 'ltc.config.yaml';

interface Parsed {
  name: string;
  env?: string;
  config?: string;
  json: boolean;
}

function parse(args: readonly string[]): Parsed | undefined {
  if (args[0] !== 'secrets' || args[1] !== 'get') return undefined;
  const p: Parsed = { name: '', json: false };
  for (let i = 2; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    if (flag === '--env' || flag === '--config') {
      const value = inline ?? args[++i];
      if (value === undefined || value === '') return undefined;
      if (flag === '--env') p.env = value;
      else p.config = value;
    } else if (a === '--json') p.json = true;
    else if (a === '--no-color') continue;
    else if (!a.startsWith('-') && !p.name && /^[A-Z][A-Z0-9_]*$/.test(a)) p.name = a;
    else return undefined;
  }
  return p.name ? p : undefined;
}

function findConfig(cwd: string, explicit: string | undefined): string | undefined {
  if (explicit) {
    const f = resolve(cwd, explicit);
    return existsSync(f) ? f : undefined;
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, CONFIG_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Exit code when handled; undefined to run the normal CLI instead. */
export async function fastSecretsGet(args: readonly string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): Promise<number | undefined> {
  try {
    const p = parse(args);
    if (!p) return undefined;
    const file = findConfig(cwd, p.config ?? (env.LTC_CONFIG || undefined));
    if (!file) return undefined;
    const stateDir = env.LTC_STATE_DIR || join(dirname(file), '.ltc');
    const cached = await readCachedConfig(await cacheKey(file, readFileSync(file, 'utf8')), env);
    if (!cached) return undefined;
    const environments = Object.keys(cached.environments);
    const envName = p.env ?? (env.LTC_ENV || undefined) ?? (environments.length === 1 ? environments[0] : undefined);
    const config = envName ? cached.environments[envName]?.secrets : undefined;
    if (!envName || !config || config.backend !== 'file') return undefined;
    const dir = dirname(file);
    const store = config.path ? (isAbsolute(config.path) ? config.path : resolve(dir, config.path)) : defaultStorePath(stateDir, envName);
    const envelope: unknown = JSON.parse(readFileSync(store, 'utf8'));
    if (!isStoreEnvelope(envelope)) return undefined;
    const secret = envelope.meta.secrets[p.name];
    if (!secret) return undefined;
    const r = describeResult(envName, { kind: 'file', location: store }, describeMeta(p.name, secret), config.required.some((x) => x.name === p.name));
    const out = p.json ? JSON.stringify({ ok: true, ...r.data }, null, 2) : r.text;
    // Metadata only: no value was loaded, so there is nothing to mask.
    process.stdout.write(out + '\n');
    return 0;
  } catch {
    return undefined;
  }
}
