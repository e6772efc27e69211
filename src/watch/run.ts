/**
 * The watch: every interval a sample from ltc's own probes (sliding window) and from Prometheus,
 * each figure against its threshold; an interval is good, bad or inconclusive. `failure_limit`
 * bad intervals in a row fail the watch; inconclusive intervals (no data, empty result, NaN, too
 * few requests, Prometheus unreachable) never fail it, they alert. Every sample goes to
 * .ltc/watch/<id>.jsonl and the result to .ltc/watch/<id>.json and the audit log.
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedConfig } from '../config/load.js';
import type { EnvironmentConfig } from '../config/schema/index.js';
import type { WatchConfig } from '../config/schema/watch.js';
import type { Context } from '../core/context.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { resolveQuery, staleRange, widest, type QueryWindow } from './query-window.js';
import { ConfigError, InterruptedError, UsageError } from '../core/errors.js';
import { postWebhook, type AlertResult } from './alert.js';
import { ProbeWindow, probeBurst, type ProbeFigures } from './probes.js';
import { checkQueries, graphLink, queryNumber, type QueryOutcome } from './prometheus.js';

export type Figure = 'error_rate' | 'latency_p95_ms' | 'latency_p99_ms';
export type Verdict = 'good' | 'bad' | 'inconclusive';
export type Outcome = 'pass' | 'fail' | 'inconclusive';

export interface Check {
  source: 'probes' | 'prometheus';
  figure: Figure;
  value: number | null;
  threshold: number;
  verdict: Verdict;
  reason?: string;
}

export interface Sample {
  index: number;
  time: string;
  verdict: Verdict;
  checks: Check[];
  probes: ProbeFigures | null;
  prometheus: Record<string, { value: number | null; reason?: string; ms: number; skewMs?: number; rangeS?: number }> | null;
  /** How long the sample took (probes and queries at once), ms. */
  ms: number;
}

export interface WatchPlan {
  id: string;
  environment: string;
  release: string | null;
  rc: string | null;
  forMs: number;
  intervalMs: number;
  intervals: number;
  windowMs: number;
  failureLimit: number;
  successLimit: number;
  inconclusiveLimit: number;
  minRequests: number;
  thresholds: Record<Figure, number>;
  probes: string[];
  baseUrl?: string;
  requestsPerInterval: number;
  probeTimeoutMs: number;
  prometheus?: { url: string; timeoutMs: number; queries: Partial<Record<Figure | 'requests', string>>; window: QueryWindow };
  /** Epoch ms of the switch to the live release (the current link's mtime); null when unknown. */
  switchedMs: number | null;
  webhook?: string;
  alertTimeoutMs: number;
  alertRetries: number;
  /** interval × failure_limit + the longest query time. */
  worstCaseMs: number;
  stateDir: string;
  journal: string;
}

export interface WatchResult {
  id: string;
  outcome: Outcome;
  reason: string;
  environment: string;
  release: string | null;
  rc: string | null;
  startedAt: string;
  endedAt: string;
  worstCaseMs: number;
  failing?: Check;
  firstBadAt?: string;
  failedAt?: string;
  samples: Sample[];
  alerts: Array<AlertResult & { kind: Outcome }>;
  journal: string;
}

export interface WatchFlags {
  for?: string;
  interval?: string;
  failureLimit?: number;
}

