/**
 * AWS Secrets Manager through @aws-sdk/client-secrets-manager (imported here, only when an
 * environment uses `backend: aws`). A secret NAME of environment ENV is `<prefix><ENV>/<NAME>`.
 * Stages are the native staging labels AWSCURRENT / AWSPENDING / AWSPREVIOUS; a version id is
 * the ClientRequestToken that created it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type {
  SecretsManagerClient as Client,
  SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import type { z } from 'zod';
import { CheckFailedError, ConfigError, UsageError } from '../../core/errors.js';
import type { Masker } from '../../core/masker.js';
import { closest } from '../../core/suggest.js';
import type { awsBackendSchema } from '../../config/schema/secrets.js';
import {
  AccessDeniedError,
  checkSecretName,
  isNetworkError,
  noSuchVersion,
  unknownSecret,
  UnknownSecretError,
  unreachable,
  versionWith,
  type BackendOptions,
  type SecretDescription,
  type SecretValue,
  type SecretsBackend,
  type Stage,
  type ValueSelector,
  type VersionInfo,
} from '../backend.js';
import { byText } from '../../core/text-order.js';

type AwsConfig = z.output<typeof awsBackendSchema>;
type Sdk = typeof import('@aws-sdk/client-secrets-manager');

const TO_AWS: Record<Stage, string> = { current: 'AWSCURRENT', pending: 'AWSPENDING', previous: 'AWSPREVIOUS' };
const FROM_AWS: Record<string, Stage> = { AWSCURRENT: 'current', AWSPENDING: 'pending', AWSPREVIOUS: 'previous' };

function stagesFrom(labels: readonly string[] | undefined): Stage[] {
  return (labels ?? []).map((l) => FROM_AWS[l]).filter((s): s is Stage => s !== undefined);
}

function iso(d: Date | undefined): string | undefined {
  return d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined;
}

/**
 * The shared config and credentials files the SDK reads (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE,
 * else ~/.aws/config and ~/.aws/credentials) and the profile names each defines — names only:
 * nothing else of these files is kept.
 */
export function awsSharedFiles(env: NodeJS.ProcessEnv): Array<{ path: string; from: string; exists: boolean; profiles: string[] }> {
  const home = env.HOME || env.USERPROFILE || homedir();
  const files = [
    { path: env.AWS_CONFIG_FILE || join(home, '.aws', 'config'), from: env.AWS_CONFIG_FILE ? 'AWS_CONFIG_FILE' : 'default location', config: true },
    { path: env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'), from: env.AWS_SHARED_CREDENTIALS_FILE ? 'AWS_SHARED_CREDENTIALS_FILE' : 'default location', config: false },
  ];
  return files.map(({ path, from, config }) => {
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      text = undefined;
    }
    const profiles: string[] = [];
    for (const m of (text ?? '').matchAll(/^[ \t]*\[[ \t]*([^\]\r\n]+?)[ \t]*\][ \t]*$/gm)) {
      const section = m[1]!;
      // In the config file a profile is [default] or [profile NAME] ([sso-session …], [services …] are not);
      // in the credentials file every section is a profile.
      if (!config) profiles.push(section);
      else if (section === 'default') profiles.push(section);
      else if (/^profile\s+/.test(section)) profiles.push(section.replace(/^profile\s+/, ''));
    }
    return { path, from, exists: text !== undefined, profiles };
  });
}

export class AwsBackend implements SecretsBackend {
  readonly kind = 'aws' as const;
  readonly location: string;
  private readonly prefix: string;
  private client: Promise<{ sdk: Sdk; client: Client }> | undefined;

  constructor(private readonly opts: BackendOptions & { config: AwsConfig }) {
    const c = opts.config;
    this.prefix = `${c.prefix}${opts.environment}/`;
    this.location = `AWS Secrets Manager ${c.endpoint ?? `(${c.region})`} under ${this.prefix}`;
    // Credentials are secrets too: nothing ltc prints may carry them (the SDK reads them itself).
    opts.masker.add(opts.env.AWS_SECRET_ACCESS_KEY);
    opts.masker.add(opts.env.AWS_SESSION_TOKEN);
  }

