/**
 * `ltc health`: probes the environment's health endpoints (or `--url`s) concurrently and reports
 * each one's status, latency and conditions. `probeEndpoints` is the reusable core (pure data in
 * and out, no printing) for the runbook `http` and `wait` steps and the deploy health check.
 */
import { readFile } from 'node:fs/promises';
import { printableLine } from '../core/printable.js';
import { processMasker } from '../core/masker.js';
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { ConfigError, UsageError } from '../core/errors.js';
import { CONFIG_FILE } from '../config/load.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import type { Palette } from '../core/output.js';
import { parseConditions } from '../http/conditions.js';
import {
  DEFAULT_MAX_BACKOFF_MS,
  DEFAULT_MAX_BODY_BYTES,
  probe,
  type AttemptReport,
  type HttpMethod,
  type ProbeResult,
  type ProbeTarget,
} from '../http/probe.js';

export type { ProbeResult } from '../http/probe.js';
export type { ConditionResult } from '../http/conditions.js';

/** One endpoint as written in config or a runbook step (durations as `5s` or ms). */
export interface EndpointInput {
  /** Shown in reports; defaults to the URL. */
  name?: string;
  /** Absolute http(s) URL, or a path starting with / (joined to `defaults.baseUrl`). */
  url: string;
  method?: HttpMethod;
  headers?: Record<string, string>;
  body?: string;
  /** Default: ['status == 200']. */
  conditions?: readonly string[];
  timeout?: string | number;
  retries?: number;
  backoff?: string | number;
  failure_threshold?: number;
  insecure?: boolean;
  /** PEM file of a CA to trust (resolved with `defaults.resolvePath`). */
  ca?: string;
}

/** Values an endpoint does not set itself, and how to run the batch. */
export interface ProbeDefaults {
  /** Base URL for endpoint paths such as /api/health (the environment's `url`). */
  baseUrl?: string;
  /** Per attempt (default 5s). */
  timeout?: string | number;
  /** Extra attempts after a failure (default 2). */
  retries?: number;
  /** First retry delay, doubling (default 250ms). */
  backoff?: string | number;
  /** Cap of the doubling backoff (default 30s). */
  maxBackoff?: string | number;
  failure_threshold?: number;
  /** Body bytes read at most (default 1 MiB). */
  maxBodyBytes?: number;
  /** Probes in flight at once (default 256). */
  concurrency?: number;
  /** Resolves a `ca` path (e.g. relative to the config file). */
  resolvePath?: (path: string) => string;
  /** Names the source in errors, e.g. "environments.staging.health". */
  where?: string;
  /** Called after each attempt of each endpoint (for --verbose logs). */
  onAttempt?: (report: AttemptReport) => void;
}

export const HEALTH_DEFAULTS = { timeout: '5s', retries: 2, backoff: '250ms' } as const;
const DEFAULT_CONCURRENCY = 256;

const URL_CONTROL_HINT = 'a URL has no tabs or line breaks and no space at either end; percent-encode them if they belong in it';

/**
 * The URL parser drops tabs and newlines and trims spaces and control characters at either end,
 * silently: the request would go to another URL than the one written. (A space inside is
 * percent-encoded, not lost, so it stays allowed.) What is wrong, or undefined.
 */
export function urlControlProblem(url: string): string | undefined {
  const bad = /[\u0000-\u001f\u007f]/.exec(url);
  if (bad) return `contains the control character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at position ${bad.index + 1}`;
  if (url !== url.trim()) return `has a space at its ${/^\s/.test(url) ? 'start' : 'end'}`;
  return undefined;
}