function newId(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${p(d.getUTCMilliseconds(), 3)}Z-${process.pid}`;
}

/** The plan of a watch from the config and the flags; checks the Prometheus queries (ConfigError, exit 2). */
export async function prepareWatch(
  name: string,
  env: EnvironmentConfig,
  loaded: LoadedConfig,
  flags: WatchFlags,
  ctx: Context,
  signal: AbortSignal,
  defaults: { forKey: 'for' | 'after_deploy_for' } = { forKey: 'for' },
): Promise<WatchPlan> {
  const w: WatchConfig | undefined = env.watch;
  const key = `environments.${name}.watch`;
  const cfg = w ?? ((await import('../config/schema/watch.js')).watchSchema.parse({}) as WatchConfig);
  const forMs = parseDuration(flags.for ?? cfg[defaults.forKey], '--for');
  const intervalMs = parseDuration(flags.interval ?? cfg.interval, '--interval');
  if (intervalMs < 50) throw new UsageError(`--interval ${flags.interval}: the shortest interval is 50ms`, { hint: 'e.g. --interval 30s' });
  if (forMs < intervalMs) throw new UsageError(`--for ${formatDuration(forMs)} is shorter than one interval (${formatDuration(intervalMs)})`, { hint: 'e.g. --for 3h --interval 30s' });
  const failureLimit = flags.failureLimit ?? cfg.failure_limit;
  if (!Number.isInteger(failureLimit) || failureLimit < 1) throw new UsageError(`--failure-limit must be a whole number of at least 1`, { hint: 'e.g. --failure-limit 3' });
  const top = loaded.config.thresholds;
  const thresholds: Record<Figure, number> = {
    error_rate: cfg.thresholds?.error_rate ?? top.error_rate,
    latency_p95_ms: cfg.thresholds?.latency_p95_ms ?? top.latency_p95_ms,
    latency_p99_ms: cfg.thresholds?.latency_p99_ms ?? top.latency_p99_ms,
  };
  const probes = cfg.probes ?? (env.health?.endpoints ?? []).map((e) => e.url);
  if (probes.some((p) => p.startsWith('/')) && !env.url) {
    throw new ConfigError(`${key}.probes: a path needs the environment's url, and ${name} has none`, { hint: `add environments.${name}.url, or give absolute URLs` });
  }
  const prom = cfg.prometheus;
  const queries = prom ? Object.fromEntries(Object.entries(prom.queries).filter(([, q]) => q)) : {};
  if (!probes.length && !Object.keys(queries).filter((k) => k !== 'requests').length) {
    throw new ConfigError(`${key}: nothing to watch (no probes and no Prometheus queries)`, {
      hint: `add ${key}.probes (e.g. [/api/health]) or ${key}.prometheus.queries.error_rate, or health endpoints to the environment`,
    });
  }
  const promTimeoutMs = prom ? parseDuration(prom.timeout) : 0;
  let webhook = cfg.alert?.webhook;
  if (cfg.alert?.webhook_env) {
    webhook = ctx.env[cfg.alert.webhook_env];
    if (!webhook) ctx.out.warn(`${key}.alert.webhook_env: ${cfg.alert.webhook_env} is not set; no alert will be sent`);
  }
  if (webhook) ctx.masker.add(webhook);
  const { liveRelease } = await import('./switch.js');
  const { release, rc, switchedMs } = await liveRelease(name, env, loaded, ctx);
  let queryWindow: QueryWindow | undefined;
  if (prom) {
    queryWindow = { maxMs: parseDuration(prom.window), minMs: parseDuration(prom.min_window), switchedMs };
    if (queryWindow.minMs > queryWindow.maxMs) throw new ConfigError(`${key}.prometheus.min_window (${prom.min_window}) is longer than its window (${prom.window})`, { hint: 'e.g. window: 1m, min_window: 30s' });
    const qw = queryWindow;
    const checked = await checkQueries(
      prom.url,
      Object.entries(queries).map(([k, q]) => ({ key: `${key}.prometheus.queries.${k}`, promql: widest(q!, qw) })),
      promTimeoutMs,
      signal,
    );
    if (checked.warning) ctx.out.warn(checked.warning);
    for (const [k, q] of Object.entries(queries)) {
      const range = staleRange(q!, qw, Date.now());
      if (range) ctx.out.warn(`${key}.prometheus.queries.${k}: the switch was ${formatDuration(Date.now() - switchedMs!)} ago, so its [${range}] range still counts the release before it; write [$window] to count only this release`);
    }
  }
  const probeTimeoutMs = parseDuration(cfg.probe_timeout);
  const queryMs = Math.max(probes.length ? probeTimeoutMs : 0, promTimeoutMs);
  const stateDir = await ctx.stateDir();
  const id = newId();
  return {
    id,
    environment: name,
    release,
    rc,
    forMs,
    intervalMs,
    intervals: Math.max(1, Math.floor(forMs / intervalMs)),
    windowMs: cfg.window !== undefined ? parseDuration(cfg.window) : intervalMs * 5,
    failureLimit,
    successLimit: cfg.success_limit,
    inconclusiveLimit: cfg.inconclusive_limit,
    minRequests: cfg.min_requests,
    thresholds,
    probes,
    ...(env.url ? { baseUrl: env.url } : {}),
    requestsPerInterval: cfg.requests_per_interval,
    probeTimeoutMs,
    ...(prom && queryWindow ? { prometheus: { url: prom.url, timeoutMs: promTimeoutMs, queries, window: queryWindow } } : {}),
    switchedMs,
    ...(webhook ? { webhook } : {}),
    alertTimeoutMs: parseDuration(cfg.alert?.timeout ?? '5s'),
    alertRetries: cfg.alert?.retries ?? 3,
    worstCaseMs: intervalMs * failureLimit + queryMs,
    stateDir,
    journal: join(stateDir, 'watch', `${id}.jsonl`),
  };
}