  private get masker(): Masker {
    return this.opts.masker;
  }

  private id(name: string): string {
    checkSecretName(name);
    return this.prefix + name;
  }

  private sdk(): Promise<{ sdk: Sdk; client: Client }> {
    this.client ??= import('@aws-sdk/client-secrets-manager').then((sdk) => {
      const c = this.opts.config;
      const config: SecretsManagerClientConfig = { region: c.region, maxAttempts: 2 };
      if (c.endpoint) config.endpoint = c.endpoint;
      if (c.profile) config.profile = c.profile;
      return { sdk, client: new sdk.SecretsManagerClient(config) };
    });
    return this.client;
  }

  /** Runs one call and turns AWS errors into ltc errors with hints. */
  private async call<T>(op: string, name: string | undefined, fn: (sdk: Sdk, client: Client) => Promise<T>, known?: () => Promise<string[]>): Promise<T> {
    const { sdk, client } = await this.sdk();
    try {
      return await fn(sdk, client);
    } catch (err) {
      throw await this.translate(err, op, name, known);
    }
  }

  private async translate(err: unknown, op: string, name: string | undefined, known?: () => Promise<string[]>): Promise<Error> {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const type = e.name ?? '';
    const resource = name ? this.prefix + name : this.prefix + '*';
    if (type === 'ResourceNotFoundException' && name) {
      const names = known ? await known().catch(() => []) : [];
      return unknownSecret(name, names, this.location);
    }
    if (type === 'AccessDeniedException') {
      return new AccessDeniedError(`AWS denied secretsmanager:${op} on ${resource}`, {
        hint: `grant the identity in use (${this.identity()}) secretsmanager:${op} on that secret, or use one that has it`,
        cause: err,
      });
    }
    if (['UnrecognizedClientException', 'InvalidSignatureException', 'IncompleteSignatureException', 'ExpiredTokenException', 'MissingAuthenticationTokenException', 'InvalidClientTokenId'].includes(type)) {
      return new AccessDeniedError(`AWS rejected the credentials (${type}) for ${this.location}`, {
        hint: 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or the configured profile; expired session tokens need a new `aws sso login` or `aws sts` session',
        cause: err,
      });
    }
    if (type === 'CredentialsProviderError') return this.noCredentials(err);
    if (isNetworkError(err)) return unreachable('AWS Secrets Manager', this.opts.config.endpoint ?? `region ${this.opts.config.region}`, err);
    if (type === 'ValidationException' || type === 'InvalidParameterException') {
      // What ltc was given (e.g. a --version-id that is no AWS version id) does not fit: nothing changed.
      return new UsageError(`AWS refused secretsmanager:${op} on ${resource}: ${e.message ?? type}`, {
        hint: `check what was given; a version id is one \`ltc secrets get ${name ?? '<NAME>'}\` lists`,
        cause: err,
      });
    }
    if (type === 'InvalidRequestException' && name && /deletion/i.test(e.message ?? '')) {
      const deleted = await this.deletedDate(name).catch(() => undefined);
      return this.scheduledForDeletion(name, op, deleted, err);
    }
    const status = e.$metadata?.httpStatusCode;
    // An answer the SDK cannot read as AWS JSON (an HTML page, a proxy's 200 or 501): not Secrets Manager.
    if (/Deserialization error/i.test(e.message ?? '') || (status !== undefined && status < 400 && !type.endsWith('Exception'))) {
      return new ConfigError(`${this.opts.config.endpoint ?? `region ${this.opts.config.region}`} does not answer like AWS Secrets Manager (HTTP ${status ?? '?'} to secretsmanager:${op}, not an AWS JSON answer)`, {
        hint: `check secrets.endpoint and secrets.region in ${this.opts.configFile ?? 'ltc.config.yaml'} (the endpoint is e.g. https://secretsmanager.eu-central-1.amazonaws.com)`,
        cause: err,
      });
    }
    if (status === 404 && !type.endsWith('Exception')) {
      return new ConfigError(`${this.opts.config.endpoint ?? `region ${this.opts.config.region}`} did not answer like AWS Secrets Manager (HTTP 404 to secretsmanager:${op})`, {
        hint: `check secrets.endpoint and secrets.region in ${this.opts.configFile ?? 'ltc.config.yaml'}`,
        cause: err,
      });
    }
    if (type === 'ResourceExistsException') {
      return new UsageError(`AWS refused secretsmanager:${op} on ${resource}: ${e.message ?? type}`, { cause: err });
    }
    return new CheckFailedError(`AWS secretsmanager:${op} on ${resource} failed: ${type || 'error'}: ${e.message ?? String(err)}`, {
      hint: 'retry; if it persists, check the AWS console or `aws secretsmanager describe-secret`',
      cause: err,
    });
  }

