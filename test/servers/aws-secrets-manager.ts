/**
 * A loopback stand-in for AWS Secrets Manager that speaks the real wire protocol
 * (AWS JSON 1.1 over HTTP, SigV4-authenticated), so that the real
 * `@aws-sdk/client-secrets-manager` can be exercised in tests.
 *
 * Modelled on the public Secrets Manager API reference: operations, staging
 * labels (AWSCURRENT / AWSPREVIOUS), ClientRequestToken idempotency, error
 * shapes (`__type` + `x-amzn-ErrorType`) and epoch-second timestamps.
 * Test use only: it binds to 127.0.0.1 on a free port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';

export interface AwsSecretsManagerOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  /** Return true to answer the call with 400 AccessDeniedException. */
  deny?: (op: string, secretId?: string) => boolean;
}

export interface AwsSecretsManagerServer {
  url: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Every request that passed SigV4 authentication, in arrival order. */
  requests: Array<{ op: string; body: unknown }>;
  close(): Promise<void>;
}

const SERVICE = 'secretsmanager';
const ACCOUNT_ID = '123456789012';
const AWSCURRENT = 'AWSCURRENT';
const AWSPREVIOUS = 'AWSPREVIOUS';
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

// ---------------------------------------------------------------------------
// JSON values and errors
// ---------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };
type JsonObject = { [key: string]: Json | undefined };

class AwsError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const invalidParameter = (message: string): AwsError => new AwsError('InvalidParameterException', 400, message);
const invalidRequest = (message: string): AwsError => new AwsError('InvalidRequestException', 400, message);
const notFound = (message: string): AwsError => new AwsError('ResourceNotFoundException', 400, message);
const exists = (message: string): AwsError => new AwsError('ResourceExistsException', 400, message);
const serialization = (message: string): AwsError => new AwsError('SerializationException', 400, message);
const invalidSignature = (message: string): AwsError => new AwsError('InvalidSignatureException', 400, message);
const incompleteSignature = (message: string): AwsError => new AwsError('IncompleteSignatureException', 400, message);

function validation(member: string, constraint: string, value: unknown): AwsError {
  const shown = value === undefined ? 'null' : `'${String(value)}'`;
  const name = member.charAt(0).toLowerCase() + member.slice(1);
  return new AwsError(
    'ValidationException',
    400,
    `1 validation error detected: Value ${shown} at '${name}' failed to satisfy constraint: ${constraint}`,
  );
}

// ---------------------------------------------------------------------------
// Typed access to the request members
// ---------------------------------------------------------------------------

interface Tag {
  Key: string;
  Value: string;
}

interface Filter {
  Key: string;
  Values: string[];
}

class Input {
  constructor(readonly raw: Record<string, unknown>) {}

  string(member: string): string {
    const value = this.optString(member);
    if (value === undefined) throw validation(member, 'Member must not be null', undefined);
    return value;
  }

  optString(member: string, min = 1, max = Number.MAX_SAFE_INTEGER): string | undefined {
    const value = this.raw[member];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw serialization(`Member ${member} must be a string`);
    if (value.length < min) throw validation(member, `Member must have length greater than or equal to ${min}`, value);
    if (value.length > max) throw validation(member, `Member must have length less than or equal to ${max}`, value);
    return value;
  }

  optBoolean(member: string): boolean | undefined {
    const value = this.raw[member];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw serialization(`Member ${member} must be a boolean`);
    return value;
  }