export function worstCaseText(p: WatchPlan): string {
  const q = p.worstCaseMs - p.intervalMs * p.failureLimit;
  return `worst case from a broken release to the start of the rollback: ${p.failureLimit} × ${formatDuration(p.intervalMs)} + ${formatDuration(q)} query time = ${formatDuration(p.worstCaseMs)}`;
}

export function fmtFigure(f: Figure, v: number | null): string {
  if (v === null) return 'n/a';
  return f === 'error_rate' ? `${(v * 100).toFixed(2)} %` : `${Math.round(v * 10) / 10}ms`;
}

const FIGURE_NAME: Record<Figure, string> = { error_rate: 'error rate', latency_p95_ms: 'p95 latency', latency_p99_ms: 'p99 latency' };

function judge(source: Check['source'], figure: Figure, value: number | null, threshold: number, reason?: string): Check {
  if (value === null) return { source, figure, value, threshold, verdict: 'inconclusive', reason: reason ?? 'no data' };
  return { source, figure, value, threshold, verdict: value > threshold ? 'bad' : 'good' };
}

async function takeSample(plan: WatchPlan, window: ProbeWindow, index: number, signal: AbortSignal): Promise<Sample> {
  const t0 = performance.now();
  const time = new Date();
  const prom = plan.prometheus;
  const [hits, results] = await Promise.all([
    probeBurst(plan.probes, plan.requestsPerInterval, { ...(plan.baseUrl ? { baseUrl: plan.baseUrl } : {}), timeoutMs: plan.probeTimeoutMs }, signal),
    prom
      ? Promise.all(
          Object.entries(prom.queries).map(async ([k, q]) => {
            const r = resolveQuery(q!, prom.window, Date.now());
            if ('warming' in r) return [k, { kind: 'none', reason: r.warming, ms: 0 }] as [string, QueryOutcome];
            const out = await queryNumber(prom.url, r.promql, prom.timeoutMs, signal);
            return [k, r.rangeS ? { ...out, rangeS: r.rangeS } : out] as [string, QueryOutcome & { rangeS?: number }];
          }),
        )
      : Promise.resolve([] as Array<[string, QueryOutcome & { rangeS?: number }]>),
  ]);
  const checks: Check[] = [];
  let probes: ProbeFigures | null = null;
  if (plan.probes.length) {
    window.add(hits);
    probes = window.figures(Date.now());
    const few = probes.requests < plan.minRequests ? `too few requests (${probes.requests} in the window, min_requests ${plan.minRequests})` : undefined;
    checks.push(judge('probes', 'error_rate', few ? null : probes.errorRate, plan.thresholds.error_rate, few));
    const noLatency = probes.p95 === null ? 'no answered requests in the window' : undefined;
    checks.push(judge('probes', 'latency_p95_ms', probes.p95, plan.thresholds.latency_p95_ms, noLatency));
    checks.push(judge('probes', 'latency_p99_ms', probes.p99, plan.thresholds.latency_p99_ms, noLatency));
  }
  let prometheus: Sample['prometheus'] = null;
  if (prom) {
    prometheus = {};
    const now = Date.now();
    for (const [k, r] of results) {
      const range = (r as { rangeS?: number }).rangeS;
      prometheus[k] = r.kind === 'value' ? { value: r.value, ms: r.ms, skewMs: Math.round(r.sampleTime - now), ...(range ? { rangeS: range } : {}) } : { value: null, reason: r.reason, ms: r.ms };
    }
    const req = prometheus.requests;
    const few = req && req.value !== null && req.value < plan.minRequests ? `too few requests (${Math.round(req.value)} in Prometheus, min_requests ${plan.minRequests})` : undefined;
    for (const f of ['error_rate', 'latency_p95_ms'] as const) {
      const r = prometheus[f];
      if (!r) continue;
      const tooFew = f === 'error_rate' ? few : undefined;
      checks.push(judge('prometheus', f, tooFew ? null : r.value, plan.thresholds[f], tooFew ?? r.reason));
    }
  }
  const verdict: Verdict = checks.some((c) => c.verdict === 'bad') ? 'bad' : checks.some((c) => c.verdict === 'inconclusive') ? 'inconclusive' : 'good';
  return { index, time: time.toISOString(), verdict, checks, probes, prometheus, ms: Math.round(performance.now() - t0) };
}