/** Absolute URL of an endpoint, or a ConfigError naming it. */
export function resolveEndpointUrl(url: string, baseUrl: string | undefined, where: string): string {
  let full = url;
  if (url.startsWith('/')) {
    if (!baseUrl) {
      throw new ConfigError(`${where}: url "${url}" is a path, but the environment has no url to put in front of it`, {
        hint: 'set the environment\'s url (e.g. url: https://staging.example) or give the endpoint an absolute URL',
      });
    }
    full = baseUrl.replace(/\/+$/, '') + url;
  }
  const problem = urlControlProblem(full);
  if (problem) throw new ConfigError(`${where}: ${JSON.stringify(full)} ${problem}`, { hint: URL_CONTROL_HINT });
  let parsed: URL;
  try {
    parsed = new URL(full);
  } catch {
    throw new ConfigError(`${where}: "${full}" is not a valid URL`, { hint: 'use e.g. https://app.example/api/health or a path like /api/health' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`${where}: "${full}" is not an http or https URL`, { hint: 'use e.g. https://app.example/api/health' });
  }
  // Credentials in a URL are secrets: masked in every table, JSON document and log.
  if (parsed.password) {
    processMasker.add(parsed.password);
    processMasker.add(decodeURIComponent(parsed.password));
  }
  return parsed.href;
}

/**
 * The URL as shown in tables, JSON and logs: a password in it becomes ***, whatever its length
 * (the masker leaves values under 4 characters alone, and masking after the table is laid out
 * would shift its columns).
 */
export function displayUrl(href: string): string {
  try {
    const parsed = new URL(href);
    if (!parsed.password) return href;
    parsed.password = '***';
    return parsed.href;
  } catch {
    return href;
  }
}

function ms(value: string | number | undefined, fallback: string | number, what: string): number {
  try {
    return parseDuration(value ?? fallback, what);
  } catch (err) {
    throw new ConfigError((err as Error).message, { hint: 'use a duration such as 500ms, 5s, 2m' });
  }
}

/** Checks and resolves every endpoint before anything is probed (nothing is sent on bad input). */
export async function resolveEndpoints(endpoints: readonly EndpointInput[], defaults: ProbeDefaults = {}): Promise<ProbeTarget[]> {
  const base = defaults.where ?? 'health';
  return Promise.all(
    endpoints.map(async (e, i) => {
      const where = `${base}: endpoint ${e.name ? `"${e.name}"` : `#${i + 1}`}`;
      const url = resolveEndpointUrl(e.url, defaults.baseUrl, where);
      const conditions = parseConditions(e.conditions ?? ['status == 200'], where);
      let ca: string | undefined;
      if (e.ca) {
        const file = defaults.resolvePath ? defaults.resolvePath(e.ca) : e.ca;
        try {
          ca = await readFile(file, 'utf8');
        } catch (err) {
          throw new ConfigError(`${where}: cannot read the CA file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
            hint: 'ca is a PEM file, relative to the config file',
          });
        }
      }
      const shown = displayUrl(url);
      const target: ProbeTarget = {
        name: e.name ?? shown,
        url,
        ...(shown !== url ? { displayUrl: shown } : {}),
        method: e.method ?? 'GET',
        headers: e.headers ?? {},
        ...(e.body !== undefined ? { body: e.body } : {}),
        conditions,
        timeoutMs: ms(e.timeout ?? defaults.timeout, HEALTH_DEFAULTS.timeout, `${where}: timeout`),
        retries: e.retries ?? defaults.retries ?? HEALTH_DEFAULTS.retries,
        backoffMs: ms(e.backoff ?? defaults.backoff, HEALTH_DEFAULTS.backoff, `${where}: backoff`),
        maxBackoffMs: ms(defaults.maxBackoff, DEFAULT_MAX_BACKOFF_MS, `${where}: max backoff`),
        insecure: e.insecure ?? false,
        ...(ca ? { ca } : {}),
        maxBodyBytes: defaults.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      };
      const threshold = e.failure_threshold ?? defaults.failure_threshold;
      if (threshold !== undefined) target.failureThreshold = threshold;
      return target;
    }),
  );
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/**
 * Probes every endpoint concurrently (bounded by `defaults.concurrency`). Bad input (a condition
 * that does not parse, a malformed URL, an unreadable CA file) throws ConfigError before any
 * request; a failing endpoint is data (`ok: false`), not an exception. Ctrl-C (the signal) throws
 * InterruptedError.
 */
export async function probeEndpoints(
  endpoints: readonly EndpointInput[],
  defaults: ProbeDefaults,
  signal: AbortSignal,
): Promise<ProbeResult[]> {
  const targets = await resolveEndpoints(endpoints, defaults);
  const hooks = defaults.onAttempt ? { onAttempt: defaults.onAttempt } : {};
  return mapBounded(targets, defaults.concurrency ?? DEFAULT_CONCURRENCY, (t) => probe(t, signal, hooks));
}

export interface HealthOptions {
  /** `--url`, repeatable: probe these instead of the configured endpoints. */
  urls?: string[];
}

/** `--url` values: absolute http(s) URLs; a path needs the environment's url. */
async function endpointsFromUrls(urls: string[], ctx: Context): Promise<{ environment: string | null; endpoints: EndpointInput[]; defaults: ProbeDefaults }> {
  let environment: string | null = null;
  let baseUrl: string | undefined;
  const path = urls.find((u) => u.startsWith('/'));
  if (path) {
    let found: Awaited<ReturnType<Context['environment']>>;
    try {
      found = await ctx.environment();
    } catch (err) {
      // Without a config, say why one was looked for at all.
      if (err instanceof ConfigError && err.message.startsWith(`no ${CONFIG_FILE} found`)) {
        throw new ConfigError(`--url "${path}" is a path, joined to the environment's url from ${CONFIG_FILE}, but ${err.message}`, {
          hint: 'give an absolute URL such as --url http://127.0.0.1:8080/api/health, or pass --config <file> (or set LTC_CONFIG)',
          cause: err,
        });
      }
      throw err;
    }
    environment = found.name;
    baseUrl = found.env.url;
  }
  const endpoints = urls.map((raw, i): EndpointInput => {
    let href: string;
    try {
      href = resolveEndpointUrl(raw, baseUrl, '--url');
    } catch (err) {
      const problem = urlControlProblem(raw);
      throw new UsageError(`--url ${JSON.stringify(raw)} is not a valid http(s) URL${problem ? `: it ${problem}` : ''}${raw.startsWith('/') && !baseUrl ? ' (it is a path, and the environment has no url)' : ''}`, {
        hint: `give an absolute URL such as --url http://127.0.0.1:8080/api/health${problem ? '; a URL has no tabs or line breaks and no space at either end' : ''}`,
        cause: err,
      });
    }
    return { name: urls.length === 1 ? 'url' : `url${i + 1}`, url: href, conditions: ['status == 200'] };
  });
  return { environment, endpoints, defaults: { baseUrl } };
}

function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - visibleLength(s)));
}