  optInteger(member: string): number | undefined {
    const value = this.raw[member];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw serialization(`Member ${member} must be an integer`);
    }
    return value;
  }

  optStringList(member: string): string[] | undefined {
    const value = this.raw[member];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
      throw serialization(`Member ${member} must be a list of strings`);
    }
    return value;
  }

  optTags(member: string): Tag[] | undefined {
    return this.optObjectList(member, (item) => {
      const { Key, Value } = item;
      if (typeof Key !== 'string' || typeof Value !== 'string') throw serialization(`Invalid ${member} entry`);
      return { Key, Value };
    });
  }

  optFilters(member: string): Filter[] | undefined {
    return this.optObjectList(member, (item) => {
      const { Key, Values } = item;
      if (typeof Key !== 'string') throw serialization(`Invalid ${member} entry`);
      const values = new Input({ Values }).optStringList('Values') ?? [];
      return { Key, Values: values };
    });
  }

  private optObjectList<T>(member: string, convert: (item: Record<string, unknown>) => T): T[] | undefined {
    const value = this.raw[member];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw serialization(`Member ${member} must be a list`);
    return value.map((item: unknown) => {
      if (!isRecord(item)) throw serialization(`Invalid ${member} entry`);
      return convert(item);
    });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------
// The secret store
// ---------------------------------------------------------------------------

interface SecretValue {
  SecretString?: string;
  SecretBinary?: string;
}

interface SecretVersion {
  id: string;
  value: SecretValue;
  created: number;
  stages: Set<string>;
  lastAccessed?: number;
}

interface Secret {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Tag[];
  created: number;
  lastChanged: number;
  lastAccessed?: number;
  deleted?: number;
  versions: Map<string, SecretVersion>;
}

const epochSeconds = (ms: number): number => ms / 1000;
const startOfDay = (ms: number): number => ms - (ms % DAY_MS);
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]+$/;

function randomSuffix(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');
}

function sameValue(a: SecretValue, b: SecretValue): boolean {
  return a.SecretString === b.SecretString && a.SecretBinary === b.SecretBinary;
}

function stagesOf(version: SecretVersion): string[] {
  return [...version.stages];
}

function holderOf(secret: Secret, stage: string): SecretVersion | undefined {
  return [...secret.versions.values()].find((version) => version.stages.has(stage));
}

/** Attaches `stage` to `target`, removing it from its previous holder (AWSCURRENT drags AWSPREVIOUS along). */
function attachStage(secret: Secret, stage: string, target: SecretVersion): void {
  const previous = holderOf(secret, stage);
  if (previous === target) return;
  previous?.stages.delete(stage);
  target.stages.add(stage);
  if (stage === AWSCURRENT && previous) attachStage(secret, AWSPREVIOUS, previous);
}

function versionsToStages(secret: Secret): Record<string, string[]> {
  const labelled = [...secret.versions.values()].filter((version) => version.stages.size > 0);
  return Object.fromEntries(labelled.map((version) => [version.id, stagesOf(version)]));
}

function readSecretValue(input: Input): SecretValue {
  const value: SecretValue = {
    SecretString: input.optString('SecretString', 0, 65536),
    SecretBinary: input.optString('SecretBinary', 0, 87384),
  };
  if (value.SecretString !== undefined && value.SecretBinary !== undefined) {
    throw invalidParameter('You must provide either SecretString or SecretBinary, but not both.');
  }
  return value;
}

function readVersionToken(input: Input): string {
  return input.optString('ClientRequestToken', 32, 64) ?? randomUUID();
}

function encodeToken(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64url');
}

function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const match = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
  if (!match) throw new AwsError('InvalidNextTokenException', 400, 'The NextToken value is invalid.');
  return Number(match[1]);
}

function paginate<T>(items: T[], input: Input): { page: T[]; nextToken?: string } {
  const maxResults = input.optInteger('MaxResults') ?? 100;
  if (maxResults < 1 || maxResults > 100) {
    throw validation('MaxResults', 'Member must have value between 1 and 100', maxResults);
  }
  const offset = decodeToken(input.optString('NextToken'));
  const page = items.slice(offset, offset + maxResults);
  const next = offset + maxResults;
  return { page, nextToken: next < items.length ? encodeToken(next) : undefined };
}

function filterMatches(secret: Secret, filter: Filter): boolean {
  const candidates: Record<string, string[]> = {
    name: [secret.name],
    description: secret.description === undefined ? [] : [secret.description],
    'tag-key': secret.tags.map((tag) => tag.Key),
    'tag-value': secret.tags.map((tag) => tag.Value),
  };
  candidates.all = Object.values(candidates).flat();
  const fields = candidates[filter.Key];
  if (fields === undefined) return false;
  return filter.Values.some((raw) => {
    const negated = raw.startsWith('!');
    const prefix = negated ? raw.slice(1) : raw;
    const hit = fields.some((field) => field.startsWith(prefix));
    return negated ? !hit : hit;
  });
}