/** The live view in a terminal: a block redrawn after every sample (sparklines of the last 30). */
export function liveBlock(plan: WatchPlan, s: Sample, history: readonly Sample[]): string[] {
  const last = history.slice(-30);
  const row = (f: Figure, label: string) => {
    const vals = last.map((x) => {
      const c = x.checks.filter((k) => k.figure === f && k.value !== null);
      return c.length ? Math.max(...c.map((k) => k.value!)) : null;
    });
    const cur = vals.at(-1) ?? null;
    const over = cur !== null && cur > plan.thresholds[f];
    return `  ${label.padEnd(11)} ${sparkline(vals, plan.thresholds[f]).padEnd(30)} ${fmtFigure(f, cur).padStart(9)} ${over ? '>' : '≤'} ${fmtFigure(f, plan.thresholds[f])}`;
  };
  return [
    `${plan.environment} · release ${plan.release ?? 'unknown'} · interval ${s.index + 1}/${plan.intervals}, ${plan.intervals - s.index - 1} left · last sample ${s.time.slice(11, 23)}: ${s.verdict}`,
    row('error_rate', 'error rate'),
    row('latency_p95_ms', 'p95'),
    row('latency_p99_ms', 'p99'),
  ];
}

const SPARK = '▁▂▃▄▅▆▇█';
function sparkline(values: readonly (number | null)[], threshold: number): string {
  const max = Math.max(threshold, ...values.map((v) => v ?? 0)) || 1;
  return values.map((v) => (v === null ? ' ' : SPARK[Math.min(7, Math.floor((v / max) * 7.999))])).join('');
}

export function sampleLine(plan: WatchPlan, s: Sample, history: readonly Sample[], tty: boolean): string {
  const parts = s.checks.map((c) => `${c.source === 'probes' ? '' : 'prom '}${FIGURE_NAME[c.figure]} ${c.value === null ? `n/a (${c.reason})` : fmtFigure(c.figure, c.value)}${c.verdict === 'bad' ? ` > ${fmtFigure(c.figure, c.threshold)}` : ''}`);
  let spark = '';
  if (tty) {
    const last = history.slice(-20);
    const val = (f: Figure) => last.map((x) => x.checks.find((c) => c.figure === f)?.value ?? null);
    spark = `  err ${sparkline(val('error_rate'), plan.thresholds.error_rate)} p95 ${sparkline(val('latency_p95_ms'), plan.thresholds.latency_p95_ms)} p99 ${sparkline(val('latency_p99_ms'), plan.thresholds.latency_p99_ms)}`;
  }
  return `[${s.index + 1}/${plan.intervals}] ${s.time.slice(11, 23)} ${s.verdict.padEnd(12)} ${parts.join(' · ')}${spark}`;
}