/** Why an endpoint failed, in one line (as the answer gave it: escaped where it is printed). */
export function failureReason(r: ProbeResult): string {
  if (r.ok) return '';
  if (r.error) return r.error;
  const failed = r.conditions.find((c) => !c.ok);
  return failed ? `${failed.condition}: ${failed.message ?? 'failed'}` : 'failed';
}

export function renderHealthTable(results: readonly ProbeResult[], c: Palette): string {
  const header = ['ENDPOINT', 'URL', 'STATUS', 'LATENCY', 'RESULT', 'FAILING CONDITION'];
  const rows = results.map((r) => [
    r.name,
    r.url,
    r.status === null ? '-' : String(r.status),
    r.latencyMs === null ? '-' : formatDuration(r.latencyMs),
    r.ok ? c.green('ok') : c.red(`FAIL${r.attempts > 1 ? ` (${r.attempts} attempts)` : ''}`),
    // What it quotes from the answer (a body value, a header) is escaped: the app's text cannot redraw the terminal.
    r.ok ? '' : printableLine(failureReason(r)),
  ]);
  const widths = header.map((h, i) => Math.max(visibleLength(h), ...rows.map((row) => visibleLength(row[i]!))));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : pad(cell, widths[i]!))).join('  ').trimEnd();
  return [c.bold(line(header)), ...rows.map(line)].join('\n');
}

export async function runHealth(opts: HealthOptions, ctx: Context): Promise<CommandResult> {
  let environment: string | null;
  let endpoints: EndpointInput[];
  let defaults: ProbeDefaults;
  if (opts.urls && opts.urls.length > 0) {
    ({ environment, endpoints, defaults } = await endpointsFromUrls(opts.urls, ctx));
  } else {
    const { name, env, loaded } = await ctx.environment();
    environment = name;
    const health = env.health;
    if (!health || health.endpoints.length === 0) {
      throw new ConfigError(`environment "${name}" has no health endpoints in ${loaded.file}`, {
        hint: `add environments.${name}.health.endpoints (name, url, conditions), or pass --url <url>`,
      });
    }
    endpoints = health.endpoints;
    defaults = {
      baseUrl: env.url,
      timeout: health.timeout,
      retries: health.retries,
      backoff: health.backoff,
      ...(health.failure_threshold !== undefined ? { failure_threshold: health.failure_threshold } : {}),
      resolvePath: loaded.resolvePath,
      where: `${loaded.file}: environments.${name}.health`,
    };
  }
  const { out } = ctx;
  defaults.onAttempt = (a) =>
    out.detail(
      `${a.name}: attempt ${a.attempt} ${a.ok ? 'ok' : 'failed'}` +
        (a.status !== null ? ` (${a.status} in ${formatDuration(a.latencyMs ?? 0)})` : '') +
        (a.error ? `: ${a.error}` : a.failed ? `: ${a.failed.condition}: ${a.failed.message ?? ''}` : ''),
    );

  const results = await probeEndpoints(endpoints, defaults, ctx.signal);
  const healthy = results.every((r) => r.ok);
  const failed = results.filter((r) => !r.ok).length;
  const summary = healthy
    ? out.c.green(`${results.length} of ${results.length} endpoint${results.length === 1 ? '' : 's'} healthy`)
    : out.c.red(`${failed} of ${results.length} endpoint${results.length === 1 ? '' : 's'} failing`);
  const text = `${renderHealthTable(results, out.c)}\n\n${summary}${environment ? out.c.dim(` (environment ${environment})`) : ''}`;
  return {
    data: {
      environment,
      healthy,
      endpoints: results.map((r) => ({
        name: r.name,
        url: r.url,
        ok: r.ok,
        status: r.status,
        latencyMs: r.latencyMs,
        attempts: r.attempts,
        ...(r.error ? { error: r.error } : {}),
        ...(r.certificateExpiresAt ? { certificateExpiresAt: r.certificateExpiresAt } : {}),
        conditions: r.conditions.map((c) => ({ condition: c.condition, ok: c.ok, actual: c.actual ?? null, message: c.message ?? null })),
      })),
    },
    text,
    exitCode: healthy ? 0 : 1,
  };
}