  /** DescribeSecret's DeletedDate (ISO) when the secret is scheduled for deletion. */
  private async deletedDate(name: string): Promise<string | undefined> {
    const { sdk, client } = await this.sdk();
    const d = await client.send(new sdk.DescribeSecretCommand({ SecretId: this.id(name) }));
    return iso(d.DeletedDate);
  }

  private scheduledForDeletion(name: string, op: string, deleted: string | undefined, err?: unknown): UsageError {
    const id = this.prefix + name;
    return new UsageError(
      `secret ${id} is scheduled for deletion${deleted ? ` (DeleteSecret on ${deleted}; AWS deletes it for good when its recovery window of 7 to 30 days ends)` : ''}: secretsmanager:${op} refused, nothing changed`,
      {
        hint: `restore it first: aws secretsmanager restore-secret --secret-id ${id}${this.opts.config.region ? ` --region ${this.opts.config.region}` : ''} (the RestoreSecret API, or "Cancel deletion" in the Secrets Manager console), then run the command again`,
        ...(err ? { cause: err } : {}),
      },
    );
  }

  /**
   * No credentials: when a profile was asked for (secrets.profile, else AWS_PROFILE) the message
   * names it, the files it was looked for in, and whether it is in them at all.
   */
  private noCredentials(err: unknown): ConfigError {
    const configFile = this.opts.configFile ?? 'ltc.config.yaml';
    const fromConfig = this.opts.config.profile;
    const profile = fromConfig || this.opts.env.AWS_PROFILE;
    if (!profile) {
      return new ConfigError(`no AWS credentials found for ${this.location}`, {
        hint: `set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile: \`profile:\` under secrets in ${configFile}, or AWS_PROFILE`,
        cause: err,
      });
    }
    const key = `environments.${this.opts.environment}.secrets.profile`;
    const source = fromConfig ? `${key} in ${configFile}` : 'AWS_PROFILE';
    const files = awsSharedFiles(this.opts.env);
    const where = files.map((f) => `${f.path} (${f.from}${f.exists ? '' : ', does not exist'})`).join(' or ');
    const fix = fromConfig ? `fix \`profile:\` (${key}) in ${configFile}` : 'fix or unset AWS_PROFILE';
    const known = [...new Set(files.flatMap((f) => f.profiles))];
    if (!known.includes(profile)) {
      const near = closest(profile, known);
      const listed = !near && known.length ? ` (profiles there: ${known.join(', ')})` : '';
      return new ConfigError(`AWS profile "${profile}" (${source}) is not defined in ${where}`, {
        hint: `${near ? `did you mean "${near}"? ` : ''}create it with \`aws configure --profile ${profile}\`, or ${fix}${listed} (set AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE to read other files)`,
        cause: err,
      });
    }
    return new ConfigError(`AWS profile "${profile}" (${source}) gives no credentials`, {
      hint: `it is in ${files.filter((f) => f.profiles.includes(profile)).map((f) => f.path).join(' and ')} but without usable keys: add them with \`aws configure --profile ${profile}\` (SSO: \`aws sso login --profile ${profile}\`), or ${fix}`,
      cause: err,
    });
  }