function alertText(plan: WatchPlan, kind: Outcome, reason: string, failing: Check | undefined, autoRollback: boolean, failNote?: string): string {
  const head = kind === 'fail' ? ':rotating_light: ltc watch FAILED' : ':warning: ltc watch INCONCLUSIVE';
  const lines = [
    `${head} on ${plan.environment}: release ${plan.release ?? '(unknown)'}${plan.rc ? ` (${plan.rc})` : ''}`,
    reason,
  ];
  if (failing && failing.value !== null) lines.push(`${FIGURE_NAME[failing.figure]} (${failing.source}) ${fmtFigure(failing.figure, failing.value)} against threshold ${fmtFigure(failing.figure, failing.threshold)}`);
  const prom = plan.prometheus;
  if (prom) {
    const q = (failing?.source === 'prometheus' ? prom.queries[failing.figure] : undefined) ?? prom.queries.error_rate ?? Object.values(prom.queries)[0];
    if (q) lines.push(`Prometheus graph: ${graphLink(prom.url, widest(q, prom.window))}`);
  }
  lines.push(kind === 'fail' ? failNote ?? (autoRollback ? 'auto-rollback: the rollback starts now' : 'no auto-rollback: roll back with `ltc rollback --env ' + plan.environment + '`') : 'not rolled back (inconclusive never rolls back by itself): look at it');
  return lines.join('\n');
}

export interface WatchHooks {
  autoRollback: boolean;
  /** The alert's last line on fail (default: whether the rollback starts). */
  failNote?: string;
  onSample?(s: Sample, history: readonly Sample[]): void;
  onAlert?(a: AlertResult & { kind: Outcome }): void;
}

