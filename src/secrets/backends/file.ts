/**
 * The embedded backend: one JSON file per environment (default `.ltc/secrets/<env>.json`, mode
 * 0600). The values are encrypted with AES-256-GCM (node:crypto); the metadata — names, version
 * ids, stages, dates — stays readable, so `list` and `get` without --reveal need no key and no
 * crypto, and it is authenticated as the cipher's additional data: any change to it is found by
 * the next read of a value or write (exit 2, "corrupted").
 *
 * The master key comes from `key_file` (mode 0600 or stricter) when configured, else from
 * `LTC_MASTER_KEY`. Either holds 32 random bytes as base64/base64url or 64 hex digits (a key file
 * may also hold the 32 raw bytes); anything else is a passphrase, stretched with scrypt
 * (N=2^15, r=8, p=1, a random salt kept in the store) — that costs ~0.1 s per command.
 */
import { readFileSync, statSync } from 'node:fs';
import { defaultStorePath, describeMeta, isStoreEnvelope, STORE_FORMAT, type SecretMeta, type StoreMeta as Meta, type VersionMeta } from '../format.js';
import { ConfigError, UsageError, fileErrorHint } from '../../core/errors.js';
import type { Masker } from '../../core/masker.js';
import type { fileBackendSchema } from '../../config/schema/secrets.js';
import type { z } from 'zod';
import {
  checkSecretName,
  noSuchVersion,
  unknownSecret,
  type BackendOptions,
  type SecretDescription,
  type SecretValue,
  type SecretsBackend,
  type Stage,
  type ValueSelector,
} from '../backend.js';

type FileConfig = z.output<typeof fileBackendSchema>;
/** node:crypto, loaded only when a value is read or written (metadata reads stay fast). */
type Crypto = typeof import('node:crypto');

const FORMAT = STORE_FORMAT;
const KEY_CHECK_LABEL = 'ltc-secrets key check v1';
const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const MIN_PASSPHRASE = 12;

/** In memory: metadata with the values joined in. */
interface StoredVersion extends VersionMeta {
  value: string;
}

interface StoredSecret extends Omit<SecretMeta, 'versions'> {
  versions: StoredVersion[];
}

interface Plain {
  secrets: Record<string, StoredSecret>;
}

type Kdf = { name: 'raw' } | { name: 'scrypt'; salt: string; N: number; r: number; p: number };

interface Envelope {
  format: typeof FORMAT;
  kdf: Kdf;
  /** First 16 bytes of HMAC-SHA256(key, label): tells a wrong key from a damaged file. */
  keyCheck: string;
  meta: Meta;
  iv: string;
  tag: string;
  /** AES-256-GCM of {"values": {NAME: {versionId: value}}}, additional data: FORMAT + meta. */
  data: string;
}

function aad(meta: Meta): Buffer {
  return Buffer.from(`${FORMAT}\n${JSON.stringify(meta)}`);
}

/** Key material before the store's salt is known. */
type KeySource = { kind: 'raw'; key: Buffer; from: string } | { kind: 'passphrase'; passphrase: string; from: string };

export { defaultStorePath };

/** 32 bytes as hex or base64/base64url → the key; otherwise undefined. */
export function decodeRawKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(t)) {
    const buf = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (buf.length === 32) return buf;
  }
  return undefined;
}

