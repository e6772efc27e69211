/**
 * The one interface every secrets backend implements (file, AWS Secrets Manager, Vault KV v2),
 * and the factory that opens the one an environment is configured with. The SDKs are imported
 * only inside the backend that needs them.
 *
 * Stages follow AWS Secrets Manager: `current` (AWSCURRENT), `pending` (AWSPENDING, a rotation
 * in progress) and `previous` (AWSPREVIOUS, what `rollback` returns to).
 */
import { CheckFailedError, ConfigError, UsageError } from '../core/errors.js';
import type { Masker } from '../core/masker.js';
import { didYouMean } from '../core/suggest.js';
import type { SecretsConfig } from '../config/schema/secrets.js';

export type Stage = 'current' | 'pending' | 'previous';
export const STAGES: readonly Stage[] = ['current', 'pending', 'previous'];

export interface VersionInfo {
  id: string;
  stages: Stage[];
  /** ISO time. */
  created?: string;
  /** The request token of the rotation that created it (when known). */
  token?: string;
}

export interface SecretDescription {
  name: string;
  versions: VersionInfo[];
  created?: string;
  updated?: string;
  /** AWS: the secret is scheduled for deletion (DeleteSecret at this time): its values cannot be used until it is restored. */
  scheduledForDeletion?: string;
}

export interface ValueSelector {
  stage?: Stage;
  versionId?: string;
}

export interface SecretValue {
  name: string;
  versionId: string;
  stages: Stage[];
  /** Registered with the masker before it is returned. */
  value: string;
}

export interface SecretsBackend {
  readonly kind: 'file' | 'aws' | 'vault';
  /** Where the secrets live, for messages: a file path, an endpoint and region, a Vault address. */
  readonly location: string;
  /** Every secret of this environment with its versions and stages. */
  list(): Promise<SecretDescription[]>;
  /** Versions, stages and dates of one secret; unknown secret → UsageError (exit 2). */
  describe(name: string): Promise<SecretDescription>;
  /** A value by stage (default current) or version id; registered with the masker at once. */
  getValue(name: string, select?: ValueSelector): Promise<SecretValue>;
  /**
   * Stores `value` as the pending version. Idempotent by `requestToken`: a second call with the
   * same token returns the version made by the first (`created: false`) and stores nothing.
   * A pending version from another token loses its stage.
   */
  /** `current`: set when the backend had to move the current stage to a new version id first (Vault: kept inside max_versions). */
  createPending(name: string, value: string, requestToken: string): Promise<{ versionId: string; created: boolean; current?: string }>;
  /** `versionId` becomes current (and stops being pending); the old current becomes previous. */
  promote(name: string, versionId: string): Promise<void>;
  /** Removes the pending stage (and, where the backend can, the pending value). */
  discardPending(name: string): Promise<{ discarded?: string }>;
  /** previous becomes current; the old current becomes previous. */
  rollback(name: string): Promise<{ current: string; previous: string }>;
  /** A new version that is current at once (creates the secret when it does not exist). */
  put(name: string, value: string): Promise<{ versionId: string }>;
  close?(): Promise<void>;
}

export interface BackendOptions {
  environment: string;
  config: SecretsConfig;
  /** Resolves a path from the config file's folder. */
  resolvePath(p: string): string;
  /** `.ltc/` */
  stateDir: string;
  /** Process environment (LTC_MASTER_KEY, VAULT_ADDR, VAULT_TOKEN, AWS_*). */
  env: NodeJS.ProcessEnv;
  masker: Masker;
  /** The config file, for messages. */
  configFile?: string;
}

/** Opens the backend configured for one environment. The SDK of that backend is imported here, lazily. */
export async function openBackend(opts: BackendOptions): Promise<SecretsBackend> {
  const config = opts.config;
  switch (config.backend) {
    case 'file': {
      const { FileBackend } = await import('./backends/file.js');
      return FileBackend.open({ ...opts, config });
    }
    case 'aws': {
      const { AwsBackend } = await import('./backends/aws.js');
      return new AwsBackend({ ...opts, config });
    }
    case 'vault': {
      const { VaultBackend } = await import('./backends/vault.js');
      return new VaultBackend({ ...opts, config });
    }
  }
}

/** The name rule of secrets (`LTC_SECRET_KEY`, `DATABASE_PASSWORD`). */
export const SECRET_NAME = /^[A-Z][A-Z0-9_]*$/;

export function checkSecretName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    throw new UsageError(`invalid secret name ${JSON.stringify(name)}`, {
      hint: 'secret names are upper case letters, digits and _ and start with a letter, e.g. LTC_SECRET_KEY',
    });
  }
}

/** The secret does not exist in the backend (exit 2). */
export class UnknownSecretError extends UsageError {
  constructor(
    readonly secret: string,
    message: string,
    hint: string,
  ) {
    super(message, { hint });
  }
}

export function unknownSecret(name: string, known: readonly string[], location: string): UnknownSecretError {
  return new UnknownSecretError(
    name,
    `unknown secret "${name}" in ${location}`,
    didYouMean(name, [...known]) ?? (known.length ? `known secrets: ${known.join(', ')}` : 'none stored yet: add one with `ltc secrets set` or `ltc secrets generate`'),
  );
}

export function noSuchVersion(name: string, select: ValueSelector, location: string): UsageError {
  const what = select.versionId ? `version ${select.versionId}` : `${select.stage ?? 'current'} version`;
  return new UsageError(`secret "${name}" has no ${what} in ${location}`, {
    hint: `see its versions with \`ltc secrets get ${name}\``,
  });
}

export function unreachable(what: string, location: string, cause: unknown): CheckFailedError {
  const reason = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause);
  return new CheckFailedError(`cannot reach ${what} at ${location}: ${reason}`, {
    hint: 'check the address in ltc.config.yaml (or the environment variable), the network and that the service is up, then retry',
    cause,
  });
}

/**
 * The backend refused the caller: AWS AccessDenied or rejected credentials, Vault 401/403.
 * Exit 2 like any config error; the audit log records the attempt as `denied`.
 */
export class AccessDeniedError extends ConfigError {}

/**
 * A rotation target's `set` failed before it changed anything (no connection, a statement the
 * server refused): there is nothing to put back where the secret is used.
 */
export class NotAppliedError extends CheckFailedError {}

export function badCredentials(message: string, hint: string, cause?: unknown): ConfigError {
  return new ConfigError(message, { hint, cause });
}

/** Network-level failures (nothing answered). */
export function isNetworkError(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNABORTED|EPIPE|UND_ERR_CONNECT_TIMEOUT|UND_ERR_SOCKET)$/.test(code)) {
      return true;
    }
    const name = (e as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'RequestTimeout') return true;
  }
  return false;
}

export function stagesLabel(stages: readonly Stage[]): string {
  return stages.length ? stages.join(',') : '-';
}

export function versionWith(desc: SecretDescription, stage: Stage): VersionInfo | undefined {
  return desc.versions.find((v) => v.stages.includes(stage));
}
