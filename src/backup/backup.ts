/**
 * PostgreSQL backups: `pg_dump -Fc` streamed through AES-256-GCM into a file of mode 0600 (the key
 * from the environment's secret backend), an index (index.json) with checksum, size and duration;
 * verify streams the file back through the cipher into `pg_restore` on a scratch database, runs
 * the configured sanity queries, drops the scratch database and records the result and the
 * restore time. A file that was cut short or altered fails verify (checksum, then the GCM tag).
 *
 * File format: "LTCBK1\n" + 12-byte IV + ciphertext + 16-byte GCM tag.
 */
import { processes } from '../exec/process.js';
import { createCipheriv, createDecipheriv, createHash, randomBytes, type Decipheriv } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Context } from '../core/context.js';
import type { DatabaseConfig } from '../config/schema/golive.js';
import { CheckFailedError, ConfigError, UsageError } from '../core/errors.js';
import { writeFileAtomic, withLock } from '../core/fs-atomic.js';
import { findOnPath } from '../exec/find-on-path.js';

export const MAGIC = Buffer.from('LTCBK1\n');
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface VerifyRecord {
  time: string;
  ok: boolean;
  restoreMs: number;
  error?: string;
  checks?: { sql: string; expect: string; got: string | null; ok: boolean }[];
}

export interface BackupEntry {
  id: string;
  file: string;
  environment: string;
  database: string;
  created: string;
  size: number;
  sha256: string;
  durationMs: number;
  verify?: VerifyRecord;
}

export function indexPath(dir: string): string {
  return join(dir, 'index.json');
}

export async function readIndex(dir: string): Promise<BackupEntry[]> {
  let text: string;
  try {
    text = await readFile(indexPath(dir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    const data = JSON.parse(text) as { backups?: BackupEntry[] };
    if (!Array.isArray(data.backups)) throw new Error('no backups array');
    return data.backups;
  } catch (err) {
    throw new ConfigError(`${indexPath(dir)} is not a backup index (${(err as Error).message})`, { hint: 'restore it from its copy or move it away; ltc did not change it' });
  }
}

async function updateIndex(dir: string, fn: (list: BackupEntry[]) => void | Promise<void>): Promise<BackupEntry[]> {
  return withLock(join(dir, 'index.lock'), 'the backup index', async () => {
    const list = await readIndex(dir);
    await fn(list);
    await writeFileAtomic(indexPath(dir), JSON.stringify({ version: 1, backups: list }, null, 2) + '\n', 0o600);
    return list;
  });
}

/** The folder with pg_dump/pg_restore: PATH, else the newest /usr/lib/postgresql/<v>/bin. */
export function pgTool(name: 'pg_dump' | 'pg_restore'): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', name))).sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin', name);
  }
  const onPath = findOnPath(name);
  if (onPath) return onPath;
  throw new ConfigError(`${name} not found`, { hint: 'install the Debian package "postgresql-client" (apt-get install -y postgresql-client)' });
}

