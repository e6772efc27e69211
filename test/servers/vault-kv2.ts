/**
 * A loopback stand-in for HashiCorp Vault's HTTP API with the KV version 2
 * secrets engine, so that real Vault clients (node-vault) can be exercised in tests.
 *
 * Modelled on the public Vault API documentation: `X-Vault-Token`
 * authentication, the response envelope (request_id, lease_id, renewable,
 * lease_duration, data, wrap_info, warnings, auth), `{"errors":[...]}` error
 * bodies, and the KV v2 data / metadata / delete / undelete / destroy / config
 * endpoints including check-and-set and max_versions.
 *
 * Vault uses the non-standard `LIST` HTTP verb, which node:http cannot parse,
 * so this server carries its own minimal HTTP/1.1 layer on top of node:net.
 * Test use only: it binds to 127.0.0.1 on a free port.
 */
import { STATUS_CODES } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';

export interface VaultOptions {
  token?: string;
  mount?: string;
}

export interface VaultServer {
  url: string;
  token: string;
  mount: string;
  /** Every request received, in arrival order; `path` is the request target (path and query string). */
  requests: Array<{ method: string; path: string }>;
  /** Lets the token's TTL run out now: Vault then answers every call with 403 "permission denied". */
  expireToken(): void;
  close(): Promise<void>;
}

const VAULT_VERSION = '1.17.0';
const DEFAULT_MAX_VERSIONS = 10;
const MAX_HEAD_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------
// Minimal HTTP/1.1 server (node:http rejects the LIST method)
// ---------------------------------------------------------------------------

interface RawRequest {
  method: string;
  target: string;
  httpVersion: '1.0' | '1.1';
  headers: Map<string, string>;
  body: Buffer;
}

interface Reply {
  status: number;
  body?: unknown;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Head = Omit<RawRequest, 'body'> & { bodyStart: number };

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const REQUEST_LINE = new RegExp(`^(${TOKEN}) (\\S+) HTTP/1\\.([01])$`);
const HEADER_LINE = new RegExp(`^(${TOKEN}):[ \\t]*(.*?)[ \\t]*$`);

function parseHead(buffer: Buffer): Head | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) {
    if (buffer.length > MAX_HEAD_BYTES) throw new HttpError(431, 'request header fields too large');
    return undefined;
  }
  const [requestLine, ...headerLines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const request = REQUEST_LINE.exec(requestLine);
  if (!request) throw new HttpError(400, 'malformed request line');
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const header = HEADER_LINE.exec(line);
    if (!header) throw new HttpError(400, 'malformed header line');
    const name = header[1].toLowerCase();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? header[2] : `${previous}, ${header[2]}`);
  }
  const httpVersion = request[3] === '0' ? '1.0' : '1.1';
  return { method: request[1], target: request[2], httpVersion, headers, bodyStart: end + 4 };
}

interface BodyRead {
  body: Buffer;
  end: number;
}

function readChunkedBody(buffer: Buffer, start: number): BodyRead | undefined {
  const chunks: Buffer[] = [];
  let position = start;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', position);
    if (lineEnd < 0) return undefined;
    const sizeText = buffer.subarray(position, lineEnd).toString('latin1').split(';')[0].trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new HttpError(400, 'invalid chunk size');
    const size = parseInt(sizeText, 16);
    position = lineEnd + 2;
    if (size === 0) {
      const trailerEnd = buffer.indexOf('\r\n\r\n', position - 2);
      return trailerEnd < 0 ? undefined : { body: Buffer.concat(chunks), end: trailerEnd + 4 };
    }
    if (buffer.length < position + size + 2) return undefined;
    chunks.push(buffer.subarray(position, position + size));
    position += size + 2;
  }
}

function readBody(buffer: Buffer, head: Head): BodyRead | undefined {
  const transferEncoding = head.headers.get('transfer-encoding');
  if (transferEncoding !== undefined) {
    if (transferEncoding.toLowerCase() !== 'chunked') throw new HttpError(501, 'unsupported transfer-encoding');
    return readChunkedBody(buffer, head.bodyStart);
  }
  const length = head.headers.get('content-length') ?? '0';
  if (!/^\d+$/.test(length)) throw new HttpError(400, 'invalid content-length');
  const end = head.bodyStart + Number(length);
  return buffer.length < end ? undefined : { body: buffer.subarray(head.bodyStart, end), end };
}