async function journal(plan: WatchPlan, entry: Record<string, unknown>): Promise<void> {
  await appendFile(plan.journal, JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
}

/** Runs the watch to its end, its failure, or Ctrl-C (InterruptedError after journaling where). */
export async function runWatch(plan: WatchPlan, ctx: Context, signal: AbortSignal, hooks: WatchHooks): Promise<WatchResult> {
  await mkdir(join(plan.stateDir, 'watch'), { recursive: true });
  const { appendAudit } = await import('../audit/log.js');
  const startedAt = new Date().toISOString();
  const { webhook: _w, ...shown } = plan;
  await journal(plan, { type: 'start', plan: { ...shown, webhook: plan.webhook ? '***' : null } });
  await appendAudit(plan.stateDir, { action: 'watch', outcome: 'started', environment: plan.environment, ...(plan.rc ? { rc: plan.rc } : {}), details: { id: plan.id, release: plan.release, forMs: plan.forMs, intervalMs: plan.intervalMs, failureLimit: plan.failureLimit, worstCaseMs: plan.worstCaseMs, autoRollback: hooks.autoRollback } });
  const window = new ProbeWindow(plan.windowMs);
  const samples: Sample[] = [];
  const alerts: WatchResult['alerts'] = [];
  let bad = 0;
  let good = 0;
  let bestGood = 0;
  let inconclusive = 0;
  let inconclusiveAlerted = false;
  let firstBadAt: string | undefined;
  let failing: Check | undefined;
  let outcome: Outcome | undefined;
  let reason = '';
  let skewWarned = false;
  const t0 = Date.now();
  const alert = async (kind: Outcome, why: string, check?: Check) => {
    if (!plan.webhook) return;
    const r = { ...(await postWebhook(plan.webhook, alertText(plan, kind, why, check, hooks.autoRollback, hooks.failNote), { timeoutMs: plan.alertTimeoutMs, retries: plan.alertRetries }, signal)), kind };
    alerts.push(r);
    await journal(plan, { type: 'alert', ...r });
    if (!r.sent) ctx.out.warn(`the alert was not delivered after ${r.attempts} attempt(s): ${r.error}; the watch goes on`);
    hooks.onAlert?.(r);
  };
  try {
    for (let i = 0; i < plan.intervals; i++) {
      const wait = t0 + i * plan.intervalMs - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal });
      const s = await takeSample(plan, window, i, signal);
      samples.push(s);
      await journal(plan, { type: 'sample', ...s });
      hooks.onSample?.(s, samples);
      const skew = Object.values(s.prometheus ?? {}).find((r) => r.skewMs !== undefined && Math.abs(r.skewMs) > Math.max(2000, plan.intervalMs));
      if (skew && !skewWarned) {
        skewWarned = true;
        ctx.out.warn(`Prometheus's clock is ${formatDuration(Math.abs(skew.skewMs!))} ${skew.skewMs! > 0 ? 'ahead of' : 'behind'} this machine's: its rate windows do not line up with ltc's probes (fix NTP on one of them)`);
      }
      if (s.verdict === 'bad') {
        firstBadAt ??= s.time;
        bad++;
        good = 0;
        inconclusive = 0;
        inconclusiveAlerted = false;
        if (bad >= plan.failureLimit) {
          failing = s.checks.find((c) => c.verdict === 'bad');
          outcome = 'fail';
          reason = `${plan.failureLimit} bad interval(s) in a row: ${FIGURE_NAME[failing!.figure]} (${failing!.source}) ${fmtFigure(failing!.figure, failing!.value)} > ${fmtFigure(failing!.figure, failing!.threshold)}`;
          break;
        }
      } else if (s.verdict === 'good') {
        bad = 0;
        firstBadAt = undefined;
        good++;
        bestGood = Math.max(bestGood, good);
        inconclusive = 0;
        inconclusiveAlerted = false;
      } else {
        good = 0;
        inconclusive++;
        if (inconclusive >= plan.inconclusiveLimit && !inconclusiveAlerted) {
          inconclusiveAlerted = true;
          const c = s.checks.find((x) => x.verdict === 'inconclusive');
          await alert('inconclusive', `${inconclusive} inconclusive interval(s) in a row: ${c ? `${FIGURE_NAME[c.figure]} (${c.source}): ${c.reason}` : 'no figures'}`, c);
        }
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
    const where = `after ${samples.length} of ${plan.intervals} interval(s)`;
    await journal(plan, { type: 'interrupted', where, samples: samples.length });
    await appendAudit(plan.stateDir, { action: 'watch', outcome: 'interrupted', environment: plan.environment, ...(plan.rc ? { rc: plan.rc } : {}), details: { id: plan.id, release: plan.release, samples: samples.length, journal: plan.journal } });
    throw new InterruptedError(`watch of ${plan.environment} interrupted ${where}`, { hint: `the samples so far are in ${plan.journal}; nothing was rolled back` });
  }
  const need = Math.min(plan.successLimit, plan.intervals);
  if (!outcome) {
    if (bestGood >= need) {
      outcome = 'pass';
      reason = `${bestGood} good interval(s) in a row (success_limit ${plan.successLimit}), none of ${plan.failureLimit} bad in a row`;
    } else {
      outcome = 'inconclusive';
      const c = samples.at(-1)?.checks.find((x) => x.verdict === 'inconclusive');
      reason = `only ${bestGood} good interval(s) in a row (success_limit ${need})${c ? `; last: ${FIGURE_NAME[c.figure]} (${c.source}): ${c.reason}` : ''}`;
      failing = c;
    }
  }
  if (outcome === 'fail') await alert('fail', reason, failing);
  else if (outcome === 'inconclusive' && !inconclusiveAlerted) await alert('inconclusive', reason, failing);
  const result: WatchResult = {
    id: plan.id,
    outcome,
    reason,
    environment: plan.environment,
    release: plan.release,
    rc: plan.rc,
    startedAt,
    endedAt: new Date().toISOString(),
    worstCaseMs: plan.worstCaseMs,
    ...(failing ? { failing } : {}),
    ...(outcome === 'fail' && firstBadAt ? { firstBadAt, failedAt: samples.at(-1)!.time } : {}),
    samples,
    alerts,
    journal: plan.journal,
  };
  await journal(plan, { type: 'end', outcome, reason });
  await writeFile(join(plan.stateDir, 'watch', `${plan.id}.json`), JSON.stringify(result, null, 2) + '\n');
  await appendAudit(plan.stateDir, {
    action: 'watch',
    outcome: outcome === 'pass' ? 'ok' : 'failed',
    environment: plan.environment,
    ...(plan.rc ? { rc: plan.rc } : {}),
    details: { id: plan.id, result: outcome, reason, release: plan.release, samples: samples.length, ...(failing ? { figure: failing.figure, source: failing.source, value: failing.value, threshold: failing.threshold } : {}), alerts: alerts.map((a) => ({ kind: a.kind, sent: a.sent, attempts: a.attempts })), journal: plan.journal },
  });
  return result;
}
