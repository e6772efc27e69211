/**
 * HashiCorp Vault, KV version 2 engine, through node-vault (imported here, only when an
 * environment uses `backend: vault`). node-vault knows nothing of KV v2, so paths and bodies
 * are built here: values at `<mount>/data/<path_prefix>/<env>/<NAME>` as `{"value": "…"}`,
 * writes with `options.cas`, and — Vault having no stages — the stages as version numbers in
 * the key's custom_metadata: `ltc_current`, `ltc_pending` (+ `ltc_pending_token`), `ltc_previous`.
 * A key written outside ltc has no such metadata: its latest version counts as current.
 */
import type { z } from 'zod';
import type NodeVault from 'node-vault';
import { CheckFailedError, ConfigError, UsageError } from '../../core/errors.js';
import type { vaultBackendSchema } from '../../config/schema/secrets.js';
import {
  AccessDeniedError,
  checkSecretName,
  isNetworkError,
  noSuchVersion,
  unknownSecret,
  unreachable,
  type BackendOptions,
  type SecretDescription,
  type SecretValue,
  type SecretsBackend,
  type Stage,
  type ValueSelector,
  type VersionInfo,
} from '../backend.js';

type VaultConfig = z.output<typeof vaultBackendSchema>;

interface KvMetadata {
  current_version: number;
  max_versions?: number;
  oldest_version?: number;
  created_time?: string;
  updated_time?: string;
  custom_metadata?: Record<string, string> | null;
  versions?: Record<string, { created_time?: string; deletion_time?: string; destroyed?: boolean }>;
}

const KEYS: Record<Stage, string> = { current: 'ltc_current', pending: 'ltc_pending', previous: 'ltc_previous' };
const TOKEN_KEY = 'ltc_pending_token';

function statusOf(err: unknown): number | undefined {
  const code = (err as { response?: { statusCode?: unknown } }).response?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * A 404 that says "no such key": Vault answers it with `{"errors":[]}`. A 404 with errors
 * (`no handler for route …`: no engine mounted there) or without Vault's body (another server
 * at that address) is no answer about the key.
 */
