/**
 * The audit log's HMAC key: a file outside the ops repo and `.ltc/` (mode 0600), or a secret in
 * an environment's secrets backend. See docs/audit.md.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Context } from '../core/context.js';
import { ConfigError, UsageError } from '../core/errors.js';
import type { AuditKey } from './key-source.js';

export const KEY_ENV = 'LTC_AUDIT_KEY_FILE';
const MIN_KEY_CHARS = 32;

export function keyId(key: Buffer): string {
  return createHash('sha256').update('ltc-audit-key\n').update(key).digest('hex').slice(0, 16);
}

export function hmacHex(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

function keyFrom(text: string, source: string): AuditKey {
  const trimmed = text.trim();
  if (trimmed.length < MIN_KEY_CHARS) {
    throw new ConfigError(`the audit key in ${source} is ${trimmed.length} characters long: it needs at least ${MIN_KEY_CHARS}`, {
      hint: 'make one with `ltc audit init-key --out <file outside the ops repo>` (or `openssl rand -hex 32`)',
    });
  }
  const key = Buffer.from(trimmed, 'utf8');
  return { key, id: keyId(key), source };
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

function inside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
}

/** The ops repo: the git work tree holding the config file, else the config file's folder. */
export function opsRepoOf(configFile: string): string {
  let dir = dirname(real(configFile));
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return d;
    if (dirname(d) === d) break;
  }
  return dir;
}

/**
 * Reads and checks a key file: a regular file, not readable by group or others, not inside the
 * ops repo or the state folder (a person who can write `.ltc/` must not be able to read the key).
 */
export async function readKeyFile(file: string, forbidden: { opsRepo?: string; stateDir?: string }, named: string): Promise<AuditKey> {
  const st = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(`${named} names ${file}, which cannot be read: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, {
      hint: `create it with \`ltc audit init-key --out ${file}\`, or point ${named} at the key file`,
    });
  });
  if (!st.isFile()) throw new ConfigError(`${named} names ${file}, which is not a regular file`);
  const path = real(file);
  for (const [what, dir] of [['the state folder', forbidden.stateDir], ['the ops repo', forbidden.opsRepo]] as const) {
    if (dir && inside(path, real(dir))) {
      throw new ConfigError(`the audit key ${file} (${named}) is inside ${what} ${dir}: whoever can write there could read the key and forge the log`, {
        hint: `move it outside (e.g. ~/.config/ltc/audit.key or /etc/ltc/audit.key, mode 0600) and set ${named} to the new path`,
      });
    }
  }
  if ((st.mode & 0o077) !== 0) {
    throw new ConfigError(`the audit key ${file} (${named}) is readable by group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`, {
      hint: `chmod 600 ${file}`,
    });
  }
  return keyFrom(await readFile(file, 'utf8'), file);
}

/** Without a context: LTC_AUDIT_KEY_FILE only (the state folder from LTC_STATE_DIR when set). */
export async function keyFromEnvironment(env: NodeJS.ProcessEnv, cwd: string): Promise<AuditKey | undefined> {
  const file = env[KEY_ENV];
  if (!file) return undefined;
  return readKeyFile(resolve(cwd, file), { stateDir: env.LTC_STATE_DIR ?? join(cwd, '.ltc') }, KEY_ENV);
}

/** The key for the context: LTC_AUDIT_KEY_FILE, else audit.key_file, else audit.key_secret; undefined when none. */
export async function resolveAuditKey(ctx: Context): Promise<AuditKey | undefined> {
  const stateDir = await ctx.stateDir();
  let loaded;
  try {
    loaded = await ctx.config();
  } catch {
    loaded = undefined; // no config (LTC_STATE_DIR alone): only the variable can name a key
  }
  const opsRepo = loaded ? opsRepoOf(loaded.file) : undefined;
  const masked = (k: AuditKey): AuditKey => (ctx.masker.add(k.key.toString('utf8')), k);
  const fromEnv = ctx.env[KEY_ENV];
  if (fromEnv) return masked(await readKeyFile(resolve(ctx.cwd, fromEnv), { stateDir, ...(opsRepo ? { opsRepo } : {}) }, KEY_ENV));
  const audit = loaded?.config.audit;
  if (audit?.key_file) return masked(await readKeyFile(loaded!.resolvePath(audit.key_file), { stateDir, ...(opsRepo ? { opsRepo } : {}) }, `audit.key_file in ${loaded!.file}`));
  if (audit?.key_secret) {
    const { environment, name } = audit.key_secret;
    const { env } = loaded!.environment(environment);
    if (!env.secrets) throw new ConfigError(`audit.key_secret names environment "${environment}", which has no secrets: section in ${loaded!.file}`);
    const { openBackend } = await import('../secrets/backend.js');
    const backend = await openBackend({
      environment,
      config: env.secrets,
      resolvePath: loaded!.resolvePath,
      stateDir,
      env: ctx.env,
      masker: ctx.masker,
      configFile: loaded!.file,
    });
    // Read without an audit entry: the entry could not be keyed before the key is known.
    const v = await backend.getValue(name, { stage: 'current' }).catch((err: unknown) => {
      throw new ConfigError(`the audit key (audit.key_secret: ${name} of environment ${environment}) cannot be read: ${(err as Error).message}`, {
        hint: `store one: openssl rand -hex 32 | ltc secrets set ${name} --env ${environment}`,
      });
    });
    ctx.masker.add(v.value);
    return keyFrom(v.value, `secret ${name} of environment ${environment}`);
  }
  return undefined;
}

/** `ltc audit init-key --out <file>`: 32 random bytes as hex, mode 0600, never overwriting. */
export async function initKey(ctx: Context, out: string | undefined): Promise<{ file: string; id: string }> {
  if (!out) throw new UsageError('ltc audit init-key needs --out <file>: a path outside the ops repo and .ltc/', { hint: 'e.g. ltc audit init-key --out ~/.config/ltc/audit.key' });
  const file = resolve(ctx.cwd, out);
  const stateDir = await ctx.stateDir();
  let opsRepo: string | undefined;
  try {
    opsRepo = opsRepoOf((await ctx.config()).file);
  } catch {
    opsRepo = undefined;
  }
  const target = join(real(dirname(file)), file.slice(dirname(file).length + 1));
  for (const [what, dir] of [['the state folder', stateDir], ['the ops repo', opsRepo]] as const) {
    if (dir && inside(target, real(dir))) {
      throw new UsageError(`${file} is inside ${what} ${dir}: the audit key must live outside it`, { hint: 'e.g. ltc audit init-key --out ~/.config/ltc/audit.key' });
    }
  }
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const text = randomBytes(32).toString('hex');
  let handle;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${file} exists: ltc audit init-key never overwrites a key (entries written with it could no longer be verified)`, { hint: 'choose another --out' });
    }
    throw err;
  }
  try {
    await handle.chmod(0o600);
    await handle.writeFile(text + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { file, id: keyId(Buffer.from(text, 'utf8')) };
}
