/** After a start: health until green or the deadline, smoke tests, and the app log scan. */
import { CheckFailedError, InterruptedError } from '../core/errors.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { displayCommand } from '../exec/command.js';
import type { LogText, StartedApp } from '../targets/target.js';
import type { DeploySession } from './session.js';
import { userRegex } from '../core/user-regex.js';

export interface PhaseIO {
  log(line: string): void;
  signal: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * While no endpoint answers (connection refused, no answer in time) the next round follows soon:
 * green is noticed within about this long of the app listening, and a refused connection costs
 * next to nothing. Answers that fail their conditions back off from 25 ms (up to 500 ms) instead,
 * so that health_failures rounds in a row span an app's warm-up.
 */
const NOT_UP_POLL_MS = 10;
const NOT_HEALTHY_LOG_EVERY_MS = 2000;
const EARLY_GREEN_SETTLE_MS = 1000;

function exitText(e: { code: number | null; signal: string | null }): string {
  return e.signal ? `was ended by ${e.signal}` : `exited with code ${e.code}`;
}

/** The last lines of the app log since the start, masked, for error hints. */
export async function logTail(s: DeploySession, offset: number, n = 8): Promise<string> {
  const text = s.ctx.masker.mask((await s.target.readLog(offset, 64 * 1024)).text);
  const lines = text.split('\n').filter((l) => l.trim());
  return lines.slice(-n).join('\n');
}

async function exitedError(s: DeploySession, app: StartedApp, what: string): Promise<CheckFailedError> {
  const tail = await logTail(s, app.logOffset);
  return new CheckFailedError(`the app ${exitText(app.exit!)} ${what} (start command ${displayCommand(s.config.start ?? [])} in ${app.release})`, {
    hint: `${tail ? `last lines of ${s.target.paths.logFile}:\n${tail}` : `nothing in ${s.target.paths.logFile}`}`,
  });
}

/**
 * Probes the environment's health endpoints until all are green or `health_deadline` passed;
 * fails at once when the started process exits. Without endpoints: the process must still run
 * after a short settle time.
 */
export async function waitHealthy(s: DeploySession, app: StartedApp | undefined, io: PhaseIO): Promise<{ ms: number; attempts: number }> {
  const deadlineMs = parseDuration(s.config.health_deadline, 'health_deadline');
  const started = app?.startedAtMs ?? performance.now();
  const until = started + deadlineMs;
  const health = s.env.health;
  const endpoints = health?.endpoints ?? [];
  const exitedNow = () => (app?.exit ? true : false);
  const race = <T>(p: Promise<T>): Promise<T | 'exited'> => (app?.exited ? Promise.race([p, app.exited.then(() => 'exited' as const)]) : p);

  if (endpoints.length === 0) {
    io.log(`no health endpoints configured for ${s.environment}: only checking that the process keeps running`);
    await race(sleep(Math.min(1000, deadlineMs)));
    if (app && exitedNow()) throw await exitedError(s, app, 'right after its start');
    return { ms: performance.now() - started, attempts: 0 };
  }
  const { probeEndpoints, failureReason } = await import('../health/run.js');
  const timeoutMs = parseDuration(health?.timeout ?? '5s', 'health.timeout');
  let attempts = 0;
  let failingDelay = 25;
  let last = '';
  let loggedAt = -Infinity;
  // "Not up yet" (no HTTP answer: refused, timeout) is retried until the deadline; "up and
  // failing" (an HTTP answer that fails its conditions) fails after health_failures rounds in a row.
  const failFast = s.config.health_failures ?? 3;
  let answeredFailing = 0;
  for (;;) {
    if (io.signal.aborted) throw new InterruptedError('interrupted during the health checks');
    if (app && exitedNow()) throw await exitedError(s, app, 'right after its start');
    attempts++;
    const remaining = Math.max(50, until - performance.now());
    const results = await race(
      probeEndpoints(
        endpoints.map((e) => ({ ...e, retries: 0, timeout: Math.max(1, Math.round(Math.min(timeoutMs, remaining))) })),
        { ...(s.env.url ? { baseUrl: s.env.url } : {}), resolvePath: s.loaded.resolvePath, where: `${s.loaded.file}: environments.${s.environment}.health` },
        io.signal,
      ),
    );
    if (results === 'exited') throw await exitedError(s, app!, 'while it was health-checked');
    const failing = results.filter((r) => !r.ok);
    if (failing.length === 0 && attempts === 1 && app?.exited) {
      // Green before the new process could have opened its port: something else answers there
      // (an old process that still holds it, a proxy with other instances). The new one must
      // then still run after a moment, or it died, e.g. on EADDRINUSE.
      io.log(`the health endpoints answered at once, before ${app.release} could listen: checking that its process still runs after ${formatDuration(EARLY_GREEN_SETTLE_MS)}`);
      if ((await race(sleep(EARLY_GREEN_SETTLE_MS))) === 'exited' || exitedNow()) throw await exitedError(s, app, 'while another process answered its health checks');
    }
    if (failing.length === 0) {
      const ms = performance.now() - started;
      if (app) s.greenLogBytes = Math.max(0, (await s.target.logSize()) - app.logOffset);
      io.log(`healthy after ${formatDuration(ms)} (${attempts} round${attempts === 1 ? '' : 's'}): ${results.map((r) => `${r.name} ${r.status}`).join(', ')}`);
      return { ms, attempts };
    }
    last = failing.map((r) => `${r.name} ${r.url}: ${failureReason(r)}`).join('; ');
    answeredFailing = failing.some((r) => r.status !== null) ? answeredFailing + 1 : 0;
    if (answeredFailing >= failFast) {
      const tail = app ? await logTail(s, app.logOffset) : '';
      throw new CheckFailedError(`${app?.release ?? 'the app'} is up but unhealthy: ${answeredFailing} answers in a row failed their conditions: ${last}`, {
        hint: `failed after ${formatDuration(performance.now() - started)} (health_failures: ${failFast}; not waiting for health_deadline ${formatDuration(deadlineMs)})${tail ? `; last lines of ${s.target.paths.logFile}:\n${tail}` : ''}`,
      });
    }
    if (performance.now() - loggedAt >= NOT_HEALTHY_LOG_EVERY_MS) {
      io.log(`not healthy yet: ${last}`);
      loggedAt = performance.now();
    }
    const delay = answeredFailing > 0 ? failingDelay : NOT_UP_POLL_MS;
    if (performance.now() + delay >= until) {
      const tail = app ? await logTail(s, app.logOffset) : '';
      throw new CheckFailedError(`${app?.release ?? 'the app'} did not become healthy within ${formatDuration(deadlineMs)}: ${last}`, {
        hint: `checked ${attempts} times${tail ? `; last lines of ${s.target.paths.logFile}:\n${tail}` : ''}`,
      });
    }
    const slept = await race(sleep(delay));
    if (slept === 'exited') throw await exitedError(s, app!, 'right after its start');
    if (answeredFailing > 0) failingDelay = Math.min(failingDelay * 2, 500);
  }
}

/** The configured smoke commands, in the live release; the first failure fails the deploy. */
export async function runSmoke(s: DeploySession, io: PhaseIO): Promise<number> {
  const dir = s.target.paths.current;
  const env = { ...s.config.env, ...(s.env.url ? { LTC_URL: s.env.url } : {}), LTC_ENV: s.environment, LTC_RELEASE: s.release ?? '' };
  const timeoutMs = parseDuration(s.config.command_timeout, 'command_timeout');
  for (const argv of s.config.smoke) {
    io.log(`$ ${displayCommand(argv)}`);
    const r = await s.target.runIn(dir, argv, { env, signal: io.signal, timeoutMs, onLine: io.log }, s.ctx.masker);
    if (r.cancelled) throw new InterruptedError(`interrupted during the smoke test ${displayCommand(argv)}`);
    if (r.exitCode !== 0) {
      throw new CheckFailedError(`smoke test ${displayCommand(argv)} ${r.timedOut ? 'timed out' : `exited with ${r.exitCode}`}`, {
        hint: r.output.trim().split('\n').slice(-8).join('\n') || 'it printed nothing',
      });
    }
  }
  return s.config.smoke.length;
}

const MAX_SCAN_BYTES = 8 << 20;

/**
 * Lines of the app log written since the start that match a `log_scan` pattern. Left out: ltc's
 * own lines, and the app's log of its answers to ltc's health probes before it went green (an
 * access log line `GET /api/health … 503` while it warmed up is what the probes waited for, not a
 * failure; the same line after green is scanned).
 */
export async function scanLog(s: DeploySession, app: StartedApp | undefined, io: PhaseIO): Promise<{ lines: number; scanned: number }> {
  // Green, then gone during the smoke tests (a crash on the first real request, a late fatal error): not a working release.
  if (app?.exit) throw await exitedError(s, app, 'after its health checks had passed');
  const patterns = s.config.log_scan.map((p, i) => userRegex(p, `log_scan[${i}]`));
  if (patterns.length === 0) return { lines: 0, scanned: 0 };
  const offset = app?.logOffset ?? 0;
  const window = await s.target.readLog(offset, MAX_SCAN_BYTES);
  const greenAt = s.greenLogBytes !== undefined ? offset + s.greenLogBytes : undefined;
  const paths = greenAt !== undefined && greenAt > window.from ? await healthPaths(s) : [];
  const { lines, probes } = linesToScan(window, greenAt, paths);
  const bad = lines.filter((l) => patterns.some((p) => p.test(l)));
  io.log(
    `scanned ${lines.length} line(s) of ${s.target.paths.logFile} since the start for ${s.config.log_scan.map((p) => `/${p}/`).join(', ')}` +
      (window.from > offset ? ` (the newest ${MAX_SCAN_BYTES >> 20} MiB of ${((window.from - offset + Buffer.byteLength(window.text)) / (1 << 20)).toFixed(1)} MiB)` : '') +
      (probes ? ` (left out ${probes} line(s) of the app's answers to the health probes before it was healthy)` : ''),
  );
  if (bad.length) {
    throw new CheckFailedError(`the app log has ${bad.length} line(s) matching the log_scan patterns since the start`, {
      hint: s.ctx.masker.mask(bad.slice(0, 5).join('\n')) + (bad.length > 5 ? `\n… and ${bad.length - 5} more in ${s.target.paths.logFile}` : ''),
    });
  }
  return { lines: 0, scanned: lines.length };
}

/**
 * The lines of a piece of the log to scan: not ltc's own, and not the ones that ended before
 * `greenAt` (a byte offset in the file) and name a health path. A line being written at green
 * counts as after it. The piece may start after the start (the newest bytes of a long log): what
 * lies before green is counted from where it starts.
 */
export function linesToScan(window: LogText, greenAt: number | undefined, paths: readonly string[]): { lines: string[]; probes: number } {
  const before = greenAt === undefined ? 0 : Math.max(0, greenAt - window.from);
  // The first `before` characters hold at least that many bytes: only they are encoded.
  const beforeGreen = before > 0 ? countNewlines(Buffer.from(window.text.slice(0, before)).subarray(0, before)) : 0;
  let probes = 0;
  const lines = window.text.split('\n').filter((l, i) => {
    if (!l.trim() || /^\S+ ltc: /.test(l)) return false;
    if (i < beforeGreen && paths.some((p) => mentionsPath(l, p))) {
      probes++;
      return false;
    }
    return true;
  });
  return { lines, probes };
}

function countNewlines(b: Uint8Array): number {
  let n = 0;
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * The request paths under which the app can have logged ltc's health probes: each endpoint on the
 * environment's own origin, as probed (the environment url's path included) and, for one behind a
 * proxy that strips that path, as the endpoint names it. An endpoint on another host is not this app's.
 */
async function healthPaths(s: DeploySession): Promise<string[]> {
  const { resolveEndpointUrl } = await import('../health/run.js');
  let origin: string | undefined;
  try {
    origin = s.env.url ? new URL(s.env.url).origin : undefined;
  } catch {
    origin = undefined;
  }
  return (s.env.health?.endpoints ?? []).flatMap((e) => {
    try {
      const probed = new URL(resolveEndpointUrl(e.url, s.env.url, 'health'));
      if (!e.url.startsWith('/') && probed.origin !== origin) return [];
      return [...new Set([probed.pathname, ...(e.url.startsWith('/') ? [e.url.split(/[?#]/)[0]!] : [])])];
    } catch {
      return [];
    }
  });
}

/**
 * `line` is an access log line of a GET or HEAD of `path` (`GET /api/health HTTP/1.1" 503`,
 * `INFO GET / 200 2ms`): the method right before the path, a space, `?` or `"` (or the end) right
 * after it. Any other line that merely holds the path (`ERROR 1 / 4 workers failed`) is scanned.
 */
export function mentionsPath(line: string, path: string): boolean {
  for (let i = line.indexOf(path); i >= 0; i = line.indexOf(path, i + 1)) {
    const after = line[i + path.length];
    if (after !== undefined && !/[\s?"]/.test(after)) continue;
    if (/(?:^|[\s"])(?:GET|HEAD)\s+$/.test(line.slice(0, i))) return true;
  }
  return false;
}