class SecretStore {
  private readonly secrets = new Map<string, Secret>();

  constructor(private readonly region: string) {}

  find(secretId: string): Secret {
    const byName = this.secrets.get(secretId);
    if (byName) return byName;
    for (const secret of this.secrets.values()) {
      // Full ARN, or partial ARN (without the "-xxxxxx" suffix Secrets Manager appends).
      if (secret.arn === secretId || secret.arn.slice(0, -7) === secretId) return secret;
    }
    throw notFound("Secrets Manager can't find the specified secret.");
  }

  findActive(secretId: string): Secret {
    const secret = this.find(secretId);
    if (secret.deleted !== undefined) {
      throw invalidRequest("You can't perform this operation on the secret because it was marked for deletion.");
    }
    return secret;
  }

  createSecret(input: Input): JsonObject {
    const name = input.string('Name');
    if (name.length > 512) throw validation('Name', 'Member must have length less than or equal to 512', name);
    if (!NAME_PATTERN.test(name)) {
      throw validation('Name', 'Member must satisfy regular expression pattern: [A-Za-z0-9/_+=.@-]+', name);
    }
    const token = readVersionToken(input);
    const value = readSecretValue(input);
    const existing = this.secrets.get(name);
    if (existing) return this.retryCreate(existing, token, value);

    const now = Date.now();
    const secret: Secret = {
      arn: `arn:aws:secretsmanager:${this.region}:${ACCOUNT_ID}:secret:${name}-${randomSuffix(6)}`,
      name,
      description: input.optString('Description', 0, 2048),
      kmsKeyId: input.optString('KmsKeyId', 0, 2048),
      tags: input.optTags('Tags') ?? [],
      created: now,
      lastChanged: now,
      versions: new Map(),
    };
    this.secrets.set(name, secret);
    const hasValue = value.SecretString !== undefined || value.SecretBinary !== undefined;
    if (!hasValue) return { ARN: secret.arn, Name: secret.name };
    this.addVersion(secret, token, value, [AWSCURRENT]);
    return { ARN: secret.arn, Name: secret.name, VersionId: token };
  }

  /** CreateSecret retried with the same ClientRequestToken and value is a no-op. */
  private retryCreate(secret: Secret, token: string, value: SecretValue): JsonObject {
    if (secret.deleted !== undefined) {
      throw invalidRequest(
        `You can't create this secret because a secret with this name is already scheduled for deletion.`,
      );
    }
    const version = secret.versions.get(token);
    if (version && sameValue(version.value, value)) {
      return { ARN: secret.arn, Name: secret.name, VersionId: version.id };
    }
    throw exists(`The operation failed because the secret ${secret.name} already exists.`);
  }

  private addVersion(secret: Secret, id: string, value: SecretValue, stages: string[]): SecretVersion {
    const now = Date.now();
    const version: SecretVersion = { id, value, created: now, stages: new Set() };
    const isFirst = holderOf(secret, AWSCURRENT) === undefined;
    secret.versions.set(id, version);
    const wanted = isFirst && !stages.includes(AWSCURRENT) ? [...stages, AWSCURRENT] : stages;
    for (const stage of wanted) attachStage(secret, stage, version);
    secret.lastChanged = now;
    return version;
  }

