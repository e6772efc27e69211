import { closeSync, fstatSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from './schema/index.js';
import { packageRoot } from '../core/paths.js';

/**
 * Validated configs and runbooks cached by content: parsing YAML and validating with zod costs
 * ~100 ms of imports, paid once per distinct text and ltc build instead of on every command.
 * LTC_NO_CONFIG_CACHE turns both off.
 */
export type CacheKind = 'config' | 'runbook';

function cacheDir(env: NodeJS.ProcessEnv, kind: CacheKind): string {
  // The XDG spec: a relative XDG_CACHE_HOME is invalid and ignored (it would follow the cwd).
  const base = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'ltc', kind);
}

/**
 * A cached config is used as it is, without validating it again: only what this user wrote may
 * count. A folder or entry owned by someone else, or writable by group or others (an
 * XDG_CACHE_HOME in a shared place), is passed over, and nothing is written into such a folder.
 */
function ownedAndPrivate(st: Stats): boolean {
  const uid = process.getuid?.();
  return (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

/** The folder and the two above it (`ltc/`, the cache home): nobody else could have put the entry there or swapped a folder in. */
function trustedDir(dir: string): boolean {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory() || !ownedAndPrivate(st)) return false;
  const ltc = statSync(dirname(dir), { throwIfNoEntry: false });
  if (ltc === undefined || !ownedAndPrivate(ltc)) return false;
  // The cache home may be shared (/tmp) if it is sticky: then no one else can rename ltc/ away.
  const home = statSync(dirname(dirname(dir)), { throwIfNoEntry: false });
  const uid = process.getuid?.();
  return home !== undefined && (home.uid === uid || home.uid === 0) && ((home.mode & 0o022) === 0 || (home.mode & 0o1000) !== 0);
}

async function buildStamp(): Promise<string> {
  // Changes whenever the schema is rebuilt, so a cached result never outlives its schema.
  // Next to this module in dist/src; from the bundle (dist/bundle), the tsc output it was made from.
  const near = fileURLToPath(new URL('./schema/index.js', import.meta.url));
  // Reads here are synchronous (a few small files): the fast paths then never load node:fs/promises.
  const s = statSync(near, { throwIfNoEntry: false }) ?? statSync(join(packageRoot(), 'dist', 'src', 'config', 'schema', 'index.js'), { throwIfNoEntry: false });
  return s ? `${s.mtimeMs}:${s.size}` : 'none';
}

/** Names the cache file; the entry itself holds the full source, compared on every read. */
export interface CacheKey {
  id: string;
  source: string;
}

/** 53-bit FNV-style hash: node:crypto alone costs ~15 ms to load, more than the whole fast path. */
function hash53(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16);
}

export async function cacheKey(file: string, text: string): Promise<CacheKey> {
  const source = `${await buildStamp()}\0${file}\0${text}`;
  return { id: hash53(source), source };
}

interface CacheEntry<T> {
  source: string;
  value: T;
}

export async function readCached<T>(kind: CacheKind, key: CacheKey, env: NodeJS.ProcessEnv): Promise<T | undefined> {
  if (env.LTC_NO_CONFIG_CACHE) return undefined;
  const dir = cacheDir(env, kind);
  let fd: number | undefined;
  try {
    if (!trustedDir(dir)) return undefined;
    fd = openSync(join(dir, `${key.id}.json`), 'r');
    const st = fstatSync(fd);
    if (!st.isFile() || !ownedAndPrivate(st)) return undefined;
    const entry = JSON.parse(readFileSync(fd, 'utf8')) as CacheEntry<T>;
    return entry.source === key.source ? entry.value : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export async function writeCached<T>(kind: CacheKind, key: CacheKey, value: T, env: NodeJS.ProcessEnv): Promise<void> {
  if (env.LTC_NO_CONFIG_CACHE) return;
  try {
    const dir = cacheDir(env, kind);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (!trustedDir(dir)) return;
    const tmp = join(dir, `${key.id}.${process.pid}.tmp`);
    const entry: CacheEntry<T> = { source: key.source, value };
    await writeFile(tmp, JSON.stringify(entry), { mode: 0o600 });
    await rename(tmp, join(dir, `${key.id}.json`));
  } catch {
    // A cache that cannot be written only costs speed.
  }
}

export const readCachedConfig = (key: CacheKey, env: NodeJS.ProcessEnv) => readCached<Config>('config', key, env);
export const writeCachedConfig = (key: CacheKey, config: Config, env: NodeJS.ProcessEnv) => writeCached('config', key, config, env);
