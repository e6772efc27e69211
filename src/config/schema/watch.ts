import { z } from 'zod';
import { boundedDuration } from './common.js';
import { endpointUrlSchema, httpUrlSchema } from './health.js';

const interval = boundedDuration(50, 3_600_000, 'an interval');

export const watchThresholdsSchema = z
  .strictObject({
    error_rate: z.number().min(0).max(1).optional().describe('highest good error rate (fraction of requests, 0.001 = 0.1 %); default thresholds.error_rate'),
    latency_p95_ms: z.number().positive().optional().describe('highest good p95 latency in ms; default thresholds.latency_p95_ms'),
    latency_p99_ms: z.number().positive().optional().describe('highest good p99 latency in ms (probes only); default thresholds.latency_p99_ms'),
  })
  .describe('per-environment thresholds of the watch (each key falls back to the top-level thresholds)');

export const prometheusSchema = z
  .strictObject({
    url: httpUrlSchema.describe('base URL of the Prometheus server (its HTTP API is <url>/api/v1/…)'),
    timeout: boundedDuration(1, 600_000, 'a timeout').default('5s').describe('per query'),
    window: boundedDuration(1000, 86_400_000, 'a window').default('1m').describe('the longest range $window in a query stands for; $window is the time since the switch up to this, so a rate never counts the release before'),
    min_window: boundedDuration(1000, 86_400_000, 'a window').default('30s').describe('a query with $window waits (inconclusive, warming up) until this long after the switch; at least two scrape intervals'),
    queries: z
      .strictObject({
        error_rate: z.string().min(1).optional().describe('PromQL giving one number: the fraction of requests that failed, e.g. sum(rate(http_requests_total{status=~"5.."}[$window])) / sum(rate(http_requests_total[$window]))'),
        latency_p95_ms: z.string().min(1).optional().describe('PromQL giving the p95 latency in milliseconds, e.g. 1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[$window])))'),
        requests: z.string().min(1).optional().describe('PromQL giving the number of requests in the window (checked against min_requests), e.g. sum(increase(http_requests_total[$window]))'),
      })
      .describe('one PromQL expression per figure; each must give one number (an instant vector of one series, or a scalar)'),
  })
  .describe('Prometheus as a metric source of ltc watch');

export const watchSchema = z
  .strictObject({
    after_deploy: z.boolean().default(false).describe('ltc deploy watches the environment after the switch (runbooks/deploy.yaml step "watch"); a failed watch rolls back'),
    after_deploy_for: boundedDuration(0, 86_400_000, 'a duration').default('2m').describe('how long ltc deploy watches after the switch'),
    for: boundedDuration(0, 7 * 86_400_000, 'a duration').default('3h').describe('default length of ltc watch (--for)'),
    interval: interval.default('30s').describe('time between samples (--interval)'),
    window: boundedDuration(50, 86_400_000, 'a window').optional().describe("sliding window of ltc's own probes (error rate, p50/p95/p99); default 5 intervals"),
    failure_limit: z.number().int().min(1).default(3).describe('bad intervals in a row that fail the watch (one bad sample never rolls back)'),
    success_limit: z.number().int().min(1).default(3).describe('good intervals in a row needed for the watch to pass at its end'),
    inconclusive_limit: z.number().int().min(1).default(10).describe('inconclusive intervals in a row that send an inconclusive alert (never a rollback); the warm-up of a rate window is a few inconclusive intervals'),
    min_requests: z.number().int().min(0).default(10).describe('fewer requests than this in the window makes the error rate inconclusive (too little traffic to mean anything)'),
    probes: z
      .array(endpointUrlSchema)
      .optional()
      .describe("URLs (or paths joined to the environment url) ltc requests itself each interval; default the health endpoints; [] turns ltc's own probes off"),
    requests_per_interval: z.number().int().min(1).max(1000).default(5).describe('requests per probe URL each interval'),
    probe_timeout: boundedDuration(1, 600_000, 'a timeout').default('5s').describe('per probe request; no answer in time counts as an error'),
    thresholds: watchThresholdsSchema.optional(),
    prometheus: prometheusSchema.optional(),
    alert: z
      .strictObject({
        webhook: httpUrlSchema.optional().describe('Slack-compatible incoming webhook URL (posted {"text": …}); treated as a secret in output'),
        webhook_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional().describe('name of an environment variable holding the webhook URL (instead of webhook)'),
        timeout: boundedDuration(1, 60_000, 'a timeout').default('5s').describe('per webhook attempt'),
        retries: z.number().int().min(0).max(10).default(3).describe('retries of a failed webhook post (doubling backoff from 250ms)'),
      })
      .optional()
      .describe('where a failed or inconclusive watch is reported'),
  })
  .describe('ltc watch: metrics after a switch, thresholds, alerts and automatic rollback');

export type WatchConfig = z.output<typeof watchSchema>;
export type PrometheusConfig = z.output<typeof prometheusSchema>;