  getSecretValue(input: Input): JsonObject {
    // Member constraints are checked before the secret is looked up (ValidationException first).
    const secretId = input.string('SecretId');
    const versionId = input.optString('VersionId', 32, 64);
    const stage = input.optString('VersionStage', 1, 256);
    const secret = this.findActive(secretId);
    const version = this.selectVersion(secret, versionId, stage);
    const now = Date.now();
    secret.lastAccessed = startOfDay(now);
    version.lastAccessed = startOfDay(now);
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      ...version.value,
      VersionStages: stagesOf(version),
      CreatedDate: epochSeconds(version.created),
    };
  }

  private selectVersion(secret: Secret, versionId: string | undefined, stage: string | undefined): SecretVersion {
    if (versionId !== undefined) {
      const version = secret.versions.get(versionId);
      if (!version || (stage !== undefined && !version.stages.has(stage))) {
        const label = stage === undefined ? '' : ` and staging label: ${stage}`;
        throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}${label}`);
      }
      return version;
    }
    const label = stage ?? AWSCURRENT;
    const version = holderOf(secret, label);
    if (!version) throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${label}`);
    return version;
  }

  putSecretValue(input: Input): JsonObject {
    const secret = this.findActive(input.string('SecretId'));
    const token = readVersionToken(input);
    const value = readSecretValue(input);
    if (value.SecretString === undefined && value.SecretBinary === undefined) {
      throw invalidRequest('You must provide either SecretString or SecretBinary.');
    }
    const stages = input.optStringList('VersionStages') ?? [AWSCURRENT];
    if (stages.length < 1 || stages.length > 20) {
      throw validation('VersionStages', 'Member must have length between 1 and 20', stages.join(','));
    }
    const existing = secret.versions.get(token);
    if (existing && !sameValue(existing.value, value)) {
      throw exists("You can't modify an existing version, you can only create a new version.");
    }
    const version = existing ?? this.addVersion(secret, token, value, stages);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: stagesOf(version) };
  }

  updateSecretVersionStage(input: Input): JsonObject {
    const secretId = input.string('SecretId');
    const stage = input.string('VersionStage');
    const moveTo = input.optString('MoveToVersionId', 32, 64);
    const removeFrom = input.optString('RemoveFromVersionId', 32, 64);
    const secret = this.findActive(secretId);
    const holder = holderOf(secret, stage);
    if (moveTo !== undefined) {
      const target = secret.versions.get(moveTo);
      if (!target) throw notFound(`Secrets Manager can't find the specified secret version: ${moveTo}`);
      if (holder && holder !== target) requireRemoveFrom(stage, holder, removeFrom);
      attachStage(secret, stage, target);
    } else {
      if (removeFrom === undefined) {
        throw invalidParameter('You must specify MoveToVersionId, RemoveFromVersionId, or both.');
      }
      if (!holder) throw invalidParameter(`The staging label ${stage} isn't attached to version ${removeFrom}.`);
      requireRemoveFrom(stage, holder, removeFrom);
      if (stage === AWSCURRENT) {
        throw invalidParameter(`You can't remove the staging label ${AWSCURRENT} without attaching it to another version.`);
      }
      holder.stages.delete(stage);
    }
    secret.lastChanged = Date.now();
    return { ARN: secret.arn, Name: secret.name };
  }

  describeSecret(input: Input): JsonObject {
    const secret = this.find(input.string('SecretId'));
    return {
      ARN: secret.arn,
      Name: secret.name,
      Description: secret.description,
      KmsKeyId: secret.kmsKeyId,
      LastChangedDate: epochSeconds(secret.lastChanged),
      LastAccessedDate: secret.lastAccessed === undefined ? undefined : epochSeconds(secret.lastAccessed),
      DeletedDate: secret.deleted === undefined ? undefined : epochSeconds(secret.deleted),
      Tags: secret.tags.length > 0 ? tagsJson(secret.tags) : undefined,
      VersionIdsToStages: versionsToStages(secret),
      CreatedDate: epochSeconds(secret.created),
    };
  }

  listSecretVersionIds(input: Input): JsonObject {
    const secret = this.find(input.string('SecretId'));
    const includeDeprecated = input.optBoolean('IncludeDeprecated') ?? false;
    const versions = [...secret.versions.values()].filter((v) => includeDeprecated || v.stages.size > 0);
    const { page, nextToken } = paginate(versions, input);
    return {
      ARN: secret.arn,
      Name: secret.name,
      Versions: page.map((version) => ({
        VersionId: version.id,
        VersionStages: version.stages.size > 0 ? stagesOf(version) : undefined,
        CreatedDate: epochSeconds(version.created),
        LastAccessedDate: version.lastAccessed === undefined ? undefined : epochSeconds(version.lastAccessed),
      })),
      NextToken: nextToken,
    };
  }

  listSecrets(input: Input): JsonObject {
    const includeDeleted = input.optBoolean('IncludePlannedDeletion') ?? false;
    const filters = input.optFilters('Filters') ?? [];
    const order = input.optString('SortOrder');
    if (order !== undefined && order !== 'asc' && order !== 'desc') {
      throw validation('SortOrder', 'Member must satisfy enum value set: [asc, desc]', order);
    }
    const matching = [...this.secrets.values()]
      .filter((secret) => includeDeleted || secret.deleted === undefined)
      .filter((secret) => filters.every((filter) => filterMatches(secret, filter)))
      .sort((a, b) => (order === 'desc' ? b.created - a.created : a.created - b.created));
    const { page, nextToken } = paginate(matching, input);
    return { SecretList: page.map(secretListEntry), NextToken: nextToken };
  }

  deleteSecret(input: Input): JsonObject {
    const secret = this.find(input.string('SecretId'));
    const force = input.optBoolean('ForceDeleteWithoutRecovery') ?? false;
    const window = input.optInteger('RecoveryWindowInDays');
    if (force && window !== undefined) {
      throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    }
    if (window !== undefined && (window < 7 || window > 30)) {
      throw invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    const now = Date.now();
    if (force) {
      this.secrets.delete(secret.name);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(now) };
    }
    if (secret.deleted !== undefined) {
      throw invalidRequest("You can't perform this operation on the secret because it was already scheduled for deletion.");
    }
    secret.deleted = now;
    return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(now + (window ?? 30) * DAY_MS) };
  }

  restoreSecret(input: Input): JsonObject {
    const secret = this.find(input.string('SecretId'));
    secret.deleted = undefined;
    return { ARN: secret.arn, Name: secret.name };
  }
}

