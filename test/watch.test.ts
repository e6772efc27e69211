/**
 * ltc watch end to end: the demo app deployed on the local target, a real Prometheus scraping its
 * /metrics on loopback, ltc's own probes, a local webhook receiver. Healthy → pass; the broken
 * release (its /api/health answers 500) → fail → auto-rollback; no data → inconclusive, no
 * rollback; a query on a metric Prometheus does not know → exit 2 before the watch starts.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { LTC, cleanupTempDirs, freePort } from './helpers/cli.ts';
import { audit, currentRelease, liveVersion, makeStage, releaseMeta, revisions, stopStage, type Stage } from './helpers/deploy.ts';
import { startPrometheus, startReceiver, waitForSeries, type Prometheus, type Receiver } from './helpers/prometheus.ts';

let stage: Stage;
let prom: Prometheus;
let hook: Receiver;
let goodRelease: string;

const W = '3s';
const QUERIES = {
  error_rate: `(sum(rate(http_requests_total{status=~"5.."}[${W}])) or vector(0)) / sum(rate(http_requests_total[${W}]))`,
  latency_p95_ms: `1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[${W}])))`,
  requests: `sum(increase(http_requests_total[${W}]))`,
};

function setWatch(watch: Record<string, unknown>): void {
  const file = join(stage.ops, 'ltc.config.yaml');
  const cfg = parse(readFileSync(file, 'utf8')) as { environments: { staging: Record<string, unknown> } };
  cfg.environments.staging.watch = watch;
  writeFileSync(file, stringify(cfg));
}

function baseWatch(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    interval: '200ms',
    window: '1s',
    failure_limit: 3,
    success_limit: 3,
    min_requests: 5,
    probes: ['/api/health'],
    requests_per_interval: 5,
    probe_timeout: '2s',
    prometheus: { url: prom.url, timeout: '2s', queries: QUERIES },
    alert: { webhook: hook.url, timeout: '2s', retries: 3 },
    ...extra,
  };
}

interface WatchJson {
  ok: boolean;
  outcome: string;
  reason: string;
  samples: Array<{ verdict: string; checks: Array<{ source: string; figure: string; value: number | null; verdict: string; reason?: string }> }>;
  failing?: { figure: string; source: string; value: number; threshold: number };
  alerts: Array<{ kind: string; sent: boolean; attempts: number }>;
  rollback: { ok: boolean; release: string } | null;
  worstCaseMs: number;
  journal: string;
}

beforeAll(async () => {
  hook = await startReceiver();
  // Health checks probe only the frontend, so the broken release (its /api/health answers 500) deploys; the watch catches it.
  stage = await makeStage({ environment: { health: { timeout: '2s', endpoints: [{ name: 'frontend', url: '/', conditions: ['status == 200'] }] } } });
  prom = await startPrometheus([`127.0.0.1:${stage.port}`]);
  const d = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--json']);
  expect(d.code, d.stderr).toBe(0);
  goodRelease = currentRelease(stage)!;
  await waitForSeries(prom.url, 'http_requests_total');
}, 120_000);

afterAll(async () => {
  await prom?.stop();
  if (stage) await stopStage(stage);
  await hook?.close();
  await cleanupTempDirs();
});

describe('ltc watch', () => {
  it('a healthy release passes: both sources measured, journaled, audited, no alert', async () => {
    setWatch(baseWatch());
    const r = await stage.ltc(['watch', '--env', 'staging', '--for', '4s', '--interval', '200ms', '--json']);
    const j = r.json as WatchJson;
    expect(r.code, r.stderr).toBe(0);
    expect(j.outcome).toBe('pass');
    expect(r.stderr).toMatch(/worst case from a broken release to the start of the rollback: 3 × 200ms \+ 2\.0s query time = 2\.6s/);
    const good = j.samples.filter((s) => s.verdict === 'good');
    expect(good.length).toBeGreaterThanOrEqual(3);
    const checks = good.at(-1)!.checks;
    expect(checks.find((c) => c.source === 'probes' && c.figure === 'error_rate')!.value).toBe(0);
    expect(checks.find((c) => c.source === 'prometheus' && c.figure === 'error_rate')!.value).toBe(0);
    expect(checks.find((c) => c.source === 'prometheus' && c.figure === 'latency_p95_ms')!.value).toBeGreaterThan(0);
    expect(hook.posts).toHaveLength(0);
    expect(existsSync(j.journal)).toBe(true);
    const lines = readFileSync(j.journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(lines[0]!.type).toBe('start');
    expect(lines.at(-1)!.type).toBe('end');
    expect(readdirSync(join(stage.ops, '.ltc', 'watch')).some((f) => f.endsWith('.json'))).toBe(true);
    const a = await audit(stage);
    expect(a.filter((e) => e.action === 'watch').map((e) => e.outcome)).toEqual(['started', 'ok']);
    expect(currentRelease(stage)).toBe(goodRelease);
  }, 60_000);

  it("the go-live check's phase-4 watch item shows the watch of the rc as its evidence", async () => {
    const r = await stage.ltc(['golive', 'check', '--rc', 'rc-2026-03-01', '--env', 'staging', '--item', 'watch.first_hours', '--json']);
    const item = (r.json as { items: Array<{ item: string; status: string; evidence: string[] }> }).items.find((i) => i.item === 'watch.first_hours')!;
    expect(item.status).toBe('needs_signoff');
    expect(item.evidence[0]).toMatch(/^watch \d{8}T\d+Z-\d+\.json: pass over [\d.]+s \(\d+ samples, .*highest error rate 0\.00 %, highest p95 \d+ms/);
  }, 60_000);

  it('in a terminal: a live block redrawn in place (sparklines, intervals left, last sample time)', async () => {
    setWatch(baseWatch({ alert: undefined, prometheus: undefined }));
    expect(existsSync('/usr/bin/script'), 'the `script` command (Debian package bsdutils) is needed to run ltc in a pseudo-terminal').toBe(true);
    const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
    const command = `stty cols 160 rows 40; exec ${q(process.execPath)} ${q(LTC)} watch --env staging --for 1s --interval 200ms`;
    const env = { ...process.env, ...stage.env, TERM: 'xterm-256color', NO_COLOR: undefined, CI: undefined, FORCE_COLOR: undefined };
    const r = await execa('/usr/bin/script', ['-qec', command, '/dev/null'], { cwd: stage.ops, env, extendEnv: false, reject: false, timeout: 60_000 });
    const raw = r.stdout;
    expect(r.exitCode, raw).toBe(0);
    expect(raw).toContain('\u001b[4A\u001b[J');
    const text = raw.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    expect(text).toMatch(/staging · release \S+ · interval 5\/5, 0 left · last sample \d\d:\d\d:\d\d\.\d{3}: good/);
    expect(text).toMatch(/error rate\s+[▁▂▃▄▅▆▇█ ]+\s+0\.00 % ≤ 0\.10 %/);
    expect(text).toMatch(/p99\s+[▁▂▃▄▅▆▇█ ]+\s+[\d.]+ms ≤ 1000ms/);
  }, 60_000);

  it('a query on a metric Prometheus does not know is a config error (exit 2) before the watch starts', async () => {
    setWatch(baseWatch({ prometheus: { url: prom.url, queries: { error_rate: 'sum(rate(http_requestz_total{status=~"5.."}[1m])) / sum(rate(http_requestz_total[1m]))' } } }));
    const before = (await audit(stage)).length;
    const r = await stage.ltc(['watch', '--env', 'staging', '--for', '2s', '--interval', '200ms', '--auto-rollback']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('environments.staging.watch.prometheus.queries.error_rate');
    expect(r.stderr).toContain('http_requestz_total');
    expect(r.stderr).toContain('did you mean "http_requests_total"');
    expect(r.stderr).not.toContain('worst case');
    expect((await audit(stage)).length).toBe(before);
  }, 60_000);

  it('a PromQL syntax error is a config error naming the key (exit 2)', async () => {
    setWatch(baseWatch({ prometheus: { url: prom.url, queries: { latency_p95_ms: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[1m]))' } } }));
    const r = await stage.ltc(['watch', '--env', 'staging', '--for', '2s', '--interval', '200ms']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('environments.staging.watch.prometheus.queries.latency_p95_ms');
    expect(r.stderr).toMatch(/cannot parse/);
  }, 60_000);

  it('no data is inconclusive: alerted (webhook 500 retried), never rolled back', async () => {
    // A route nobody requests: the metric exists, the query returns an empty vector.
    const q = `(sum(rate(http_requests_total{route="/api/info",status=~"5.."}[${W}])) or vector(0)) / sum(rate(http_requests_total{route="/api/info"}[${W}]))`;
    setWatch(baseWatch({ probes: [], prometheus: { url: prom.url, timeout: '2s', queries: { error_rate: q } } }));
    hook.posts.length = 0;
    hook.failNext = [500, 500];
    const r = await stage.ltc(['watch', '--env', 'staging', '--for', '2s', '--interval', '200ms', '--auto-rollback', '--json']);
    const j = r.json as WatchJson;
    expect(r.code, r.stderr).toBe(1);
    expect(j.outcome).toBe('inconclusive');
    expect(j.rollback).toBeNull();
    expect(j.samples.every((s) => s.verdict === 'inconclusive')).toBe(true);
    expect(j.samples[0]!.checks[0]!.reason).toMatch(/empty vector/);
    expect(currentRelease(stage)).toBe(goodRelease);
    expect(hook.posts.map((p) => p.status)).toEqual([500, 500, 200]);
    expect(hook.posts[2]!.text).toContain('INCONCLUSIVE on staging');
    expect(hook.posts[2]!.text).toContain('not rolled back');
    expect(j.alerts).toEqual([expect.objectContaining({ kind: 'inconclusive', sent: true, attempts: 3 })]);
    const a = await audit(stage);
    expect(a.some((e) => e.action.startsWith('rollback'))).toBe(false);
  }, 60_000);

  it('a matrix, several series and too little traffic are inconclusive, each with its reason', async () => {
    setWatch(
      baseWatch({
        probes: [],
        min_requests: 1_000_000,
        prometheus: {
          url: prom.url,
          timeout: '2s',
          queries: { error_rate: QUERIES.error_rate, latency_p95_ms: 'http_request_duration_seconds_bucket', requests: QUERIES.requests },
        },
        alert: undefined,
      }),
    );
    const r = await stage.ltc(['watch', '--env', 'staging', '--for', '600ms', '--interval', '200ms', '--json']);
    const j = r.json as WatchJson;
    expect(r.code, r.stderr).toBe(1);
    expect(j.outcome).toBe('inconclusive');
    const checks = j.samples.at(-1)!.checks;
    expect(checks.find((c) => c.figure === 'error_rate')!.reason).toMatch(/too few requests \(\d+ in Prometheus, min_requests 1000000\)/);
    expect(checks.find((c) => c.figure === 'latency_p95_ms')!.reason).toMatch(/\d+ series where one number was expected/);
    setWatch(baseWatch({ probes: [], prometheus: { url: prom.url, queries: { error_rate: 'http_requests_total[5s]' } }, alert: undefined }));
    const m = await stage.ltc(['watch', '--env', 'staging', '--for', '200ms', '--interval', '200ms', '--json']);
    expect(m.code, m.stderr).toBe(1);
    expect((m.json as WatchJson).samples[0]!.checks[0]!.reason).toMatch(/range vector \(matrix\)/);
    expect(currentRelease(stage)).toBe(goodRelease);
  }, 60_000);

  it('--dry-run prints the plan and the worst case and samples nothing', async () => {
    setWatch(baseWatch());
    const before = (await audit(stage)).length;
    const r = await stage.ltc(['watch', '--env', 'staging', '--for', '1m', '--interval', '1s', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('would watch staging for 60 interval(s)');
    expect(r.stdout).toContain('3 × 1.0s + 2.0s query time = 5.0s');
    expect(r.stdout).not.toContain(hook.url);
    expect((await audit(stage)).length).toBe(before);
  }, 60_000);

  it('a --report path that cannot be written, an empty --for or --interval: exit 2 before the first sample', async () => {
    setWatch(baseWatch());
    const before = (await audit(stage)).length;
    const watchDirs = () => (existsSync(join(stage.ops, '.ltc', 'watch')) ? readdirSync(join(stage.ops, '.ltc', 'watch')).length : 0);
    const dirsBefore = watchDirs();
    const missing = await stage.ltc(['watch', '--env', 'staging', '--for', '1m', '--interval', '1s', '--report', '/nonexistent/dir/x.md']);
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toContain('the directory /nonexistent/dir does not exist');
    const emptyFor = await stage.ltc(['watch', '--env', 'staging', '--for', '', '--interval', '1s']);
    expect(emptyFor.code, emptyFor.stderr).toBe(2);
    expect(emptyFor.stderr).toContain('--for needs a duration');
    const emptyInterval = await stage.ltc(['watch', '--env', 'staging', '--interval', ' ']);
    expect(emptyInterval.code, emptyInterval.stderr).toBe(2);
    expect(emptyInterval.stderr).toContain('--interval needs a duration');
    expect((await audit(stage)).length).toBe(before);
    expect(watchDirs()).toBe(dirsBefore);
  }, 60_000);

  it('a webhook that does not answer is retried, then reported; the watch goes on to its end', async () => {
    setWatch(baseWatch({ prometheus: undefined, min_requests: 1_000_000, alert: { webhook: hook.url, timeout: '300ms', retries: 1 } }));
    hook.posts.length = 0;
    hook.failNext = [0, 0];
    const r = await stage.ltc(['watch', '--env', 'staging', '--for', '1s', '--interval', '200ms', '--json']);
    const j = r.json as WatchJson & { alerts: Array<{ error?: string }> };
    expect(r.code, r.stderr).toBe(1);
    expect(j.outcome).toBe('inconclusive');
    expect(j.samples).toHaveLength(5);
    expect(hook.posts.map((p) => p.status)).toEqual([0, 0]);
    expect(j.alerts).toEqual([expect.objectContaining({ kind: 'inconclusive', sent: false, attempts: 2 })]);
    expect(j.alerts[0]!.error).toMatch(/did not answer within 300ms/);
    expect(r.stderr).toMatch(/the alert was not delivered after 2 attempt\(s\).*the watch goes on/);
    expect(r.stderr).not.toContain(hook.url);
  }, 60_000);

  it('Prometheus unreachable is inconclusive: no rollback, the probes still count', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    setWatch(baseWatch({ prometheus: { url: dead, timeout: '500ms', queries: { error_rate: QUERIES.error_rate } }, alert: undefined }));
    const r = await stage.ltc(['watch', '--env', 'staging', '--for', '1s', '--interval', '200ms', '--auto-rollback', '--json']);
    const j = r.json as WatchJson;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('could not check the queries before the watch: Prometheus unreachable');
    expect(j.outcome).toBe('inconclusive');
    expect(j.rollback).toBeNull();
    const last = j.samples.at(-1)!.checks;
    expect(last.find((c) => c.source === 'prometheus')!.reason).toMatch(/Prometheus unreachable/);
    expect(last.find((c) => c.source === 'probes' && c.figure === 'error_rate')!.value).toBe(0);
    expect(currentRelease(stage)).toBe(goodRelease);
  }, 60_000);

  it('Ctrl-C ends the watch with exit 130; the journal says where', async () => {
    setWatch(baseWatch({ alert: undefined }));
    const child = spawn(process.execPath, [LTC, 'watch', '--env', 'staging', '--for', '60s', '--interval', '200ms'], { cwd: stage.ops, env: { ...process.env, ...stage.env, NO_COLOR: '1', CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/\[3\/\d+\]/.test(err) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code, err).toBe(130);
    const dir = join(stage.ops, '.ltc', 'watch');
    const newest = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().at(-1)!;
    const last = JSON.parse(readFileSync(join(dir, newest), 'utf8').trim().split('\n').at(-1)!) as { type: string; where: string };
    expect(last.type).toBe('interrupted');
    expect(last.where).toMatch(/after \d+ of 300 interval/);
    expect((await audit(stage)).filter((e) => e.action === 'watch').at(-1)!.outcome).toBe('interrupted');
  }, 60_000);

  it('the broken release (500s) fails the watch: alert with figure, threshold and graph link, then the rollback', async () => {
    setWatch(baseWatch());
    const d = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging', '--json']);
    expect(d.code, d.stderr).toBe(0);
    const broken = currentRelease(stage)!;
    expect(releaseMeta(stage, broken).rc).toBe('rc-2026-03-01.1');
    hook.posts.length = 0;
    hook.failNext = [];
    const r = await stage.ltc(['watch', '--env', 'staging', '--for', '30s', '--interval', '200ms', '--auto-rollback', '--json', '--report', 'watch-report.md']);
    const j = r.json as WatchJson;
    expect(r.code, r.stderr).toBe(3);
    const md = readFileSync(join(stage.ops, 'watch-report.md'), 'utf8');
    expect(md).toContain('# Watch of staging: fail');
    expect(md).toMatch(/- rollback: started .*, succeeded/);
    expect(md).toContain('![error rate and p95 over the watch](watch-report.svg)');
    const svg = readFileSync(join(stage.ops, 'watch-report.svg'), 'utf8');
    expect(svg.match(/class="threshold"/g)).toHaveLength(2);
    expect(svg.match(/class="rollback"/g)).toHaveLength(2);
    expect(svg).toMatch(/class="probes"[^>]*points="[\d.]+,[\d.]+ /);
    expect(j.outcome).toBe('fail');
    expect(j.failing!.figure).toBe('error_rate');
    expect(j.failing!.value).toBeGreaterThan(0.001);
    expect(j.samples.filter((s) => s.verdict === 'bad').length).toBe(3);
    expect(j.rollback!.ok).toBe(true);
    expect(currentRelease(stage)).toBe(goodRelease);
    expect(await liveVersion(stage)).toBe('1.1.0');
    expect(hook.posts).toHaveLength(1);
    const text = hook.posts[0]!.text;
    expect(text).toContain('FAILED on staging');
    expect(text).toContain(broken);
    expect(text).toContain('rc-2026-03-01.1');
    expect(text).toMatch(/error rate \((probes|prometheus)\) 100\.00 % against threshold 0\.10 %/);
    expect(text).toContain(`${prom.url}/graph?g0.expr=`);
    const types = readFileSync(j.journal, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types.slice(-4)).toEqual(['alert', 'end', 'rollback', 'rollback-end']);
    const a = await audit(stage);
    const watchFailed = a.filter((e) => e.action === 'watch' && e.outcome === 'failed').at(-1)!;
    expect(watchFailed.details).toMatchObject({ result: 'fail', figure: 'error_rate', release: broken });
    expect(a.at(-1)!.action).toMatch(/rollback/);
  }, 120_000);

  it('[$window] queries count only the live release: warming up right after the switch, then they pass; a fixed range warns', async () => {
    const sinceSwitch = (q: string) => q.replaceAll(`[${W}]`, '[$window]');
    const queries = Object.fromEntries(Object.entries(QUERIES).map(([k, q]) => [k, sinceSwitch(q)]));
    setWatch(baseWatch({ prometheus: { url: prom.url, timeout: '2s', window: '3s', min_window: '2s', queries } }));
    // A switch is a new current link: its mtime is the switch time ltc reads.
    await execa('touch', ['-h', join(stage.deployRoot, 'current')]);
    const r = await stage.ltc(['watch', '--env', 'staging', '--for', '6s', '--interval', '200ms', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json as WatchJson & { samples: Array<{ prometheus: Record<string, { value: number | null; reason?: string; rangeS?: number }> }> };
    expect(j.outcome).toBe('pass');
    const first = j.samples[0]!.prometheus.error_rate!;
    expect(first.value).toBeNull();
    expect(first.reason).toMatch(/^warming up: the switch was [\d.]+(ms|s) ago and \$window needs at least 2\.0s/);
    const measured = j.samples.map((s) => s.prometheus.error_rate!).filter((e) => e.value !== null);
    expect(measured.length).toBeGreaterThan(5);
    for (const e of measured) expect(e.rangeS).toBeGreaterThanOrEqual(2), expect(e.rangeS).toBeLessThanOrEqual(3);
    expect(j.samples.findIndex((s) => s.prometheus.error_rate!.value !== null)).toBeGreaterThan(0);

    setWatch(baseWatch({ prometheus: { url: prom.url, timeout: '2s', queries: { error_rate: QUERIES.error_rate.replaceAll(`[${W}]`, '[1h]') } } }));
    await execa('touch', ['-h', join(stage.deployRoot, 'current')]);
    const d = await stage.ltc(['watch', '--env', 'staging', '--for', '1m', '--interval', '1s', '--dry-run']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/queries\.error_rate: the switch was [\d.]+(ms|s) ago, so its \[1h\] range still counts the release before it; write \[\$window\]/);
  }, 60_000);

  it('deploy.yaml watches after the switch when watch.after_deploy is on: the broken release is rolled back (exit 3)', async () => {
    setWatch(baseWatch({ after_deploy: true, after_deploy_for: '20s', alert: { webhook: hook.url } }));
    hook.posts.length = 0;
    const d = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging', '--json']);
    expect(d.code, d.stderr).toBe(3);
    expect(currentRelease(stage)).toBe(goodRelease);
    expect(await liveVersion(stage)).toBe('1.1.0');
    const rev = revisions(stage).at(-1)!;
    expect(rev.outcome).toMatch(/rolled/);
    expect((await audit(stage)).filter((e) => e.action === 'watch').at(-1)).toMatchObject({ outcome: 'failed', details: { result: 'fail' } });
    expect(hook.posts.at(-1)!.text).toContain("on_failure steps run now");
  }, 120_000);

  it('deploy.yaml: an unknown metric in the watch config stops the deploy before it changes anything (exit 2)', async () => {
    setWatch(baseWatch({ after_deploy: true, prometheus: { url: prom.url, queries: { error_rate: 'sum(rate(http_requestz_total[1m]))' } } }));
    const before = currentRelease(stage);
    const d = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(d.code, d.stderr).toBe(2);
    expect(d.stderr).toContain('environments.staging.watch.prometheus.queries.error_rate');
    expect(currentRelease(stage)).toBe(before);
  }, 120_000);

  it('deploy.yaml: an inconclusive watch with nobody to ask keeps the release (no rollback)', async () => {
    const q = `(sum(rate(http_requests_total{route="/api/info",status=~"5.."}[${W}])) or vector(0)) / sum(rate(http_requests_total{route="/api/info"}[${W}]))`;
    setWatch(baseWatch({ after_deploy: true, after_deploy_for: '600ms', probes: [], prometheus: { url: prom.url, queries: { error_rate: q } }, alert: undefined }));
    const d = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging', '--json']);
    expect(d.code, d.stderr).toBe(0);
    expect(releaseMeta(stage, currentRelease(stage)!).rc).toBe('rc-2026-02-15');
    const journal = readFileSync((d.json as { journal: string }).journal, 'utf8');
    const step = journal.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { t: string; id?: string; status?: string; outputs?: Record<string, unknown> }).find((e) => e.t === 'end' && e.id === 'watch');
    expect(step).toMatchObject({ status: 'ok', outputs: { outcome: 'inconclusive', samples: 3 } });
    const back = await stage.ltc(['rollback', '--env', 'staging', '--to', goodRelease]);
    expect(back.code, back.stderr).toBe(0);
  }, 120_000);

  it('deploy.yaml skips the watch when watch.after_deploy is off (the local demo default)', async () => {
    setWatch(baseWatch({ after_deploy: false }));
    const d = await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging', '--json']);
    expect(d.code, d.stderr).toBe(0);
    expect(releaseMeta(stage, currentRelease(stage)!).rc).toBe('rc-2026-02-15');
    const journal = readFileSync((d.json as { journal: string }).journal, 'utf8');
    const step = journal.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { t: string; id?: string; status?: string; outputs?: Record<string, unknown> }).find((e) => e.t === 'end' && e.id === 'watch');
    expect(step).toMatchObject({ status: 'ok', outputs: { outcome: 'off', samples: 0 } });
  }, 120_000);
});