function isKeyNotFound(err: unknown): boolean {
  if (statusOf(err) !== 404) return false;
  const body = (err as { response?: { body?: unknown } }).response?.body;
  const errors = body && typeof body === 'object' ? (body as { errors?: unknown }).errors : undefined;
  return Array.isArray(errors) && errors.length === 0;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class VaultBackend implements SecretsBackend {
  readonly kind = 'vault' as const;
  readonly location: string;
  private readonly address: string;
  private readonly token: string;
  private readonly base: string;
  private client: Promise<NodeVault.client> | undefined;

  constructor(private readonly opts: BackendOptions & { config: VaultConfig }) {
    const c = opts.config;
    const address = c.address ?? opts.env.VAULT_ADDR;
    if (!address) {
      throw new ConfigError(`no Vault address for environment "${opts.environment}"`, {
        hint: `set VAULT_ADDR, or secrets.address in ${opts.configFile ?? 'ltc.config.yaml'}`,
      });
    }
    let url: URL | undefined;
    try {
      url = new URL(address);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      const from = c.address ? `secrets.address in ${opts.configFile ?? 'ltc.config.yaml'}` : 'VAULT_ADDR';
      throw new ConfigError(`${from} is "${address}", not an http(s) URL of Vault`, { hint: 'use the address `vault status` talks to, e.g. https://vault.example.com:8200' });
    }
    const token = opts.env.VAULT_TOKEN;
    if (!token) {
      throw new ConfigError('no Vault token: VAULT_TOKEN is not set', { hint: 'log in (`vault login`) and export VAULT_TOKEN' });
    }
    opts.masker.add(token);
    this.address = address.replace(/\/+$/, '');
    this.token = token;
    const prefix = c.path_prefix.replace(/^\/+|\/+$/g, '');
    this.base = [prefix, opts.environment].filter(Boolean).join('/');
    this.location = `Vault ${this.address} ${c.mount}/${this.base}`;
  }

  private vault(): Promise<NodeVault.client> {
    this.client ??= import('node-vault').then((m) => {
      const factory = (m as unknown as { default: typeof NodeVault }).default;
      // node-vault's own debug logging would print request bodies (values): keep it silent.
      return factory({ apiVersion: 'v1', endpoint: this.address, token: this.token, debug: () => undefined, requestOptions: { timeout: 15_000 } });
    });
    return this.client;
  }

  private path(kind: 'data' | 'metadata' | 'delete', name?: string): string {
    return `${this.opts.config.mount}/${kind}/${this.base}${name === undefined ? '/' : `/${name}`}`;
  }

  private async call<T>(op: string, path: string, fn: (v: NodeVault.client) => Promise<T>): Promise<T> {
    const v = await this.vault();
    try {
      return await fn(v);
    } catch (err) {
      throw this.translate(err, op, path);
    }
  }

  private translate(err: unknown, op: string, path: string): Error {
    const status = statusOf(err);
    if (status === 403 || status === 401) {
      return new AccessDeniedError(`Vault rejected the token from VAULT_TOKEN (${op} ${path}: ${messageOf(err)})`, {
        hint:
          'the token is wrong, expired or revoked, or its policy does not allow this path: log in again (`vault login`), ' +
          `export VAULT_TOKEN, and check the policy covers ${this.opts.config.mount}/data/${this.base}/* and ${this.opts.config.mount}/metadata/${this.base}/*`,
        cause: err,
      });
    }
    if (status === 400 && /check-and-set/.test(messageOf(err))) {
      return new CheckFailedError(`the secret at ${path} was changed by someone else while ltc wrote it (check-and-set)`, {
        hint: 'run the command again',
        cause: err,
      });
    }
    if (status === 404) {
      return new ConfigError(`Vault at ${this.address} has no KV version 2 engine at ${this.opts.config.mount}/ (${op} ${path}: ${messageOf(err)})`, {
        hint: `check secrets.mount and the address (secrets.address or VAULT_ADDR) in ${this.opts.configFile ?? 'ltc.config.yaml'}; \`vault secrets list\` shows the mounts`,
        cause: err,
      });
    }
    if (status === 503) {
      return new CheckFailedError(`Vault at ${this.address} is sealed or in standby (${messageOf(err)})`, { hint: 'unseal it or point VAULT_ADDR at the active node', cause: err });
    }
    if (status === undefined && isNetworkError(err)) return unreachable('Vault', this.address, err);
    if (status === undefined) return unreachable('Vault', this.address, err);
    return new CheckFailedError(`Vault ${op} ${path} failed: HTTP ${status}: ${messageOf(err)}`, { hint: 'check the mount is a KV version 2 engine', cause: err });
  }

  /** Metadata of a key, or undefined when it does not exist. */
  private async metadata(name: string): Promise<KvMetadata | undefined> {
    checkSecretName(name);
    const path = this.path('metadata', name);
    const v = await this.vault();
    try {
      const r = (await v.read(path)) as { data?: KvMetadata };
      return r.data;
    } catch (err) {
      if (isKeyNotFound(err)) return undefined;
      throw this.translate(err, 'read', path);
    }
  }

  private async requireMetadata(name: string): Promise<KvMetadata> {
    const md = await this.metadata(name);
    if (!md) throw unknownSecret(name, await this.names().catch(() => []), this.location);
    return md;
  }

  private static stageVersion(md: KvMetadata, stage: Stage): number | undefined {
    const custom = md.custom_metadata ?? {};
    const raw = custom[KEYS[stage]];
    if (raw !== undefined && /^\d+$/.test(raw)) return Number(raw);
    if (stage === 'current' && custom[KEYS.current] === undefined && md.current_version > 0) return md.current_version;
    return undefined;
  }

  private describeMd(name: string, md: KvMetadata): SecretDescription {
    const byVersion = new Map<number, Stage[]>();
    for (const stage of ['current', 'pending', 'previous'] as const) {
      const n = VaultBackend.stageVersion(md, stage);
      if (n !== undefined) byVersion.set(n, [...(byVersion.get(n) ?? []), stage]);
    }
    const custom = md.custom_metadata ?? {};
    const versions: VersionInfo[] = [...byVersion.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([n, stages]) => ({
        id: String(n),
        stages,
        created: md.versions?.[String(n)]?.created_time,
        ...(stages.includes('pending') && custom[TOKEN_KEY] ? { token: custom[TOKEN_KEY] } : {}),
      }));
    return { name, versions, created: md.created_time, updated: md.updated_time };
  }

  private async names(): Promise<string[]> {
    const path = this.path('metadata');
    const v = await this.vault();
    try {
      const r = (await v.list(path)) as { data?: { keys?: string[] } };
      return (r.data?.keys ?? []).filter((k) => !k.endsWith('/')).sort();
    } catch (err) {
      if (isKeyNotFound(err)) return [];
      throw this.translate(err, 'list', path);
    }
  }

  async list(): Promise<SecretDescription[]> {
    const out: SecretDescription[] = [];
    for (const name of await this.names()) {
      const md = await this.metadata(name);
      if (md) out.push(this.describeMd(name, md));
    }
    return out;
  }

  async describe(name: string): Promise<SecretDescription> {
    return this.describeMd(name, await this.requireMetadata(name));
  }

  async getValue(name: string, select: ValueSelector = {}): Promise<SecretValue> {
    const md = await this.requireMetadata(name);
    const n = select.versionId !== undefined ? Number(select.versionId) : VaultBackend.stageVersion(md, select.stage ?? 'current');
    if (n === undefined || !Number.isInteger(n) || n < 1) throw noSuchVersion(name, select, this.location);
    const path = `${this.path('data', name)}?version=${n}`;
    const v = await this.vault();
    let r: { data?: { data?: Record<string, unknown> | null } };
    try {
      r = (await v.read(path)) as typeof r;
    } catch (err) {
      if (statusOf(err) === 404) throw noSuchVersion(name, select, this.location);
      throw this.translate(err, 'read', path);
    }
    const value = r.data?.data?.value;
    if (typeof value !== 'string') {
      throw new UsageError(`${this.path('data', name)} version ${n} has no string field "value"`, {
        hint: 'ltc stores each secret as {"value": "..."}; write it with `ltc secrets set`',
      });
    }
    this.opts.masker.add(value);
    const stages = this.describeMd(name, md).versions.find((x) => x.id === String(n))?.stages ?? [];
    return { name, versionId: String(n), stages, value };
  }

  /** Writes a new version with check-and-set against the version seen; returns its number. */
  private async writeVersion(name: string, value: string, cas: number): Promise<number> {
    const path = this.path('data', name);
    const r = (await this.call('write', path, (v) => v.write(path, { data: { value }, options: { cas } }))) as { data?: { version?: number } };
    const n = r.data?.version;
    if (typeof n !== 'number') throw new CheckFailedError(`Vault write ${path} answered without a version number`, { hint: 'check the mount is a KV version 2 engine' });
    return n;
  }

  private async writeStages(name: string, md: KvMetadata | undefined, change: (custom: Record<string, string>) => void): Promise<void> {
    const custom: Record<string, string> = { ...(md?.custom_metadata ?? {}) };
    if (md && custom[KEYS.current] === undefined && md.current_version > 0) custom[KEYS.current] = String(md.current_version);
    change(custom);
    for (const [k, v] of Object.entries(custom)) if (v === '') delete custom[k];
    const path = this.path('metadata', name);
    await this.call('write', path, (v) => v.write(path, { custom_metadata: custom }));
  }

  /** The key's max_versions, else the mount's (`<mount>/config`), else Vault's default 10. */
  private async maxVersions(md: KvMetadata): Promise<number> {
    if (typeof md.max_versions === 'number' && md.max_versions > 0) return md.max_versions;
    const path = `${this.opts.config.mount}/config`;
    try {
      const r = (await (await this.vault()).read(path)) as { data?: { max_versions?: unknown } };
      const n = r.data?.max_versions;
      if (typeof n === 'number' && n > 0) return n;
    } catch {
      /* a token without read on <mount>/config: Vault's default */
    }
    return 10;
  }

  /**
   * KV v2 keeps the newest max_versions versions and destroys older ones as new ones are written
   * (soft-deleting a version does not free its place). A string of failed rotations (each leaves a
   * discarded pending version) would push the version `ltc_current` names — the value the app and
   * the database use — out of that window. Before a pending version is written that would do so,
   * the current value (and previous, when it is still there) is written again as the newest
   * version(s) and the stages moved onto them: same values, new version numbers, nothing lost.
   */
  private async keepStagesInWindow(name: string, md: KvMetadata): Promise<KvMetadata> {
    const max = await this.maxVersions(md);
    const alive = (n: number | undefined): n is number => n !== undefined && Boolean(md.versions?.[String(n)]) && !md.versions?.[String(n)]?.destroyed && !md.versions?.[String(n)]?.deletion_time;
    const cur = VaultBackend.stageVersion(md, 'current');
    const prev = VaultBackend.stageVersion(md, 'previous');
    const keep = [...new Set([prev, cur].filter(alive))].sort((a, b) => a - b);
    const oldestAfterWrite = md.current_version + 1 - max + 1;
    if (!keep.some((n) => n < oldestAfterWrite)) return md;
    const path = this.path('metadata', name);
    if (cur !== undefined && max < 2) {
      throw new ConfigError(`${path} keeps max_versions ${max}: writing the new (pending) version would destroy the current one, which the app still uses; nothing was written`, {
        hint: `let the key keep at least 3 versions (current, previous, pending): vault kv metadata put -mount=${this.opts.config.mount} -max-versions=10 ${this.base}/${name}`,
      });
    }
    // Room for the copies and the pending version: drop previous when there is none for it.
    const copy = max >= keep.length + 1 ? keep : keep.filter((n) => n === cur);
    const moved = new Map<number, number>();
    let cas = md.current_version;
    for (const n of copy) {
      const v = await this.getValue(name, { versionId: String(n) });
      cas = await this.writeVersion(name, v.value, cas);
      moved.set(n, cas);
    }
    const fresh = await this.requireMetadata(name);
    await this.writeStages(name, fresh, (c) => {
      if (cur !== undefined && moved.has(cur)) c[KEYS.current] = String(moved.get(cur));
      if (prev !== undefined) c[KEYS.previous] = moved.has(prev) ? String(moved.get(prev)) : '';
    });
    return this.requireMetadata(name);
  }

  async createPending(name: string, value: string, requestToken: string): Promise<{ versionId: string; created: boolean; current?: string }> {
    this.opts.masker.add(value);
    let md = await this.requireMetadata(name);
    const custom = md.custom_metadata ?? {};
    if (custom[TOKEN_KEY] === requestToken && custom[KEYS.pending]) return { versionId: custom[KEYS.pending]!, created: false };
    const before = VaultBackend.stageVersion(md, 'current');
    md = await this.keepStagesInWindow(name, md);
    const after = VaultBackend.stageVersion(md, 'current');
    const n = await this.writeVersion(name, value, md.current_version);
    await this.writeStages(name, md, (c) => {
      c[KEYS.pending] = String(n);
      c[TOKEN_KEY] = requestToken;
    });
    return { versionId: String(n), created: true, ...(after !== undefined && after !== before ? { current: String(after) } : {}) };
  }

  async promote(name: string, versionId: string): Promise<void> {
    const md = await this.requireMetadata(name);
    if (!md.versions?.[versionId]) throw noSuchVersion(name, { versionId }, this.location);
    const current = VaultBackend.stageVersion(md, 'current');
    await this.writeStages(name, md, (c) => {
      if (current !== undefined && String(current) !== versionId) c[KEYS.previous] = String(current);
      c[KEYS.current] = versionId;
      if (c[KEYS.pending] === versionId) {
        delete c[KEYS.pending];
        delete c[TOKEN_KEY];
      }
    });
  }

  async discardPending(name: string): Promise<{ discarded?: string }> {
    const md = await this.requireMetadata(name);
    const pending = VaultBackend.stageVersion(md, 'pending');
    if (pending === undefined) return {};
    await this.writeStages(name, md, (c) => {
      delete c[KEYS.pending];
      delete c[TOKEN_KEY];
    });
    // Soft-delete the pending value so a plain read of the key no longer returns it.
    const path = this.path('delete', name);
    await this.call('write', path, (v) => v.write(path, { versions: [pending] }));
    return { discarded: String(pending) };
  }

  async rollback(name: string): Promise<{ current: string; previous: string }> {
    const md = await this.requireMetadata(name);
    const prev = VaultBackend.stageVersion(md, 'previous');
    const cur = VaultBackend.stageVersion(md, 'current');
    if (prev === undefined || cur === undefined) {
      throw new UsageError(`secret "${name}" has no previous version to roll back to`, { hint: `see its versions with \`ltc secrets get ${name}\`` });
    }
    await this.writeStages(name, md, (c) => {
      c[KEYS.current] = String(prev);
      c[KEYS.previous] = String(cur);
    });
    return { current: String(prev), previous: String(cur) };
  }

  async put(name: string, value: string): Promise<{ versionId: string }> {
    this.opts.masker.add(value);
    const md = await this.metadata(name);
    const n = await this.writeVersion(name, value, md?.current_version ?? 0);
    const current = md ? VaultBackend.stageVersion(md, 'current') : undefined;
    await this.writeStages(name, md, (c) => {
      if (current !== undefined) c[KEYS.previous] = String(current);
      c[KEYS.current] = String(n);
    });
    return { versionId: String(n) };
  }
}