  /** Where the SDK takes its credentials from, for messages (never the credentials). */
  private identity(): string {
    const env = this.opts.env;
    if (this.opts.config.profile) return `profile ${this.opts.config.profile}`;
    if (env.AWS_ACCESS_KEY_ID) return 'the access key in AWS_ACCESS_KEY_ID';
    return `profile ${env.AWS_PROFILE || 'default'}`;
  }

  private knownNames = async (): Promise<string[]> => (await this.list()).map((d) => d.name);

  async list(): Promise<SecretDescription[]> {
    const out: SecretDescription[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('ListSecrets', undefined, (sdk, client) =>
        client.send(new sdk.ListSecretsCommand({ Filters: [{ Key: 'name', Values: [this.prefix] }], NextToken: token, MaxResults: 100, IncludePlannedDeletion: true })),
      );
      for (const s of page.SecretList ?? []) {
        if (!s.Name?.startsWith(this.prefix)) continue;
        const deleted = iso(s.DeletedDate);
        // A secret scheduled for deletion has no usable version until it is restored.
        const versions: VersionInfo[] = deleted ? [] : Object.entries(s.SecretVersionsToStages ?? {}).map(([id, labels]) => ({ id, stages: stagesFrom(labels) }));
        out.push({ name: s.Name.slice(this.prefix.length), versions, created: iso(s.CreatedDate), updated: iso(s.LastChangedDate), ...(deleted ? { scheduledForDeletion: deleted } : {}) });
      }
      token = page.NextToken;
    } while (token);
    return out.sort((a, b) => byText(a.name, b.name));
  }

  async describe(name: string): Promise<SecretDescription> {
    const id = this.id(name);
    const d = await this.call('DescribeSecret', name, (sdk, client) => client.send(new sdk.DescribeSecretCommand({ SecretId: id })), this.knownNames);
    const deleted = iso(d.DeletedDate);
    if (deleted) return { name, versions: [], created: iso(d.CreatedDate), updated: iso(d.LastChangedDate), scheduledForDeletion: deleted };
    const created = new Map<string, string | undefined>();
    let token: string | undefined;
    do {
      const page = await this.call('ListSecretVersionIds', name, (sdk, client) =>
        client.send(new sdk.ListSecretVersionIdsCommand({ SecretId: id, NextToken: token, MaxResults: 100 })),
      );
      for (const v of page.Versions ?? []) if (v.VersionId) created.set(v.VersionId, iso(v.CreatedDate));
      token = page.NextToken;
    } while (token);
    const versions = Object.entries(d.VersionIdsToStages ?? {}).map(([vid, labels]) => ({
      id: vid,
      stages: stagesFrom(labels),
      created: created.get(vid),
    }));
    versions.sort((a, b) => byText(a.created ?? '', b.created ?? ''));
    return { name, versions, created: iso(d.CreatedDate), updated: iso(d.LastChangedDate) };
  }

  async getValue(name: string, select: ValueSelector = {}): Promise<SecretValue> {
    const id = this.id(name);
    const r = await this.call('GetSecretValue', name, (sdk, client) =>
      client.send(
        new sdk.GetSecretValueCommand(
          select.versionId ? { SecretId: id, VersionId: select.versionId } : { SecretId: id, VersionStage: TO_AWS[select.stage ?? 'current'] },
        ),
      ),
    ).catch(async (err) => {
      // A missing stage/version on an existing secret is also ResourceNotFound: tell them apart.
      if (err instanceof UnknownSecretError) {
        const exists = await this.describe(name).then(() => true, () => false);
        if (exists) throw noSuchVersion(name, select, this.location);
      }
      throw err;
    });
    if (r.SecretString === undefined) {
      throw new UsageError(`secret "${name}" holds binary data; ltc manages text secrets only`, { hint: 'store it as SecretString' });
    }
    this.masker.add(r.SecretString);
    return { name, versionId: r.VersionId ?? '', stages: stagesFrom(r.VersionStages), value: r.SecretString };
  }