function requireRemoveFrom(stage: string, holder: SecretVersion, removeFrom: string | undefined): void {
  if (removeFrom === holder.id) return;
  throw invalidParameter(
    `The staging label ${stage} is currently attached to version ${holder.id}, ` +
      `so you must explicitly reference that version in RemoveFromVersionId.`,
  );
}

function tagsJson(tags: Tag[]): Json[] {
  return tags.map((tag) => ({ Key: tag.Key, Value: tag.Value }));
}

function secretListEntry(secret: Secret): JsonObject {
  return {
    ARN: secret.arn,
    Name: secret.name,
    Description: secret.description,
    KmsKeyId: secret.kmsKeyId,
    LastChangedDate: epochSeconds(secret.lastChanged),
    LastAccessedDate: secret.lastAccessed === undefined ? undefined : epochSeconds(secret.lastAccessed),
    DeletedDate: secret.deleted === undefined ? undefined : epochSeconds(secret.deleted),
    Tags: secret.tags.length > 0 ? tagsJson(secret.tags) : undefined,
    SecretVersionsToStages: versionsToStages(secret),
    CreatedDate: epochSeconds(secret.created),
  };
}

type Operation = (store: SecretStore, input: Input) => JsonObject;

const OPERATIONS: Record<string, Operation> = {
  CreateSecret: (store, input) => store.createSecret(input),
  GetSecretValue: (store, input) => store.getSecretValue(input),
  PutSecretValue: (store, input) => store.putSecretValue(input),
  UpdateSecretVersionStage: (store, input) => store.updateSecretVersionStage(input),
  DescribeSecret: (store, input) => store.describeSecret(input),
  ListSecretVersionIds: (store, input) => store.listSecretVersionIds(input),
  ListSecrets: (store, input) => store.listSecrets(input),
  DeleteSecret: (store, input) => store.deleteSecret(input),
  RestoreSecret: (store, input) => store.restoreSecret(input),
};

// ---------------------------------------------------------------------------
// SigV4 verification
// ---------------------------------------------------------------------------