/** Splits a byte stream into complete HTTP/1.1 requests (keep-alive and pipelining aware). */
class RequestParser {
  private buffer = Buffer.alloc(0);
  private continueSent = false;

  constructor(private readonly sendContinue: () => void) {}

  push(chunk: Buffer): RawRequest[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const complete: RawRequest[] = [];
    for (let head = parseHead(this.buffer); head; head = parseHead(this.buffer)) {
      const read = readBody(this.buffer, head);
      if (!read) {
        this.acknowledgeExpect(head);
        break;
      }
      const { bodyStart: _bodyStart, ...request } = head;
      complete.push({ ...request, body: Buffer.from(read.body) });
      this.buffer = this.buffer.subarray(read.end);
      this.continueSent = false;
    }
    return complete;
  }

  private acknowledgeExpect(head: Head): void {
    if (this.continueSent || head.headers.get('expect')?.toLowerCase() !== '100-continue') return;
    this.continueSent = true;
    this.sendContinue();
  }
}

function wantsKeepAlive(request: RawRequest): boolean {
  const connection = request.headers.get('connection')?.toLowerCase() ?? '';
  return request.httpVersion === '1.1' ? !connection.includes('close') : connection.includes('keep-alive');
}

function writeReply(socket: Socket, reply: Reply, keepAlive: boolean, headOnly = false): void {
  if (socket.destroyed) return;
  const payload = reply.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(reply.body));
  const lines = [
    `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? 'Unknown'}`,
    `Date: ${new Date().toUTCString()}`,
    'Cache-Control: no-store',
    `Connection: ${keepAlive ? 'keep-alive' : 'close'}`,
  ];
  if (reply.status !== 204) lines.push('Content-Type: application/json', `Content-Length: ${payload.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  socket.write(headOnly ? head : Buffer.concat([head, payload]));
  if (!keepAlive) socket.end();
}

type Handler = (request: RawRequest) => Reply;

function serveConnection(socket: Socket, handler: Handler): void {
  const parser = new RequestParser(() => socket.write('HTTP/1.1 100 Continue\r\n\r\n'));
  let broken = false;
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    if (broken) return;
    try {
      for (const request of parser.push(chunk)) {
        writeReply(socket, safeHandle(handler, request), wantsKeepAlive(request), request.method === 'HEAD');
      }
    } catch (error) {
      broken = true;
      const status = error instanceof HttpError ? error.status : 400;
      writeReply(socket, errorReply(status, error instanceof Error ? error.message : 'bad request'), false);
    }
  });
}

function safeHandle(handler: Handler, request: RawRequest): Reply {
  try {
    return handler(request);
  } catch (error) {
    return errorReply(500, error instanceof Error ? error.message : 'internal error');
  }
}

// ---------------------------------------------------------------------------
// Vault request model
// ---------------------------------------------------------------------------

type Operation = 'read' | 'list' | 'write' | 'delete';

interface VaultRequest {
  operation: Operation;
  /** Path after /v1/, percent-decoded, without a leading slash. */
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

class VaultError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; '));
  }
}

function errorReply(status: number, ...errors: string[]): Reply {
  return { status, body: { errors } };
}

const NOT_FOUND: Reply = errorReply(404);
const NO_CONTENT: Reply = { status: 204 };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Go's strconv.ParseBool, which Vault uses for boolean query and body parameters. */
function parseBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** Weakly-typed integer decoding, as Vault's field parser does for int parameters. */
function parseInteger(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  if (typeof value === 'boolean') return value ? 1 : 0;
  return undefined;
}

function operationOf(method: string, query: URLSearchParams): Operation {
  switch (method) {
    case 'GET':
    case 'HEAD': {
      const list = query.get('list');
      if (list === null) return 'read';
      const parsed = parseBool(list);
      if (parsed === undefined) throw new VaultError(400, [`invalid list parameter: ${list}`]);
      return parsed ? 'list' : 'read';
    }
    case 'LIST':
      return 'list';
    case 'POST':
    case 'PUT':
      return 'write';
    case 'DELETE':
      return 'delete';
    default:
      throw new VaultError(405, []);
  }
}

function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new VaultError(400, [`failed to parse JSON input: ${error instanceof Error ? error.message : 'invalid JSON'}`]);
  }
  if (!isRecord(parsed)) throw new VaultError(400, ['failed to parse JSON input: body must be a JSON object']);
  return parsed;
}

function toVaultRequest(raw: RawRequest): VaultRequest {
  const url = new URL(raw.target, 'http://127.0.0.1');
  let pathname: string;
  try {
    pathname = decodeURIComponent(url.pathname);
  } catch {
    throw new VaultError(400, ['invalid URL path encoding']);
  }
  if (!pathname.startsWith('/v1/')) throw new VaultError(404, []);
  const operation = operationOf(raw.method, url.searchParams);
  let path = pathname.slice('/v1/'.length);
  // Vault treats every LIST as a directory listing.
  if (operation === 'list' && !path.endsWith('/')) path += '/';
  const body = operation === 'write' || operation === 'delete' ? parseJsonBody(raw.body) : {};
  return { operation, path, query: url.searchParams, body };
}

function envelope(data: unknown, mountType: string, warnings: string[] | null = null): Record<string, unknown> {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings,
    auth: null,
    mount_type: mountType,
  };
}

const unsupportedPath = (): VaultError => new VaultError(404, ['unsupported path']);
const unsupportedOperation = (): VaultError => new VaultError(405, ['unsupported operation']);

// ---------------------------------------------------------------------------
// KV version 2 engine
// ---------------------------------------------------------------------------

interface KvVersion {
  createdTime: string;
  deletionTime: string;
  destroyed: boolean;
  data: Record<string, unknown> | null;
}

interface KvKey {
  currentVersion: number;
  oldestVersion: number;
  createdTime: string;
  updatedTime: string;
  maxVersions: number;
  casRequired: boolean;
  customMetadata: Record<string, string> | null;
  versions: Map<number, KvVersion>;
}

interface KvConfig {
  maxVersions: number;
  casRequired: boolean;
}

const now = (): string => new Date().toISOString();

function newKey(): KvKey {
  const time = now();
  return {
    currentVersion: 0,
    oldestVersion: 0,
    createdTime: time,
    updatedTime: time,
    maxVersions: 0,
    casRequired: false,
    customMetadata: null,
    versions: new Map(),
  };
}

function versionMetadata(number: number, version: KvVersion, key: KvKey): Record<string, unknown> {
  return {
    created_time: version.createdTime,
    custom_metadata: key.customMetadata,
    deletion_time: version.deletionTime,
    destroyed: version.destroyed,
    version: number,
  };
}

function isDeleted(version: KvVersion): boolean {
  return version.deletionTime !== '' && Date.parse(version.deletionTime) <= Date.now();
}

/** The `versions` parameter of delete/undelete/destroy: a list of ints or a comma-separated string. */
function parseVersionList(value: unknown): number[] {
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : [value];
  return items
    .filter((item) => item !== undefined && item !== null && item !== '')
    .map((item) => {
      const parsed = parseInteger(typeof item === 'string' ? item.trim() : item);
      if (parsed === undefined) throw new VaultError(400, [`could not parse versions: ${JSON.stringify(value)}`]);
      return parsed;
    });
}

function parseCustomMetadata(value: unknown): Record<string, string> {
  if (!isRecord(value)) throw new VaultError(400, ['custom_metadata validation failed: expected a map']);
  const entries = Object.entries(value).map(([key, raw]): [string, string] => [key, raw === null ? '' : String(raw)]);
  const errors: string[] = [];
  if (entries.length > 64) errors.push(`payload must contain at most 64 keys, provided ${entries.length}`);
  for (const [key, text] of entries) {
    if (key.length === 0 || key.length > 128) errors.push(`length of key "${key}" is ${key.length} but must be 0 < len(key) <= 128`);
    if (text.length === 0 || text.length > 512) {
      errors.push(`length of value for key "${key}" is ${text.length} but must be 0 < len(value) <= 512`);
    }
  }
  if (errors.length > 0) throw new VaultError(400, errors.map((e) => `custom_metadata validation failed: ${e}`));
  return Object.fromEntries(entries);
}

function splitEndpoint(path: string): { endpoint: string; key: string } {
  const slash = path.indexOf('/');
  return slash < 0 ? { endpoint: path, key: '' } : { endpoint: path.slice(0, slash), key: path.slice(slash + 1) };
}

class KvEngine {
  private readonly keys = new Map<string, KvKey>();
  private readonly config: KvConfig = { maxVersions: 0, casRequired: false };

  handle(path: string, request: VaultRequest): Reply {
    const { endpoint, key } = splitEndpoint(path);
    switch (endpoint) {
      case 'config':
        return this.handleConfig(key, request);
      case 'data':
        return this.handleData(key, request);
      case 'metadata':
        return this.handleMetadata(key, request);
      case 'delete':
      case 'undelete':
      case 'destroy':
        if (request.operation !== 'write') throw unsupportedOperation();
        return this.changeVersions(endpoint, key, request.body.versions);
      default:
        throw unsupportedPath();
    }
  }

  // -- config ---------------------------------------------------------------

  private handleConfig(rest: string, request: VaultRequest): Reply {
    if (rest !== '') throw unsupportedPath();
    if (request.operation === 'read') {
      const data = { cas_required: this.config.casRequired, delete_version_after: '0s', max_versions: this.config.maxVersions };
      return { status: 200, body: envelope(data, 'kv') };
    }
    if (request.operation !== 'write') throw unsupportedOperation();
    const maxVersions = request.body.max_versions;
    const casRequired = request.body.cas_required;
    if (maxVersions !== undefined) this.config.maxVersions = this.intField('max_versions', maxVersions);
    if (casRequired !== undefined) this.config.casRequired = this.boolField('cas_required', casRequired);
    return NO_CONTENT;
  }

  // -- data -----------------------------------------------------------------

  private handleData(key: string, request: VaultRequest): Reply {
    if (key === '' || key.endsWith('/')) throw unsupportedPath();
    switch (request.operation) {
      case 'read':
        return this.readData(key, request.query.get('version'));
      case 'write':
        return this.writeData(key, request.body);
      case 'delete':
        return this.deleteLatest(key);
      default:
        throw unsupportedOperation();
    }
  }

  private readData(path: string, versionParam: string | null): Reply {
    const key = this.keys.get(path);
    if (!key) return NOT_FOUND;
    const requested = versionParam === null ? 0 : parseInteger(versionParam);
    if (requested === undefined) throw new VaultError(400, [`error parsing version: ${versionParam}`]);
    const number = requested > 0 ? requested : key.currentVersion;
    const version = key.versions.get(number);
    if (!version) return NOT_FOUND;
    const metadata = versionMetadata(number, version, key);
    if (version.destroyed || isDeleted(version)) {
      // Vault answers 404 but still includes the version metadata.
      return { status: 404, body: envelope({ data: null, metadata }, 'kv') };
    }
    return { status: 200, body: envelope({ data: version.data, metadata }, 'kv') };
  }

  private writeData(path: string, body: Record<string, unknown>): Reply {
    const data = body.data;
    if (!isRecord(data)) throw new VaultError(400, ['no data provided']);
    const key = this.keys.get(path) ?? newKey();
    this.checkCas(key, body.options);
    const number = this.addVersion(key, data);
    this.keys.set(path, key);
    const version = key.versions.get(number);
    if (!version) throw new Error('version vanished');
    return { status: 200, body: envelope(versionMetadata(number, version, key), 'kv') };
  }

  private checkCas(key: KvKey, options: unknown): void {
    const cas = isRecord(options) ? options.cas : undefined;
    if (cas === undefined) {
      if (this.config.casRequired || key.casRequired) {
        throw new VaultError(400, ['check-and-set parameter required for this call']);
      }
      return;
    }
    const expected = parseInteger(cas);
    if (expected === undefined) throw new VaultError(400, ['error parsing check-and-set parameter']);
    if (expected !== key.currentVersion) {
      throw new VaultError(400, ['check-and-set parameter did not match the current version']);
    }
  }

  /** Adds a version and slides the max_versions window the way Vault does. */
  private addVersion(key: KvKey, data: Record<string, unknown>): number {
    const time = now();
    key.currentVersion += 1;
    key.versions.set(key.currentVersion, { createdTime: time, deletionTime: '', destroyed: false, data });
    key.updatedTime = time;
    const max = key.maxVersions > 0 ? key.maxVersions : this.config.maxVersions > 0 ? this.config.maxVersions : DEFAULT_MAX_VERSIONS;
    if (key.currentVersion - key.oldestVersion >= max) {
      const lastToDrop = key.currentVersion - max;
      for (let number = key.oldestVersion; number <= lastToDrop; number += 1) key.versions.delete(number);
      key.oldestVersion = lastToDrop + 1;
    }
    return key.currentVersion;
  }

  private deleteLatest(path: string): Reply {
    const key = this.keys.get(path);
    const latest = key?.versions.get(key.currentVersion);
    if (latest && !latest.destroyed && !isDeleted(latest)) latest.deletionTime = now();
    return NO_CONTENT;
  }

  // -- metadata -------------------------------------------------------------

  private handleMetadata(path: string, request: VaultRequest): Reply {
    switch (request.operation) {
      case 'read':
        return this.readMetadata(path);
      case 'list':
        return this.list(path);
      case 'write':
        return this.writeMetadata(path, request.body);
      case 'delete':
        this.keys.delete(path);
        return NO_CONTENT;
    }
  }

  private readMetadata(path: string): Reply {
    const key = this.keys.get(path);
    if (!key) return NOT_FOUND;
    const versions = Object.fromEntries(
      [...key.versions].map(([number, version]) => [
        String(number),
        { created_time: version.createdTime, deletion_time: version.deletionTime, destroyed: version.destroyed },
      ]),
    );
    const data = {
      cas_required: key.casRequired,
      created_time: key.createdTime,
      current_version: key.currentVersion,
      custom_metadata: key.customMetadata,
      delete_version_after: '0s',
      max_versions: key.maxVersions,
      oldest_version: key.oldestVersion,
      updated_time: key.updatedTime,
      versions,
    };
    return { status: 200, body: envelope(data, 'kv') };
  }

  private writeMetadata(path: string, body: Record<string, unknown>): Reply {
    if (path === '') return errorReply(400, 'missing path');
    const { max_versions: maxVersions, cas_required: casRequired, custom_metadata: customMetadata } = body;
    if (maxVersions === undefined && casRequired === undefined && customMetadata === undefined) return NO_CONTENT;
    const key = this.keys.get(path) ?? newKey();
    if (maxVersions !== undefined) key.maxVersions = this.intField('max_versions', maxVersions);
    if (casRequired !== undefined) key.casRequired = this.boolField('cas_required', casRequired);
    if (customMetadata !== undefined) key.customMetadata = parseCustomMetadata(customMetadata);
    this.keys.set(path, key);
    return NO_CONTENT;
  }

  private list(prefix: string): Reply {
    const children = new Set<string>();
    for (const path of this.keys.keys()) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf('/');
      children.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    children.delete('');
    if (children.size === 0) return NOT_FOUND;
    return { status: 200, body: envelope({ keys: [...children].sort() }, 'kv') };
  }

  // -- delete / undelete / destroy -----------------------------------------

  private changeVersions(action: 'delete' | 'undelete' | 'destroy', path: string, raw: unknown): Reply {
    const numbers = parseVersionList(raw);
    if (numbers.length === 0) {
      throw new VaultError(400, [action === 'destroy' ? 'no version number provided' : 'No version number provided']);
    }
    const key = this.keys.get(path);
    if (!key) return NO_CONTENT;
    for (const number of numbers) {
      const version = key.versions.get(number);
      if (!version || version.destroyed) continue;
      if (action === 'delete' && !isDeleted(version)) version.deletionTime = now();
      if (action === 'undelete') version.deletionTime = '';
      if (action === 'destroy') {
        version.destroyed = true;
        version.data = null;
      }
    }
    return NO_CONTENT;
  }

  private intField(name: string, value: unknown): number {
    const parsed = parseInteger(value);
    if (parsed === undefined || parsed < 0) throw new VaultError(400, [`error converting input for field "${name}"`]);
    return parsed;
  }

  private boolField(name: string, value: unknown): boolean {
    const parsed = parseBool(value);
    if (parsed === undefined) throw new VaultError(400, [`error converting input for field "${name}"`]);
    return parsed;
  }
}

// ---------------------------------------------------------------------------
// Router
// ---------------------------------------------------------------------------

interface VaultContext {
  token: string;
  mount: string;
  accessor: string;
  createdAt: number;
  expired: boolean;
  clusterId: string;
  kv: KvEngine;
  requests: Array<{ method: string; path: string }>;
}

function presentedToken(headers: Map<string, string>): string | undefined {
  const header = headers.get('x-vault-token');
  if (header !== undefined) return header;
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.get('authorization') ?? '');
  return bearer?.[1];
}

function health(ctx: VaultContext): Reply {
  return {
    status: 200,
    body: {
      initialized: true,
      sealed: false,
      standby: false,
      performance_standby: false,
      replication_performance_mode: 'disabled',
      replication_dr_mode: 'disabled',
      server_time_utc: Math.floor(Date.now() / 1000),
      version: VAULT_VERSION,
      enterprise: false,
      cluster_name: 'vault-cluster-ltc-test',
      cluster_id: ctx.clusterId,
    },
  };
}

function lookupSelf(ctx: VaultContext): Reply {
  const data = {
    accessor: ctx.accessor,
    creation_time: ctx.createdAt,
    creation_ttl: 0,
    display_name: 'root',
    entity_id: '',
    expire_time: null,
    explicit_max_ttl: 0,
    id: ctx.token,
    meta: null,
    num_uses: 0,
    orphan: true,
    path: 'auth/token/root',
    policies: ['root'],
    ttl: 0,
    type: 'service',
  };
  return { status: 200, body: envelope(data, 'token') };
}

function mountRelative(mount: string, path: string): string | undefined {
  if (path === mount) return '';
  return path.startsWith(`${mount}/`) ? path.slice(mount.length + 1) : undefined;
}

function route(ctx: VaultContext, raw: RawRequest): Reply {
  const request = toVaultRequest(raw);
  if (request.path === 'sys/health') {
    return request.operation === 'read' ? health(ctx) : errorReply(405);
  }
  if (presentedToken(raw.headers) !== ctx.token || ctx.expired) return errorReply(403, 'permission denied');
  if (request.path === 'auth/token/lookup-self') {
    return request.operation === 'read' || request.operation === 'write' ? lookupSelf(ctx) : errorReply(405);
  }
  const relative = mountRelative(ctx.mount, request.path);
  if (relative === undefined) {
    return errorReply(404, `no handler for route "${request.path}". route entry not found.`);
  }
  return ctx.kv.handle(relative, request);
}

function handleRequest(ctx: VaultContext, raw: RawRequest): Reply {
  ctx.requests.push({ method: raw.method, path: raw.target });
  try {
    return route(ctx, raw);
  } catch (error) {
    if (error instanceof VaultError) return errorReply(error.status, ...error.errors);
    throw error;
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function randomToken(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');
}

export async function startVault(opts: VaultOptions = {}): Promise<VaultServer> {
  const mount = (opts.mount ?? 'secret').replace(/^\/+|\/+$/g, '');
  if (mount === '') throw new Error('mount must not be empty');
  const ctx: VaultContext = {
    token: opts.token ?? `hvs.${randomToken(24)}`,
    mount,
    accessor: randomToken(24),
    createdAt: Math.floor(Date.now() / 1000),
    expired: false,
    clusterId: randomUUID(),
    kv: new KvEngine(),
    requests: [],
  };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, (raw) => handleRequest(ctx, raw));
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    token: ctx.token,
    mount,
    requests: ctx.requests,
    expireToken: () => {
      ctx.expired = true;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy();
      }),
  };
}