export interface BackupScope {
  ctx: Context;
  environment: string;
  db: DatabaseConfig;
  backup: NonNullable<DatabaseConfig['backup']>;
  dir: string;
  stateDir: string;
  password(): Promise<string>;
  key(): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openBackupScope(ctx: Context, environment?: string): Promise<BackupScope> {
  const loaded = await ctx.config();
  const { name, env } = loaded.environment(environment ?? ctx.options.env ?? ctx.env.LTC_ENV);
  const db = env.database;
  if (!db) throw new ConfigError(`environment "${name}" has no database: section in ${loaded.file}`, { hint: `add environments.${name}.database: { name, user, password_secret, backup: { dir, key_secret } }` });
  if (!db.backup) throw new ConfigError(`environments.${name}.database has no backup: section in ${loaded.file}`, { hint: 'add backup: { dir: backups, key_secret: LTC_BACKUP_KEY }' });
  if (!env.secrets) throw new ConfigError(`environment "${name}" has no secrets: section in ${loaded.file}`, { hint: 'the database password and the backup key come from the secret backend' });
  const stateDir = await ctx.stateDir();
  const { openBackend } = await import('../secrets/backend.js');
  const backend = await openBackend({ environment: name, config: env.secrets, resolvePath: loaded.resolvePath, stateDir, env: ctx.env, masker: ctx.masker, configFile: loaded.file });
  const backup = db.backup;
  return {
    ctx,
    environment: name,
    db,
    backup,
    dir: loaded.resolvePath(backup.dir),
    stateDir,
    password: async () => (await backend.getValue(db.password_secret)).value,
    key: async () => {
      const v = (await backend.getValue(backup.key_secret)).value;
      const raw = /^[A-Za-z0-9_-]+$/.test(v) ? Buffer.from(v, 'base64url') : Buffer.from(v);
      if (raw.length < 32) {
        throw new ConfigError(`the backup key ${backup.key_secret} has ${raw.length} bytes; AES-256 needs at least 32`, { hint: `ltc secrets generate ${backup.key_secret} --env ${name} (keep the old key while old backups matter)` });
      }
      return createHash('sha256').update('ltc-backup-v1').update(raw).digest();
    },
    close: async () => {
      await backend.close?.();
    },
  };
}

function pgEnv(s: BackupScope, password: string): NodeJS.ProcessEnv {
  return { ...process.env, PGPASSWORD: password, PGHOST: s.db.host, PGPORT: String(s.db.port), PGUSER: s.db.user, PGCONNECT_TIMEOUT: '10' };
}

function spawnTool(file: string, args: string[], env: NodeJS.ProcessEnv, stdio: ['ignore' | 'pipe', 'pipe' | 'ignore', 'pipe']) {
  const child = processes.start([file, ...args], { env, stdio });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString();
  });
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  return { child, done, stderr: () => stderr.trim() };
}

function hasher(hash: ReturnType<typeof createHash>, count: { n: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      count.n += chunk.length;
      cb(null, chunk);
    },
  });
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export async function createBackup(s: BackupScope): Promise<BackupEntry> {
  await mkdir(s.dir, { recursive: true, mode: 0o700 });
  const [password, key] = await Promise.all([s.password(), s.key()]);
  const started = Date.now();
  const id = `${s.environment}-${stamp()}-${randomBytes(3).toString('hex')}`;
  const file = `${id}.dump.enc`;
  const path = join(s.dir, file);
  const tmp = `${path}.partial`;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const hash = createHash('sha256');
  const count = { n: 0 };
  const handle = await open(tmp, 'wx', 0o600);
  const out = createWriteStream('', { fd: handle.fd, autoClose: false } as Parameters<typeof createWriteStream>[1]);
  const head = Buffer.concat([MAGIC, iv]);
  hash.update(head);
  count.n += head.length;
  out.write(head);
  const dump = spawnTool(pgTool('pg_dump'), ['-Fc', '-Z', '1', '-d', s.db.name], pgEnv(s, password), ['ignore', 'pipe', 'pipe']);
  try {
    await pipeline(dump.child.stdout as Readable, cipher, hasher(hash, count), out as Writable);
    const code = await dump.done;
    if (code !== 0) throw new CheckFailedError(`pg_dump of ${s.db.name} at ${s.db.host}:${s.db.port} failed (exit ${code}): ${s.ctx.masker.mask(dump.stderr())}`, { hint: dumpHint(dump.stderr(), s) });
    const tag = cipher.getAuthTag();
    hash.update(tag);
    count.n += tag.length;
    await handle.write(tag);
    await handle.sync();
  } catch (err) {
    dump.child.kill('SIGTERM');
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    if (err instanceof CheckFailedError) throw err;
    throw new CheckFailedError(`backup of ${s.db.name} failed: ${(err as Error).message}${dump.stderr() ? ` (${s.ctx.masker.mask(dump.stderr())})` : ''}`, { hint: dumpHint(dump.stderr(), s) });
  }
  await handle.close();
  const { rename } = await import('node:fs/promises');
  await rename(tmp, path);
  await chmod(path, 0o600);
  const entry: BackupEntry = {
    id,
    file,
    environment: s.environment,
    database: `${s.db.host}:${s.db.port}/${s.db.name}`,
    created: new Date(started).toISOString(),
    size: count.n,
    sha256: hash.digest('hex'),
    durationMs: Date.now() - started,
  };
  await updateIndex(s.dir, (list) => {
    list.push(entry);
  });
  return entry;
}