interface ReceivedRequest {
  method: string;
  url: URL;
  /** Lower-cased header name -> value; repeated headers joined with "," as SigV4 canonicalisation does. */
  headers: Map<string, string>;
  body: Buffer;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

interface Authorization {
  accessKeyId: string;
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

type SignableRequest = Parameters<SignatureV4['sign']>[0];

const AUTHORIZATION_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;

function parseAuthorization(header: string | undefined): Authorization {
  if (header === undefined) {
    throw new AwsError('MissingAuthenticationTokenException', 403, 'Missing Authentication Token');
  }
  const match = AUTHORIZATION_PATTERN.exec(header.trim());
  if (!match) {
    throw incompleteSignature(`Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.`);
  }
  const [, accessKeyId, scopeDate, region, service, signedHeaders, signature] = match;
  return { accessKeyId, scopeDate, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

function parseAmzDate(value: string | undefined): Date {
  const match = value === undefined ? null : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) throw incompleteSignature('Authorization requires a valid X-Amz-Date header (YYYYMMDDTHHMMSSZ).');
  const [, year, month, day, hour, minute, second] = match.map(Number);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

function checkScope(auth: Authorization, amzDate: string, signingDate: Date, region: string): void {
  if (!auth.signedHeaders.includes('host') || !auth.signedHeaders.includes('x-amz-date')) {
    throw incompleteSignature("'Host' and 'X-Amz-Date' must be SignedHeaders in the AWS Authorization.");
  }
  if (auth.scopeDate !== amzDate.slice(0, 8)) {
    throw invalidSignature(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scopeDate}' != '${amzDate.slice(0, 8)}'`);
  }
  if (auth.region !== region) {
    throw invalidSignature(`Credential should be scoped to a valid region, not '${auth.region}'.`);
  }
  if (auth.service !== SERVICE) {
    throw invalidSignature(`Credential should be scoped to correct service: '${SERVICE}'.`);
  }
  if (Math.abs(Date.now() - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw invalidSignature(`Signature expired: ${amzDate} is outside the allowed 15 minute window of the server time.`);
  }
}

function checkPayloadHash(request: ReceivedRequest): void {
  const declared = request.headers.get('x-amz-content-sha256');
  if (declared === undefined || declared === 'UNSIGNED-PAYLOAD') return;
  const actual = createHash('sha256').update(request.body).digest('hex');
  if (declared !== actual) {
    throw invalidSignature('The provided x-amz-content-sha256 header does not match the computed payload hash.');
  }
}

function toSignable(request: ReceivedRequest, signedHeaders: string[]): SignableRequest {
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers.get(name);
    if (value === undefined) throw invalidSignature(`Signed header '${name}' is missing from the request.`);
    headers[name] = value;
  }
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(request.url.searchParams.keys())) {
    const values = request.url.searchParams.getAll(key);
    query[key] = values.length === 1 ? values[0] : values;
  }
  return {
    method: request.method,
    protocol: 'http:',
    hostname: request.url.hostname,
    port: Number(request.url.port),
    path: request.url.pathname,
    query,
    headers,
    body: request.body,
  };
}

function signatureFrom(authorization: string | undefined): string {
  return /Signature=([0-9a-f]{64})/.exec(authorization ?? '')?.[1] ?? '';
}

function sameSignature(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Re-signs the received request with the known credentials and compares signatures. */
async function verifySigV4(request: ReceivedRequest, credentials: Credentials, region: string): Promise<void> {
  const auth = parseAuthorization(request.headers.get('authorization'));
  if (auth.accessKeyId !== credentials.accessKeyId) {
    throw new AwsError('UnrecognizedClientException', 400, 'The security token included in the request is invalid.');
  }
  const amzDate = request.headers.get('x-amz-date') ?? '';
  const signingDate = parseAmzDate(amzDate);
  checkScope(auth, amzDate, signingDate, region);
  checkPayloadHash(request);
  const signer = new SignatureV4({ service: SERVICE, region, credentials, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign(toSignable(request, auth.signedHeaders), {
    signingDate,
    signingRegion: auth.region,
    signingService: auth.service,
    signableHeaders: new Set(auth.signedHeaders),
    unsignableHeaders: new Set<string>(),
  });
  if (!sameSignature(signatureFrom(signed.headers.authorization), auth.signature)) {
    throw invalidSignature(
      'The request signature we calculated does not match the signature you provided. ' +
        'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
}

// ---------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------

interface ServerContext {
  credentials: Credentials;
  region: string;
  store: SecretStore;
  requests: Array<{ op: string; body: unknown }>;
  deny?: (op: string, secretId?: string) => boolean;
}

interface AwsResponse {
  status: number;
  body: JsonObject;
  errorType?: string;
}

async function readRequest(req: IncomingMessage): Promise<ReceivedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    const part: unknown = chunk;
    chunks.push(Buffer.isBuffer(part) ? part : Buffer.from(String(part)));
  }
  const headers = new Map<string, string>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1];
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous},${value}`);
  }
  return {
    method: req.method ?? 'GET',
    url: new URL(req.url ?? '/', `http://${headers.get('host') ?? '127.0.0.1'}`),
    headers,
    body: Buffer.concat(chunks),
  };
}

function operationOf(request: ReceivedRequest): string {
  if (request.method !== 'POST' || request.url.pathname !== '/') {
    throw new AwsError('UnknownOperationException', 404, 'Requests must be POST /.');
  }
  const contentType = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (contentType !== JSON_CONTENT_TYPE) {
    throw serialization(`Content-Type must be ${JSON_CONTENT_TYPE}.`);
  }
  const target = request.headers.get('x-amz-target') ?? '';
  const prefix = `${SERVICE}.`;
  if (!target.startsWith(prefix)) throw new AwsError('UnknownOperationException', 400, `Unknown target: ${target}`);
  return target.slice(prefix.length);
}

function parseBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw serialization('The request body is not valid JSON.');
  }
  if (!isRecord(parsed)) throw serialization('The request body must be a JSON object.');
  return parsed;
}

function secretIdOf(input: Record<string, unknown>): string | undefined {
  const id = input.SecretId ?? input.Name;
  return typeof id === 'string' ? id : undefined;
}

function accessDenied(op: string, secretId: string | undefined): AwsError {
  return new AwsError(
    'AccessDeniedException',
    400,
    `User: arn:aws:iam::${ACCOUNT_ID}:user/ltc-test is not authorized to perform: ${SERVICE}:${op} ` +
      `on resource: ${secretId ?? '*'} because no identity-based policy allows the ${SERVICE}:${op} action`,
  );
}

async function processRequest(ctx: ServerContext, request: ReceivedRequest): Promise<AwsResponse> {
  const op = operationOf(request);
  await verifySigV4(request, ctx.credentials, ctx.region);
  const body = parseBody(request.body);
  ctx.requests.push({ op, body });
  const secretId = secretIdOf(body);
  if (ctx.deny?.(op, secretId)) throw accessDenied(op, secretId);
  const operation = OPERATIONS[op];
  if (!operation) throw new AwsError('UnknownOperationException', 400, `Unknown operation: ${op}`);
  return { status: 200, body: operation(ctx.store, new Input(body)) };
}

function errorResponse(error: unknown): AwsResponse {
  if (error instanceof AwsError) {
    return { status: error.status, body: { __type: error.type, Message: error.message }, errorType: error.type };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { __type: 'InternalServiceError', Message: message }, errorType: 'InternalServiceError' };
}

function send(res: ServerResponse, response: AwsResponse): void {
  const payload = JSON.stringify(response.body);
  res.statusCode = response.status;
  res.setHeader('Content-Type', JSON_CONTENT_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(payload));
  res.setHeader('x-amzn-RequestId', randomUUID());
  if (response.errorType !== undefined) res.setHeader('x-amzn-ErrorType', response.errorType);
  res.end(payload);
}

async function handle(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let response: AwsResponse;
  try {
    response = await processRequest(ctx, await readRequest(req));
  } catch (error) {
    response = errorResponse(error);
  }
  send(res, response);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

export async function startAwsSecretsManager(opts: AwsSecretsManagerOptions = {}): Promise<AwsSecretsManagerServer> {
  const region = opts.region ?? 'us-east-1';
  const credentials: Credentials = {
    accessKeyId: opts.accessKeyId ?? `AKIA${randomSuffix(16).toUpperCase()}`,
    secretAccessKey: opts.secretAccessKey ?? randomSuffix(40),
  };
  const ctx: ServerContext = { credentials, region, store: new SecretStore(region), requests: [], deny: opts.deny };
  const server = createServer((req, res) => void handle(ctx, req, res));
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    region,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    requests: ctx.requests,
    close: () => closeServer(server),
  };
}