  async createPending(name: string, value: string, requestToken: string): Promise<{ versionId: string; created: boolean }> {
    this.masker.add(value);
    const before = await this.describe(name);
    if (before.versions.some((v) => v.id === requestToken)) return { versionId: requestToken, created: false };
    const id = this.id(name);
    const r = await this.call('PutSecretValue', name, (sdk, client) =>
      client.send(new sdk.PutSecretValueCommand({ SecretId: id, SecretString: value, ClientRequestToken: requestToken, VersionStages: ['AWSPENDING'] })),
    );
    return { versionId: r.VersionId ?? requestToken, created: true };
  }

  private async moveStage(name: string, stage: Stage, to: string | undefined, from: string | undefined): Promise<void> {
    const id = this.id(name);
    await this.call('UpdateSecretVersionStage', name, (sdk, client) =>
      client.send(
        new sdk.UpdateSecretVersionStageCommand({
          SecretId: id,
          VersionStage: TO_AWS[stage],
          ...(to ? { MoveToVersionId: to } : {}),
          ...(from ? { RemoveFromVersionId: from } : {}),
        }),
      ),
    );
  }

  async promote(name: string, versionId: string): Promise<void> {
    const d = await this.describe(name);
    const target = d.versions.find((v) => v.id === versionId);
    if (!target) throw noSuchVersion(name, { versionId }, this.location);
    const current = versionWith(d, 'current');
    // Moving AWSCURRENT makes Secrets Manager put AWSPREVIOUS on the version it left.
    if (current?.id !== versionId) await this.moveStage(name, 'current', versionId, current?.id);
    if (target.stages.includes('pending')) await this.moveStage(name, 'pending', undefined, versionId);
  }

  async discardPending(name: string): Promise<{ discarded?: string }> {
    const pending = versionWith(await this.describe(name), 'pending');
    if (!pending) return {};
    await this.moveStage(name, 'pending', undefined, pending.id);
    return { discarded: pending.id };
  }

  async rollback(name: string): Promise<{ current: string; previous: string }> {
    const d = await this.describe(name);
    const prev = versionWith(d, 'previous');
    const cur = versionWith(d, 'current');
    if (!prev || !cur) {
      throw new UsageError(`secret "${name}" has no previous version to roll back to`, { hint: `see its versions with \`ltc secrets get ${name}\`` });
    }
    await this.moveStage(name, 'current', prev.id, cur.id);
    return { current: prev.id, previous: cur.id };
  }

  async put(name: string, value: string): Promise<{ versionId: string }> {
    this.masker.add(value);
    const id = this.id(name);
    const token = randomUUID();
    try {
      const r = await this.call('PutSecretValue', name, (sdk, client) =>
        client.send(new sdk.PutSecretValueCommand({ SecretId: id, SecretString: value, ClientRequestToken: token })),
      );
      return { versionId: r.VersionId ?? token };
    } catch (err) {
      if (!(err instanceof UnknownSecretError)) throw err;
    }
    const r = await this.call('CreateSecret', name, (sdk, client) =>
      client.send(new sdk.CreateSecretCommand({ Name: id, SecretString: value, ClientRequestToken: token, Description: `ltc: ${name} of ${this.opts.environment}` })),
    );
    return { versionId: r.VersionId ?? token };
  }

  async close(): Promise<void> {
    if (this.client) (await this.client).client.destroy();
  }
}
