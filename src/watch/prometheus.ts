/**
 * Prometheus through its HTTP API: one instant query (/api/v1/query) reduced to one number or
 * a reason why there is none (unreachable, empty vector, several series, a matrix, NaN), and the
 * check before a watch starts: every query parses, and every metric it names is known to
 * Prometheus (/api/v1/series, then /api/v1/metadata), else a ConfigError naming the config key.
 */
import { ConfigError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';

export type QueryOutcome =
  | { kind: 'value'; value: number; sampleTime: number; ms: number }
  | { kind: 'none'; reason: string; ms: number };

interface ApiBody {
  status?: string;
  errorType?: string;
  error?: string;
  data?: unknown;
}

class ApiError extends Error {
  constructor(
    message: string,
    readonly errorType?: string,
  ) {
    super(message);
  }
}

function apiUrl(base: string, path: string, params: Record<string, string | string[]>): string {
  const u = new URL(base.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) u.searchParams.append(k, one);
  return u.toString();
}

async function getApi(url: string, timeoutMs: number, signal: AbortSignal): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) });
  } catch (err) {
    if (signal.aborted) throw err;
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs}ms` : (e.cause?.code ?? e.message);
    throw new ApiError(`Prometheus unreachable at ${new URL(url).origin}: ${why}`, 'unreachable');
  }
  const text = await res.text();
  let body: ApiBody;
  try {
    body = JSON.parse(text) as ApiBody;
  } catch {
    throw new ApiError(`Prometheus answered ${res.status} with something that is not its JSON API (is ${new URL(url).origin} a Prometheus server?)`, 'bad_response');
  }
  if (body.status !== 'success') throw new ApiError(body.error ?? `status ${res.status}`, body.errorType ?? 'error');
  return body.data;
}

/** One instant query, reduced to one number. Never throws except on Ctrl-C. */
export async function queryNumber(base: string, promql: string, timeoutMs: number, signal: AbortSignal): Promise<QueryOutcome> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  let data: unknown;
  try {
    data = await getApi(apiUrl(base, '/api/v1/query', { query: promql }), timeoutMs, signal);
  } catch (err) {
    if (signal.aborted) throw err;
    return { kind: 'none', reason: err instanceof ApiError && err.errorType !== 'unreachable' ? `query failed: ${err.message}` : (err as Error).message, ms: ms() };
  }
  const d = data as { resultType?: string; result?: unknown };
  let pair: unknown;
  if (d.resultType === 'scalar') pair = d.result;
  else if (d.resultType === 'vector') {
    const list = Array.isArray(d.result) ? (d.result as Array<{ value?: unknown }>) : [];
    if (list.length === 0) return { kind: 'none', reason: 'no data (the query returned an empty vector)', ms: ms() };
    if (list.length > 1) return { kind: 'none', reason: `${list.length} series where one number was expected (aggregate it, e.g. sum(...))`, ms: ms() };
    pair = list[0]!.value;
  } else if (d.resultType === 'matrix') {
    return { kind: 'none', reason: 'a range vector (matrix) where one number was expected (drop the [range] or wrap it in rate(...))', ms: ms() };
  } else {
    return { kind: 'none', reason: `a ${d.resultType ?? 'missing'} result where one number was expected`, ms: ms() };
  }
  const [time, raw] = Array.isArray(pair) ? (pair as [number, string]) : [0, 'NaN'];
  const value = Number(raw);
  if (!Number.isFinite(value)) return { kind: 'none', reason: `no data (the query gave ${raw}; e.g. 0/0 when there was no traffic)`, ms: ms() };
  return { kind: 'value', value, sampleTime: Number(time) * 1000, ms: ms() };
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'atan2', 'start', 'end']);

/** The metric names a PromQL expression selects (bare names and {__name__="…"}). */
export function metricNames(promql: string): string[] {
  const names = new Set<string>();
  for (const m of promql.matchAll(/__name__\s*=\s*"([^"]+)"/g)) names.add(m[1]!);
  const s = promql
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  for (const m of s.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)/g)) {
    const name = m[1]!;
    const rest = s.slice(m.index + name.length);
    if (/^\s*\(/.test(rest)) continue;
    if (KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

export interface QueryCheck {
  /** The config key, e.g. environments.staging.watch.prometheus.queries.error_rate. */
  key: string;
  promql: string;
}

/**
 * Before the watch: each query parses and each metric exists. Prometheus unreachable is not a
 * config error (the samples will say so, inconclusive); it comes back as a warning.
 */
export async function checkQueries(base: string, checks: readonly QueryCheck[], timeoutMs: number, signal: AbortSignal): Promise<{ warning?: string; metrics: string[] }> {
  const all = new Set<string>();
  let known: string[] | undefined;
  for (const c of checks) {
    try {
      await getApi(apiUrl(base, '/api/v1/query', { query: c.promql }), timeoutMs, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      if (err instanceof ApiError && err.errorType === 'bad_data') {
        throw new ConfigError(`${c.key}: Prometheus cannot parse the query: ${err.message}`, { hint: `the query is ${JSON.stringify(c.promql)}; fix its PromQL (try it at ${base.replace(/\/+$/, '')}/graph)` });
      }
      return { warning: `could not check the queries before the watch: ${(err as Error).message}`, metrics: [] };
    }
    for (const name of metricNames(c.promql)) {
      all.add(name);
      const series = (await getApi(apiUrl(base, '/api/v1/series', { 'match[]': name, start: String(Date.now() / 1000 - 3600) }), timeoutMs, signal)) as unknown[];
      if (Array.isArray(series) && series.length) continue;
      const meta = (await getApi(apiUrl(base, '/api/v1/metadata', { metric: name }), timeoutMs, signal)) as Record<string, unknown>;
      if (meta && Object.keys(meta).length) continue;
      known ??= ((await getApi(apiUrl(base, '/api/v1/label/__name__/values', {}), timeoutMs, signal)) as string[]) ?? [];
      const near = didYouMean(name, known);
      throw new ConfigError(`${c.key}: the query names the metric ${name}, which Prometheus at ${base} does not know (no series in the last hour, no metadata)`, {
        hint: `${near ? `${near} ` : ''}a query on a missing metric returns nothing and would never fail the watch; fix the metric name or the scrape config`,
      });
    }
  }
  return { metrics: [...all] };
}

/** A link to the Prometheus graph of a query over the last hour. */
export function graphLink(base: string, promql: string): string {
  return `${base.replace(/\/+$/, '')}/graph?g0.expr=${encodeURIComponent(promql)}&g0.tab=0&g0.range_input=1h`;
}