function keySource(config: FileConfig, opts: BackendOptions): KeySource {
  if (config.key_file) {
    const file = opts.resolvePath(config.key_file);
    let mode: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new ConfigError(`key_file ${file} is not a regular file`, { hint: 'point key_file at a file holding the master key' });
      mode = st.mode & 0o777;
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`cannot read key_file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        hint: `create it with: node -e "process.stdout.write(require('crypto').randomBytes(32).toString('base64'))" > ${file} && chmod 600 ${file}`,
      });
    }
    if ((mode & 0o077) !== 0) {
      throw new ConfigError(`key_file ${file} has mode ${mode.toString(8).padStart(4, '0')}: a master key must be readable by its owner only`, {
        hint: `chmod 600 ${file}`,
      });
    }
    const raw = readFileSync(file);
    opts.masker.add(raw.toString('utf8').trim());
    const fromText = decodeRawKey(raw.toString('utf8'));
    if (fromText) return { kind: 'raw', key: fromText, from: `key_file ${file}` };
    if (raw.length === 32) return { kind: 'raw', key: raw, from: `key_file ${file}` };
    return passphrase(raw.toString('utf8').trim(), `key_file ${file}`);
  }
  const env = opts.env.LTC_MASTER_KEY;
  if (env === undefined || env.trim() === '') {
    throw new ConfigError(`no master key for the file secrets store of environment "${opts.environment}"`, {
      hint:
        'set LTC_MASTER_KEY to 32 random bytes in base64 (e.g. `openssl rand -base64 32`), or set key_file in ' +
        `${opts.configFile ?? 'ltc.config.yaml'} to a file of mode 0600 holding it`,
    });
  }
  opts.masker.add(env.trim());
  const key = decodeRawKey(env);
  if (key) return { kind: 'raw', key, from: 'LTC_MASTER_KEY' };
  return passphrase(env.trim(), 'LTC_MASTER_KEY');
}

function passphrase(text: string, from: string): KeySource {
  if (text.length < MIN_PASSPHRASE) {
    throw new ConfigError(`${from} is neither a 32-byte key (base64 or hex) nor a passphrase of ${MIN_PASSPHRASE}+ characters`, {
      hint: 'use 32 random bytes in base64, e.g. `openssl rand -base64 32`',
    });
  }
  return { kind: 'passphrase', passphrase: text, from };
}

function deriveKey(crypto: Crypto, source: KeySource, kdf: Kdf): Buffer | 'mismatch' {
  if (kdf.name === 'raw') return source.kind === 'raw' ? source.key : 'mismatch';
  if (source.kind !== 'passphrase') return 'mismatch';
  return crypto.scryptSync(source.passphrase.normalize('NFKC'), Buffer.from(kdf.salt, 'base64'), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 256 * kdf.N * kdf.r,
  });
}

function keyCheck(crypto: Crypto, key: Buffer): string {
  return crypto.createHmac('sha256', key).update(KEY_CHECK_LABEL).digest().subarray(0, 16).toString('hex');
}

function isEnvelope(v: unknown): v is Envelope {
  return isStoreEnvelope(v);
}

type Values = Record<string, Record<string, string>>;

function isValues(v: unknown): v is { values: Values } {
  const values = (v as { values?: unknown } | null)?.values;
  return !!values && typeof values === 'object' && Object.values(values).every((x) => !!x && typeof x === 'object');
}

export class FileBackend implements SecretsBackend {
  readonly kind = 'file' as const;
  readonly location: string;
  private kdf: Kdf | undefined;
  private key: Buffer | undefined;
  private keySource: KeySource | undefined;

  private constructor(
    readonly file: string,
    /** Resolved on the first value read or write: metadata needs no key. */
    private readonly sourceOf: () => KeySource,
    private readonly masker: Masker,
  ) {
    this.location = file;
  }

  static open(opts: BackendOptions & { config: FileConfig }): FileBackend {
    const file = opts.config.path ? opts.resolvePath(opts.config.path) : defaultStorePath(opts.stateDir, opts.environment);
    return new FileBackend(file, () => keySource(opts.config, opts), opts.masker);
  }

  private get source(): KeySource {
    this.keySource ??= this.sourceOf();
    return this.keySource;
  }

  private corrupted(why: string): ConfigError {
    return new ConfigError(`secrets store ${this.file} is corrupted: ${why}`, {
      hint: `restore ${this.file} from a backup; nothing was changed`,
    });
  }

  /** The store as written (no crypto); undefined when there is none yet. */
  private envelope(): Envelope | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ConfigError(`cannot read secrets store ${this.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        hint: fileErrorHint(err, this.file) ?? `check ${this.file}`,
      });
    }
    let envelope: unknown;
    try {
      envelope = JSON.parse(text);
    } catch {
      throw this.corrupted('it is not valid JSON');
    }
    if (!isEnvelope(envelope)) throw this.corrupted(`it is not an ${FORMAT} store (fields missing or of the wrong type)`);
    return envelope;
  }

  private meta(): Meta {
    return this.envelope()?.meta ?? { secrets: {} };
  }

  /** Reads, checks the key, authenticates and decrypts the store; values are registered with the masker. */
  private async read(): Promise<Plain> {
    const envelope = this.envelope();
    if (!envelope) return { secrets: {} };
    const crypto = await import('node:crypto');
    const source = this.source;
    const key = deriveKey(crypto, source, envelope.kdf);
    if (key === 'mismatch' || !timingSafeEqualHex(crypto, keyCheck(crypto, key), envelope.keyCheck)) {
      const how =
        key === 'mismatch'
          ? envelope.kdf.name === 'raw'
            ? 'the store was written with a 32-byte key, but a passphrase was given'
            : 'the store was written with a passphrase, but a 32-byte key was given'
          : `the key from ${source.from} is not the one it was written with`;
      throw new ConfigError(`cannot open secrets store ${this.file}: wrong master key (${how})`, {
        hint: `set ${source.from.startsWith('key_file') ? 'key_file' : 'LTC_MASTER_KEY'} to the key this store was created with; nothing was changed`,
      });
    }
    let plain: unknown;
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
      decipher.setAAD(aad(envelope.meta));
      decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
      const data = Buffer.concat([decipher.update(Buffer.from(envelope.data, 'base64')), decipher.final()]);
      plain = JSON.parse(data.toString('utf8'));
    } catch {
      throw this.corrupted('authentication failed (the values or the metadata were changed, or the file was cut off)');
    }
    if (!isValues(plain)) throw this.corrupted('the decrypted content has an unknown shape');
    const values = plain.values;
    // Every value in memory is registered at once, whatever is done with it next.
    for (const byId of Object.values(values)) for (const v of Object.values(byId)) this.masker.add(v);
    const secrets: Record<string, StoredSecret> = {};
    for (const [name, m] of Object.entries(envelope.meta.secrets)) {
      secrets[name] = {
        ...m,
        versions: m.versions.map((v) => {
          const value = values[name]?.[v.id];
          if (typeof value !== 'string') throw this.corrupted(`version ${v.id} of ${name} has no value`);
          return { ...v, value };
        }),
      };
    }
    this.kdf = envelope.kdf;
    this.key = key;
    return { secrets };
  }

  private async write(plain: Plain): Promise<void> {
    const crypto = await import('node:crypto');
    if (!this.kdf || !this.key) {
      const source = this.source;
      if (source.kind === 'raw') {
        this.kdf = { name: 'raw' };
        this.key = source.key;
      } else {
        const kdf: Kdf = { name: 'scrypt', salt: crypto.randomBytes(16).toString('base64'), ...SCRYPT };
        this.kdf = kdf;
        this.key = deriveKey(crypto, source, kdf) as Buffer;
      }
    }
    const meta: Meta = { secrets: {} };
    const values: Values = {};
    for (const [name, s] of Object.entries(plain.secrets)) {
      meta.secrets[name] = {
        created: s.created,
        updated: s.updated,
        nextVersion: s.nextVersion,
        versions: s.versions.map((v) => ({ id: v.id, created: v.created, stages: v.stages, ...(v.token ? { token: v.token } : {}) })),
      };
      values[name] = Object.fromEntries(s.versions.map((v) => [v.id, v.value]));
    }
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(aad(meta));
    const data = Buffer.concat([cipher.update(JSON.stringify({ values }), 'utf8'), cipher.final()]);
    const envelope: Envelope = {
      format: FORMAT,
      kdf: this.kdf,
      keyCheck: keyCheck(crypto, this.key),
      meta,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    const { writeFileAtomic } = await import('../../core/fs-atomic.js');
    await writeFileAtomic(this.file, JSON.stringify(envelope, null, 2) + '\n', 0o600);
  }

  /** Read-modify-write under the store's lock. */
  private async update<T>(fn: (plain: Plain) => T): Promise<T> {
    // fs-atomic (node:fs/promises) loads only when something is written: reads stay fast.
    const { withLock } = await import('../../core/fs-atomic.js');
    return withLock(`${this.file}.lock`, `secrets store ${this.file}`, async () => {
      const plain = await this.read();
      const result = fn(plain);
      for (const s of Object.values(plain.secrets)) s.versions = s.versions.filter((v) => v.stages.length > 0);
      await this.write(plain);
      return result;
    });
  }

  private secret<S>(store: { secrets: Record<string, S> }, name: string): S {
    checkSecretName(name);
    const s = store.secrets[name];
    if (!s) throw unknownSecret(name, Object.keys(store.secrets), this.file);
    return s;
  }

  private describeStored(name: string, s: SecretMeta): SecretDescription {
    return describeMeta(name, s);
  }

  async list(): Promise<SecretDescription[]> {
    const meta = this.meta();
    return Object.keys(meta.secrets)
      .sort()
      .map((name) => this.describeStored(name, meta.secrets[name]!));
  }

  async describe(name: string): Promise<SecretDescription> {
    return this.describeStored(name, this.secret(this.meta(), name));
  }

  async getValue(name: string, select: ValueSelector = {}): Promise<SecretValue> {
    this.secret(this.meta(), name);
    const s = this.secret(await this.read(), name);
    const v = select.versionId
      ? s.versions.find((x) => x.id === select.versionId)
      : s.versions.find((x) => x.stages.includes(select.stage ?? 'current'));
    if (!v) throw noSuchVersion(name, select, this.file);
    this.masker.add(v.value);
    return { name, versionId: v.id, stages: [...v.stages], value: v.value };
  }

  private newVersion(s: StoredSecret, value: string, stages: Stage[], token?: string): StoredVersion {
    const now = new Date().toISOString();
    const v: StoredVersion = { id: String(s.nextVersion++), created: now, stages, value, ...(token ? { token } : {}) };
    s.versions.push(v);
    s.updated = now;
    return v;
  }

  /** Moves `stage` to `target`; with current, the old current becomes previous. */
  private static attach(s: StoredSecret, stage: Stage, target: StoredVersion): void {
    const holder = s.versions.find((v) => v.stages.includes(stage));
    if (holder === target) return;
    if (holder) holder.stages = holder.stages.filter((x) => x !== stage);
    target.stages = [...target.stages.filter((x) => x !== stage), stage];
    if (stage === 'current') {
      target.stages = target.stages.filter((x) => x !== 'pending' && x !== 'previous');
      if (holder) FileBackend.attach(s, 'previous', holder);
    }
    s.updated = new Date().toISOString();
  }

  async createPending(name: string, value: string, requestToken: string): Promise<{ versionId: string; created: boolean }> {
    this.masker.add(value);
    return this.update((plain) => {
      const s = this.secret(plain, name);
      const existing = s.versions.find((v) => v.token === requestToken);
      if (existing) return { versionId: existing.id, created: false };
      const v = this.newVersion(s, value, [], requestToken);
      FileBackend.attach(s, 'pending', v);
      return { versionId: v.id, created: true };
    });
  }

  async promote(name: string, versionId: string): Promise<void> {
    await this.update((plain) => {
      const s = this.secret(plain, name);
      const v = s.versions.find((x) => x.id === versionId);
      if (!v) throw noSuchVersion(name, { versionId }, this.file);
      FileBackend.attach(s, 'current', v);
    });
  }

  async discardPending(name: string): Promise<{ discarded?: string }> {
    return this.update((plain) => {
      const s = this.secret(plain, name);
      const v = s.versions.find((x) => x.stages.includes('pending'));
      if (!v) return {};
      v.stages = v.stages.filter((x) => x !== 'pending');
      s.updated = new Date().toISOString();
      return { discarded: v.id };
    });
  }

  async rollback(name: string): Promise<{ current: string; previous: string }> {
    return this.update((plain) => {
      const s = this.secret(plain, name);
      const prev = s.versions.find((x) => x.stages.includes('previous'));
      const cur = s.versions.find((x) => x.stages.includes('current'));
      if (!prev || !cur) {
        throw new UsageError(`secret "${name}" has no previous version to roll back to`, {
          hint: `see its versions with \`ltc secrets get ${name}\``,
        });
      }
      FileBackend.attach(s, 'current', prev);
      return { current: prev.id, previous: cur.id };
    });
  }

  async put(name: string, value: string): Promise<{ versionId: string }> {
    checkSecretName(name);
    this.masker.add(value);
    return this.update((plain) => {
      const now = new Date().toISOString();
      const s = (plain.secrets[name] ??= { created: now, updated: now, nextVersion: 1, versions: [] });
      const v = this.newVersion(s, value, []);
      FileBackend.attach(s, 'current', v);
      return { versionId: v.id };
    });
  }
}

function timingSafeEqualHex(crypto: Crypto, a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && crypto.timingSafeEqual(x, y);
}