function dumpHint(stderr: string, s: BackupScope): string {
  if (/password authentication failed|no password supplied/i.test(stderr)) return `the password in ${s.db.password_secret} does not match role ${s.db.user}`;
  if (/could not connect|Connection refused|timeout/i.test(stderr)) return `is PostgreSQL up at ${s.db.host}:${s.db.port}? check environments.${s.environment}.database`;
  return 'see the pg_dump message above';
}

async function fileSha256(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * Streams the file's ciphertext (without header and tag) through the decipher; the tag is checked
 * at the end. `hash` sees every byte of the file (header, ciphertext, tag) in order, so the
 * checksum is had in the same single read as the restore.
 */
async function decryptStream(path: string, key: Buffer, hash: ReturnType<typeof createHash>): Promise<{ stream: Readable; decipher: Decipheriv; tag: Buffer }> {
  const st = await stat(path);
  if (st.size < MAGIC.length + IV_BYTES + TAG_BYTES) throw new Error(`${path} is too short to be a backup (${st.size} bytes)`);
  const fh = await open(path, 'r');
  const head = Buffer.alloc(MAGIC.length + IV_BYTES);
  const tag = Buffer.alloc(TAG_BYTES);
  await fh.read(head, 0, head.length, 0);
  await fh.read(tag, 0, TAG_BYTES, st.size - TAG_BYTES);
  await fh.close();
  hash.update(head);
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${path} is not an ltc backup (bad header)`);
  const decipher = createDecipheriv('aes-256-gcm', key, head.subarray(MAGIC.length));
  decipher.setAuthTag(tag);
  const count = { n: 0 };
  const stream = createReadStream(path, { start: head.length, end: st.size - TAG_BYTES - 1, highWaterMark: 1 << 20 }).pipe(hasher(hash, count)).pipe(decipher);
  return { stream, decipher, tag };
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function verifyBackup(s: BackupScope, which?: string): Promise<BackupEntry> {
  const list = (await readIndex(s.dir)).filter((b) => b.environment === s.environment);
  const entry = which ? list.find((b) => b.id === which || b.file === which) : list.at(-1);
  if (!entry) {
    throw new UsageError(which ? `no backup "${which}" of ${s.environment} in ${indexPath(s.dir)}` : `no backup of ${s.environment} in ${indexPath(s.dir)}`, {
      hint: which ? `ltc backup list --env ${s.environment}` : `ltc backup create --env ${s.environment}`,
    });
  }
  const path = join(s.dir, entry.file);
  const started = Date.now();
  const record: VerifyRecord = { time: new Date(started).toISOString(), ok: false, restoreMs: 0 };
  const password = await s.password();
  const pg = ((await import('pg')) as unknown as { default: typeof import('pg') }).default;
  const admin = new pg.Client({ host: s.db.host, port: s.db.port, user: s.db.user, password, database: s.db.name, connectionTimeoutMillis: 10_000 });
  admin.on('error', () => undefined);
  const scratch = `ltc_verify_${randomBytes(4).toString('hex')}`;
  let created = false;
  try {
    const size = await stat(path).then(
      (st) => st.size,
      (err: NodeJS.ErrnoException) => {
        throw new Error(`cannot read ${path}: ${err.code ?? err.message}`);
      },
    );
    const mismatch = (got: string) =>
      new Error(`${entry.file} does not match its index entry (${size} bytes${got ? `, sha256 ${got.slice(0, 12)}…` : ''}; recorded ${entry.size} bytes, ${entry.sha256.slice(0, 12)}…): cut short or altered`);
    // A file of the wrong size is refused before anything is restored; the checksum is computed
    // in the same read as the restore (into a scratch database) and judged before its result.
    if (size !== entry.size) throw mismatch('');
    const [key] = await Promise.all([s.key(), admin.connect()]);
    await admin.query(`create database ${quoteIdent(scratch)}`);
    created = true;
    const hash = createHash('sha256');
    const { stream, tag } = await decryptStream(path, key, hash);
    const restore = spawnTool(pgTool('pg_restore'), ['--no-owner', '--no-privileges', '--exit-on-error', '-d', scratch], pgEnv(s, password), ['pipe', 'ignore', 'pipe']);
    let streamErr: unknown;
    await pipeline(stream, restore.child.stdin as Writable).catch((err: unknown) => {
      streamErr = err;
      restore.child.stdin?.destroy();
    });
    const code = await restore.done;
    // The checksum first: on a clean read it is the one just computed; when the read stopped early
    // (pg_restore gave up, the tag did not match) the file is hashed on its own to say which it was.
    const sha256 = !streamErr && code === 0 ? hash.update(tag).digest('hex') : (await fileSha256(path)).sha256;
    if (sha256 !== entry.sha256) throw mismatch(sha256);
    if (streamErr) throw new Error(`decrypting ${entry.file} failed (${(streamErr as Error).message.includes('authenticate') ? 'the authentication tag does not match: altered, or another key' : (streamErr as Error).message})`);
    if (code !== 0) throw new Error(`pg_restore into ${scratch} failed (exit ${code}): ${s.ctx.masker.mask(restore.stderr())}`);
    record.restoreMs = Date.now() - started;
    const client = new pg.Client({ host: s.db.host, port: s.db.port, user: s.db.user, password, database: scratch, connectionTimeoutMillis: 10_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      record.checks = [];
      for (const q of s.backup.sanity) {
        let got: string | null = null;
        try {
          const r = await client.query({ text: q.sql, rowMode: 'array' });
          const v = (r.rows[0] as unknown[] | undefined)?.[0];
          got = v === undefined || v === null ? null : String(v);
        } catch (err) {
          got = `error: ${(err as Error).message}`;
        }
        record.checks.push({ sql: q.sql, expect: q.expect, got, ok: got === q.expect });
      }
    } finally {
      await client.end().catch(() => undefined);
    }
    const bad = record.checks.filter((c) => !c.ok);
    if (bad.length) throw new Error(`sanity query ${JSON.stringify(bad[0]!.sql)} returned ${JSON.stringify(bad[0]!.got)}, expected ${JSON.stringify(bad[0]!.expect)}`);
    record.ok = true;
  } catch (err) {
    record.error = s.ctx.masker.mask((err as Error).message);
    if (!record.restoreMs) record.restoreMs = Date.now() - started;
  } finally {
    if (created) await admin.query(`drop database if exists ${quoteIdent(scratch)} with (force)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
  let updated: BackupEntry = entry;
  await updateIndex(s.dir, (all) => {
    const e = all.find((b) => b.id === entry.id);
    if (e) {
      e.verify = record;
      updated = e;
    }
  });
  return updated;
}

export async function pruneBackups(s: BackupScope, keep: number): Promise<BackupEntry[]> {
  const removed: BackupEntry[] = [];
  await updateIndex(s.dir, async (all) => {
    const mine = all.filter((b) => b.environment === s.environment);
    const drop = mine.slice(0, Math.max(0, mine.length - keep));
    for (const b of drop) {
      await rm(join(s.dir, b.file), { force: true });
      removed.push(b);
    }
    const ids = new Set(drop.map((b) => b.id));
    all.splice(0, all.length, ...all.filter((b) => !ids.has(b.id)));
  });
  return removed;
}
