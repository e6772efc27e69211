/**
 * ltc's own probes: each interval a burst of real HTTP requests to the environment's endpoints
 * (src/health/run.ts probeEndpoints, no retries), kept in a sliding window; error rate (no answer
 * or 5xx) and latency p50/p95/p99 over the window.
 */
import type { EndpointInput } from '../health/run.js';

export interface ProbeHit {
  at: number;
  url: string;
  status: number | null;
  latencyMs: number | null;
  error: boolean;
}

export interface ProbeFigures {
  requests: number;
  errors: number;
  errorRate: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export class ProbeWindow {
  private hits: ProbeHit[] = [];
  constructor(private readonly windowMs: number) {}

  add(hits: readonly ProbeHit[]): void {
    this.hits.push(...hits);
  }

  figures(now: number): ProbeFigures {
    this.hits = this.hits.filter((h) => h.at > now - this.windowMs);
    const latencies = this.hits.filter((h) => h.latencyMs !== null).map((h) => h.latencyMs!).sort((a, b) => a - b);
    const errors = this.hits.filter((h) => h.error).length;
    return {
      requests: this.hits.length,
      errors,
      errorRate: this.hits.length ? errors / this.hits.length : null,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
    };
  }
}

/** One burst: `perUrl` requests to each URL at once. */
export async function probeBurst(
  urls: readonly string[],
  perUrl: number,
  opts: { baseUrl?: string; timeoutMs: number },
  signal: AbortSignal,
): Promise<ProbeHit[]> {
  if (!urls.length) return [];
  const { probeEndpoints } = await import('../health/run.js');
  const endpoints: EndpointInput[] = [];
  for (const url of urls) for (let i = 0; i < perUrl; i++) endpoints.push({ name: url, url, conditions: ['status < 500'], retries: 0 });
  const results = await probeEndpoints(
    endpoints,
    { ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}), timeout: opts.timeoutMs, retries: 0, concurrency: endpoints.length, where: 'watch.probes' },
    signal,
  );
  const at = Date.now();
  return results.map((r) => ({ at, url: r.url, status: r.status, latencyMs: r.latencyMs, error: r.status === null || r.status >= 500 }));
}
