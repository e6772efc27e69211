/**
 * One HTTP probe with node:http(s): a request per attempt (own timeout), latency, a capped body,
 * the TLS certificate's expiry for https, conditions evaluated per attempt, retries with doubling
 * backoff and a failure threshold. Errors come back as short human reasons ("connection
 * refused", "no answer within 5s"); only Ctrl-C (the signal) throws, as InterruptedError.
 *
 * Each probe owns its agent (one keep-alive connection, destroyed when the probe ends): its
 * connection is never queued behind another probe's in a shared pool (so N probes really run at
 * once), and the certificate read belongs to this probe's connection.
 *
 * node:http rather than undici (issue 17): undici took 120–200 ms to load, and its HTTP parser is
 * WebAssembly whose background compilation V8 waits for when the process ends (110–190 ms after
 * the `exit` event). node:http's parser is native; node:https (and tls) load only for https URLs.
 */
import type http from 'node:http';
import { nodeHttp, nodeHttps } from '../core/node-builtins.js';
import type { Agent as HttpsAgent } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TLSSocket } from 'node:tls';
import { InterruptedError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { evaluateConditions, type Condition, type ConditionResult, type Observation } from './conditions.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST';

/** A fully resolved endpoint: absolute URL, parsed conditions, numbers in ms. */
export interface ProbeTarget {
  name: string;
  url: string;
  /** The URL as reported (a password in it replaced by ***); default `url`. */
  displayUrl?: string;
  method: HttpMethod;
  headers: Record<string, string>;
  body?: string;
  conditions: Condition[];
  /** Per attempt, ms. */
  timeoutMs: number;
  /** Extra attempts after a failed one. */
  retries: number;
  /** Delay before the first retry, ms; doubles each retry up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Consecutive failed attempts that mark the endpoint down (default: retries + 1). */
  failureThreshold?: number;
  /** Accept any certificate (self-signed, wrong host). The expiry is still read. */
  insecure: boolean;
  /** PEM text of extra CA certificates to trust. */
  ca?: string;
  /** Bytes of body read at most; the rest is discarded. */
  maxBodyBytes: number;
}

export interface ProbeResult {
  name: string;
  url: string;
  ok: boolean;
  /** HTTP status of the last attempt; null when no response came. */
  status: number | null;
  /** Latency of the last attempt in ms (to the end of the body); null when no response came. */
  latencyMs: number | null;
  attempts: number;
  /** Why the last attempt got no response (absent when a response came). */
  error?: string;
  conditions: ConditionResult[];
  /** Expiry of the server certificate (https only), ISO 8601. */
  certificateExpiresAt?: string;
}

export interface AttemptReport {
  name: string;
  attempt: number;
  ok: boolean;
  status: number | null;
  latencyMs: number | null;
  error?: string;
  failed?: ConditionResult;
}

export interface ProbeHooks {
  /** Called after every attempt (for --verbose logs). */
  onAttempt?(report: AttemptReport): void;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_BACKOFF_MS = 30_000;
const USER_AGENT = 'ltc-health/1';

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_HANDSHAKE_TIMEOUT',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

function errCode(err: unknown): string | undefined {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const cause = (err as { cause?: unknown }).cause;
    if (cause) return errCode(cause);
    const inner = (err as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length) return errCode(inner[0]);
  }
  return undefined;
}

/** A failed request as a short reason a person can act on. */
export function describeRequestError(err: unknown, url: string, timeoutMs: number): string {
  const code = errCode(err);
  const message = err instanceof Error ? err.message : String(err);
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    /* keep the url */
  }
  const hostname = host.replace(/:\d+$/, '');
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return `no answer within ${formatDuration(timeoutMs)}`;
  }
  // node:http: the server closed the connection without an answer.
  switch (code === 'ECONNRESET' && message === 'socket hang up' ? 'ECONNRESET_HANGUP' : code) {
    case 'ECONNREFUSED':
      return `connection refused by ${host}`;
    case 'ENOTFOUND':
      return `DNS lookup failed: no such host ${hostname}`;
    case 'EAI_AGAIN':
      return `DNS lookup failed for ${hostname} (temporary failure; is DNS reachable?)`;
    case 'ECONNRESET':
      return `connection reset by ${host}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${host}`;
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET_HANGUP':
      return `${host} closed the connection before answering`;
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return `TLS handshake failed with ${host}: it does not speak TLS on this port (is the URL http rather than https?)`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `TLS: ${host} presents a self-signed certificate that is not trusted (set ca: <pem file> or insecure: true on the endpoint)`;
    case 'CERT_HAS_EXPIRED':
      return `TLS: the certificate of ${host} has expired`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS: the certificate of ${host} is not valid for ${hostname}`;
    default:
      if (code && TLS_CODES.has(code)) return `TLS: ${message.split('\n')[0]} (${code})`;
      if (code && /^ERR_SSL_/.test(code)) return `TLS handshake failed with ${host} (${code})`;
      return code ? `${message.split('\n')[0]} (${code})` : message.split('\n')[0]!;
  }
}

type ProbeAgent = http.Agent | HttpsAgent;

/** The probe's own agent: one keep-alive connection; for https, the trust settings of the endpoint. */
async function probeAgent(target: ProbeTarget): Promise<ProbeAgent> {
  const common = { keepAlive: true, maxSockets: 1, maxTotalSockets: 1 };
  if (!target.url.startsWith('https:')) return new (nodeHttp().Agent)(common);
  const https = nodeHttps();
  return new https.Agent({ ...common, rejectUnauthorized: !target.insecure, ...(target.ca ? { ca: target.ca } : {}), maxCachedSessions: 0 });
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, max: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body) {
    const room = max - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      size = max;
      truncated = true;
      body.destroy();
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}

/** One attempt. Returns what was observed; throws only InterruptedError. */
async function attemptOnce(target: ProbeTarget, agent: ProbeAgent, cert: { expiresAt: Date | null }, signal: AbortSignal): Promise<Observation> {
  const isHttps = target.url.startsWith('https:');
  const timeout = AbortSignal.timeout(target.timeoutMs);
  const combined = AbortSignal.any([signal, timeout]);
  const started = performance.now();
  try {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...target.headers };
    if (target.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
      headers['content-length'] = String(Buffer.byteLength(target.body));
    }
    const request = isHttps ? nodeHttps().request : nodeHttp().request;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = request(target.url, { method: target.method, headers, agent, signal: combined }, resolve);
      req.on('error', reject);
      req.end(target.body);
    });
    if (isHttps) {
      const peer = (res.socket as TLSSocket).getPeerCertificate?.();
      const when = peer && peer.valid_to ? new Date(peer.valid_to) : null;
      cert.expiresAt = when && !Number.isNaN(when.getTime()) ? when : null;
    }
    let text = '';
    let truncated = false;
    if (target.method === 'HEAD') {
      res.resume();
      await new Promise<void>((resolve, reject) => {
        res.once('end', resolve);
        res.once('error', reject);
      });
    } else ({ text, truncated } = await readCapped(res, target.maxBodyBytes));
    const latency = performance.now() - started;
    return {
      status: res.statusCode ?? null,
      responseTimeMs: Math.round(latency * 10) / 10,
      body: text,
      bodyTruncated: truncated,
      isHttps,
      certificateExpiresAt: isHttps ? cert.expiresAt : null,
    };
  } catch (err) {
    if (signal.aborted) throw new InterruptedError(`interrupted while probing ${target.name}`);
    const reason = timeout.aborted ? `no answer within ${formatDuration(target.timeoutMs)}` : describeRequestError(err, target.url, target.timeoutMs);
    return { status: null, responseTimeMs: null, body: null, isHttps, certificateExpiresAt: null, error: reason };
  }
}

/** Delay before attempt `n` (2, 3, …): backoff, doubling, capped. */
export function backoffDelay(attempt: number, backoffMs: number, maxBackoffMs: number): number {
  return Math.min(backoffMs * 2 ** Math.max(0, attempt - 2), maxBackoffMs);
}

/**
 * Probes one endpoint: attempts until one passes every condition, or until `failureThreshold`
 * consecutive attempts failed (default retries + 1, i.e. all of them; a threshold above
 * retries + 1 raises the number of attempts to it).
 */
export async function probe(target: ProbeTarget, signal: AbortSignal, hooks: ProbeHooks = {}): Promise<ProbeResult> {
  if (signal.aborted) throw new InterruptedError();
  const threshold = target.failureThreshold ?? target.retries + 1;
  const maxAttempts = Math.max(target.retries + 1, threshold);
  const cert = { expiresAt: null as Date | null };
  const agent = await probeAgent(target);
  let consecutive = 0;
  let attempt = 0;
  let last: Observation | undefined;
  let results: ConditionResult[] = [];
  try {
    while (attempt < maxAttempts) {
      attempt++;
      if (attempt > 1) {
        try {
          await sleep(backoffDelay(attempt, target.backoffMs, target.maxBackoffMs), undefined, { signal });
        } catch {
          throw new InterruptedError(`interrupted while probing ${target.name}`);
        }
      }
      last = await attemptOnce(target, agent, cert, signal);
      results = evaluateConditions(target.conditions, last);
      const ok = last.status !== null && results.every((r) => r.ok);
      hooks.onAttempt?.({
        name: target.name,
        attempt,
        ok,
        status: last.status,
        latencyMs: last.responseTimeMs,
        ...(last.error ? { error: last.error } : {}),
        ...(ok ? {} : { failed: results.find((r) => !r.ok) }),
      });
      if (ok) break;
      consecutive++;
      if (consecutive >= threshold) break;
    }
  } finally {
    agent.destroy();
  }
  const obs = last!;
  const ok = obs.status !== null && results.every((r) => r.ok);
  return {
    name: target.name,
    url: target.displayUrl ?? target.url,
    ok,
    status: obs.status,
    latencyMs: obs.responseTimeMs,
    attempts: attempt,
    ...(obs.error ? { error: obs.error } : {}),
    conditions: results,
    ...(obs.certificateExpiresAt ? { certificateExpiresAt: obs.certificateExpiresAt.toISOString() } : {}),
  };
}
