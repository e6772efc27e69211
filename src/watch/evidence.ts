/** The go-live check's phase-4 evidence from `.ltc/watch/<id>.json` (read by src/golive/probes.ts). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatDuration } from '../core/duration.js';
import type { WatchResult } from './run.js';

/** One line per watch of `rc` on `environment` (newest first, at most 5), or undefined when there is none. */
export async function watchEvidence(dir: string, files: readonly string[], rc: string | undefined, environment: string | undefined): Promise<string[] | undefined> {
  const lines: string[] = [];
  for (const f of [...files].reverse()) {
    let r: WatchResult;
    try {
      r = JSON.parse(await readFile(join(dir, f), 'utf8')) as WatchResult;
    } catch {
      continue;
    }
    if (!Array.isArray(r.samples) || (rc && r.rc !== rc) || (environment && r.environment !== environment)) continue;
    const worst = (source: string, figure: string) => {
      const v = r.samples.flatMap((s) => s.checks.filter((c) => c.source === source && c.figure === figure && c.value !== null).map((c) => c.value!));
      return v.length ? Math.max(...v) : null;
    };
    const err = worst('probes', 'error_rate') ?? worst('prometheus', 'error_rate');
    const p95 = worst('probes', 'latency_p95_ms') ?? worst('prometheus', 'latency_p95_ms');
    const ms = Date.parse(r.endedAt) - Date.parse(r.startedAt);
    lines.push(
      `watch ${f}: ${r.outcome} over ${formatDuration(ms)} (${r.samples.length} samples, ${r.startedAt} → ${r.endedAt}); highest error rate ${err === null ? 'n/a' : `${(err * 100).toFixed(2)} %`}, highest p95 ${p95 === null ? 'n/a' : `${Math.round(p95)}ms`}; ${r.reason}`,
    );
    if (lines.length === 5) break;
  }
  return lines.length ? lines : undefined;
}
