// Module-level tests of the health pieces: condition parsing and evaluation, JSON paths,
// durations, error normalisation, and the probe loop (retries, failure threshold, abort,
// concurrency) against real HTTP servers on 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  durationMs,
  evaluateCondition,
  formatTimeLeft,
  parseCondition,
  parseJsonPath,
  readJsonPath,
  type Observation,
} from '../src/http/conditions.js';
import { backoffDelay, describeRequestError, probe, type ProbeTarget } from '../src/http/probe.js';
import { probeEndpoints, resolveEndpoints } from '../src/health/run.js';
import { parseConfig } from '../src/config/parse.js';
import { ConfigError, InterruptedError } from '../src/core/errors.js';

const obs = (o: Partial<Observation> = {}): Observation => ({
  status: 200,
  responseTimeMs: 12,
  body: '{"status":"ok","version":"1.1.0","checks":[{"name":"db","ok":true,"ms":3}],"tags":["a","b"],"count":7,"nothing":null}',
  isHttps: false,
  ...o,
});

const check = (condition: string, o: Partial<Observation> = {}) => evaluateCondition(parseCondition(condition), obs(o));

describe('parseCondition', () => {
  it('reads every subject and operator', () => {
    expect(parseCondition('status == 200')).toMatchObject({ subject: { kind: 'status' }, op: '==', value: 200 });
    for (const op of ['!=', '<', '<=', '>', '>=']) expect(parseCondition(`status ${op} 300`).op).toBe(op);
    expect(parseCondition('response_time < 500')).toMatchObject({ subject: { kind: 'response_time' }, op: '<', value: 500 });
    expect(parseCondition('response_time < 1.5s').value).toBe(1500);
    expect(parseCondition('body.status == "ok"')).toMatchObject({ subject: { kind: 'body_path', path: ['status'] }, value: 'ok' });
    expect(parseCondition('body.a.b[0].c != 3')).toMatchObject({ subject: { kind: 'body_path', path: ['a', 'b', 0, 'c'] }, op: '!=', value: 3 });
    expect(parseCondition('body.ready == true').value).toBe(true);
    expect(parseCondition('body.err == null').value).toBeNull();
    expect(parseCondition('body contains "LifeTimeCircle"')).toMatchObject({ subject: { kind: 'body' }, op: 'contains', value: 'LifeTimeCircle' });
    expect(parseCondition('body not contains "error"')).toMatchObject({ op: 'not contains', value: 'error' });
    expect(parseCondition('certificate_expiration > 14d')).toMatchObject({ subject: { kind: 'certificate_expiration' }, op: '>', value: 14 * 86_400_000 });
    expect(parseCondition('certificate_expiration >= 48h').value).toBe(48 * 3_600_000);
  });

  it('accepts Gatus spelling and compact forms', () => {
    expect(parseCondition('[STATUS] == 200').subject).toEqual({ kind: 'status' });
    expect(parseCondition('[BODY].status == UP')).toMatchObject({ subject: { kind: 'body_path', path: ['status'] }, value: 'UP' });
    expect(parseCondition('[CERTIFICATE_EXPIRATION] > 720h').value).toBe(720 * 3_600_000);
    expect(parseCondition('status==200').value).toBe(200);
    expect(parseCondition("body.status == 'ok'").value).toBe('ok');
    expect(parseCondition('body["odd key"][1] == "x"').subject).toEqual({ kind: 'body_path', path: ['odd key', 1] });
  });

  it('a condition that does not parse is a ConfigError naming it', () => {
    const bad: Array<[string, RegExp]> = [
      ['status = 200', /unknown operator "=": use ==/],
      ['stauts == 200', /unknown subject "stauts"/],
      ['status == "ok"', /status compares with a number/],
      ['status contains 2', /status takes/],
      ['certificate_expiration > 14', /duration such as 14d/],
      ['response_time < fast', /milliseconds or a duration/],
      ['body > 3', /body takes contains/],
      ['body.status == "ok', /unterminated/],
      ['body..x == 1', /expected a key name/],
      ['body.count > "x"', /compares numbers/],
      ['status ==', /missing value/],
      ['status', /missing operator/],
      ['', /empty/],
    ];
    for (const [text, reason] of bad) {
      let caught: unknown;
      try {
        parseCondition(text, 'endpoint "api"');
      } catch (err) {
        caught = err;
      }
      expect(caught, text).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).message).toContain(`condition "${text}" does not parse`);
      expect((caught as ConfigError).message).toContain('endpoint "api"');
      expect((caught as ConfigError).message).toMatch(reason);
      expect((caught as ConfigError).exitCode).toBe(2);
    }
  });
});

describe('JSON paths and durations', () => {
  it('parses and reads paths, saying when a key is missing', () => {
    expect(parseJsonPath('.a.b[0].c')).toEqual(['a', 'b', 0, 'c']);
    expect(parseJsonPath('')).toEqual([]);
    const doc = { a: { b: [{ c: 'deep' }] }, 'odd key': [1, 2] };
    expect(readJsonPath(doc, ['a', 'b', 0, 'c'])).toEqual({ found: true, value: 'deep' });
    expect(readJsonPath(doc, ['odd key', 1])).toEqual({ found: true, value: 2 });
    expect(readJsonPath(doc, ['a', 'b', 1, 'c']).found).toBe(false);
    expect(readJsonPath(doc, ['a', 'x']).found).toBe(false);
    expect(readJsonPath(doc, ['a', 'b', 'length']).found).toBe(false);
  });

  it('reads durations in ms, s, m, h, d', () => {
    expect(durationMs('500ms')).toBe(500);
    expect(durationMs('5s')).toBe(5000);
    expect(durationMs('2m')).toBe(120_000);
    expect(durationMs('48h')).toBe(172_800_000);
    expect(durationMs('14d')).toBe(1_209_600_000);
    expect(durationMs('14')).toBeUndefined();
    expect(durationMs('14 days')).toBeUndefined();
    expect(formatTimeLeft(30 * 86_400_000 - 3_600_000)).toBe('29d 23h');
    expect(formatTimeLeft(-2 * 86_400_000)).toBe('expired 2d 0h ago');
  });
});

describe('evaluateCondition', () => {
  it('status and response_time', () => {
    expect(check('status == 200')).toEqual({ condition: 'status == 200', ok: true, actual: 200 });
    expect(check('status == 200', { status: 500 })).toMatchObject({ ok: false, actual: 500, message: 'status is 500, expected == 200' });
    expect(check('status < 400', { status: 302 }).ok).toBe(true);
    expect(check('response_time < 500', { responseTimeMs: 499 }).ok).toBe(true);
    expect(check('response_time < 500', { responseTimeMs: 612 })).toMatchObject({ ok: false, actual: 612, message: expect.stringMatching(/612ms, expected < 500ms/) });
  });

  it('JSON paths compare strings, numbers, booleans and null', () => {
    expect(check('body.status == "ok"')).toMatchObject({ ok: true, actual: 'ok' });
    expect(check('body.status == "error"')).toMatchObject({ ok: false, actual: 'ok', message: 'body.status is "ok", expected == "error"' });
    expect(check('body.count == 7').ok).toBe(true);
    expect(check('body.count == "7"')).toMatchObject({ ok: false, message: expect.stringMatching(/is 7 \(a number\)/) });
    expect(check('body.count >= 5').ok).toBe(true);
    expect(check('body.count < 5').ok).toBe(false);
    expect(check('body.checks[0].ok == true').ok).toBe(true);
    expect(check('body.checks[0].name != "db"').ok).toBe(false);
    expect(check('body.nothing == null').ok).toBe(true);
    expect(check('body.tags contains "b"').ok).toBe(true);
    expect(check('body.tags not contains "c"').ok).toBe(true);
    expect(check('body.version contains "1.1"').ok).toBe(true);
    expect(check('body.status > 3')).toMatchObject({ ok: false, message: expect.stringMatching(/not a number/) });
  });

  it('a JSON path into a body that is not JSON fails saying so; a missing key says which', () => {
    const r = check('body.status == "ok"', { body: '<html>LifeTimeCircle</html>' });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/^body is not JSON, so body.status cannot be read/);
    expect(check('body.checks[3].ok == true')).toMatchObject({ ok: false, actual: null, message: 'body has no body.checks[3].ok' });
  });

  it('body contains / not contains / ==', () => {
    expect(check('body contains "LifeTimeCircle"', { body: '<h1>LifeTimeCircle</h1>' }).ok).toBe(true);
    expect(check('body contains "Heft"', { body: '<h1>LifeTimeCircle</h1>' })).toMatchObject({ ok: false, message: 'body does not contain "Heft"' });
    expect(check('body not contains "error"', { body: 'an error page' })).toMatchObject({ ok: false, message: 'body contains "error"' });
    expect(check('body == "pong"', { body: 'pong\n' }).ok).toBe(true);
  });

  it('certificate_expiration reads the time left, and fails for http or a missing certificate', () => {
    const now = Date.parse('2026-03-01T00:00:00Z');
    const expires = new Date(now + 30 * 86_400_000);
    expect(check('certificate_expiration > 14d', { isHttps: true, certificateExpiresAt: expires, now })).toMatchObject({ ok: true, actual: '30d 0h' });
    const r = check('certificate_expiration > 60d', { isHttps: true, certificateExpiresAt: expires, now });
    expect(r).toMatchObject({ ok: false, actual: '30d 0h' });
    expect(r.message).toMatch(/expires in 30d 0h \(2026-03-31T00:00:00.000Z\), expected > 60d 0h/);
    expect(check('certificate_expiration > 14d')).toMatchObject({ ok: false, message: 'no certificate: the URL is not https' });
    expect(check('certificate_expiration > 14d', { isHttps: true, certificateExpiresAt: null }).ok).toBe(false);
  });

  it('no response fails every condition with the reason', () => {
    expect(check('status == 200', { status: null, body: null, responseTimeMs: null, error: 'connection refused by 127.0.0.1:9' })).toEqual({
      condition: 'status == 200',
      ok: false,
      actual: null,
      message: 'no response: connection refused by 127.0.0.1:9',
    });
  });
});

describe('request errors and backoff', () => {
  const errWith = (code: string, message = code) => Object.assign(new Error(message), { code });
  it('normalises connection, DNS, timeout and TLS errors', () => {
    const url = 'https://app.example:8443/api/health';
    expect(describeRequestError(errWith('ECONNREFUSED'), url, 5000)).toBe('connection refused by app.example:8443');
    expect(describeRequestError(new AggregateError([errWith('ECONNREFUSED')]), url, 5000)).toBe('connection refused by app.example:8443');
    expect(describeRequestError(errWith('ENOTFOUND'), url, 5000)).toBe('DNS lookup failed: no such host app.example');
    expect(describeRequestError(errWith('UND_ERR_HEADERS_TIMEOUT'), url, 5000)).toBe('no answer within 5.0s');
    expect(describeRequestError(Object.assign(new Error('x'), { name: 'TimeoutError' }), url, 500)).toBe('no answer within 500ms');
    expect(describeRequestError(errWith('DEPTH_ZERO_SELF_SIGNED_CERT'), url, 5000)).toMatch(/^TLS: .*self-signed.*insecure: true/);
    expect(describeRequestError(errWith('CERT_HAS_EXPIRED'), url, 5000)).toBe('TLS: the certificate of app.example:8443 has expired');
  });

  it('doubles the backoff and caps it', () => {
    expect([2, 3, 4, 5].map((n) => backoffDelay(n, 100, 1000))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(9, 100, 1000)).toBe(1000);
  });
});

// --- real HTTP on 127.0.0.1 ------------------------------------------------------------------

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return `http://127.0.0.1:${addr.port}`;
}

const target = (url: string, o: Partial<ProbeTarget> = {}): ProbeTarget => ({
  name: 'api',
  url,
  method: 'GET',
  headers: {},
  conditions: [parseCondition('status == 200')],
  timeoutMs: 2000,
  retries: 2,
  backoffMs: 10,
  maxBackoffMs: 100,
  insecure: false,
  maxBodyBytes: 1024 * 1024,
  ...o,
});

describe('probe (real HTTP)', () => {
  it('retries until an attempt passes and stops there', async () => {
    let hits = 0;
    const base = await serve((_req, res) => {
      hits++;
      res.statusCode = hits < 3 ? 503 : 200;
      res.end('{"status":"ok"}');
    });
    const r = await probe(target(`${base}/`, { retries: 5 }), new AbortController().signal);
    expect(r).toMatchObject({ ok: true, status: 200, attempts: 3 });
    expect(hits).toBe(3);
  });

  it('failure_threshold stops after that many consecutive failures; default is every attempt', async () => {
    let hits = 0;
    const base = await serve((_req, res) => {
      hits++;
      res.statusCode = 500;
      res.end('{"status":"error"}');
    });
    const limited = await probe(target(`${base}/`, { retries: 5, failureThreshold: 2 }), new AbortController().signal);
    expect(limited).toMatchObject({ ok: false, status: 500, attempts: 2 });
    expect(hits).toBe(2);
    const all = await probe(target(`${base}/`, { retries: 2 }), new AbortController().signal);
    expect(all.attempts).toBe(3);
    const raised = await probe(target(`${base}/`, { retries: 0, failureThreshold: 3 }), new AbortController().signal);
    expect(raised.attempts).toBe(3);
  });

  it('sends method and headers, and caps the body it reads', async () => {
    let seen: { method?: string; header?: string } = {};
    const base = await serve((req, res) => {
      seen = { method: req.method, header: req.headers['x-probe'] as string };
      res.end('x'.repeat(5000) + 'TAIL');
    });
    const r = await probe(
      target(`${base}/`, { method: 'POST', headers: { 'x-probe': 'ltc' }, maxBodyBytes: 1000, conditions: [parseCondition('body contains "TAIL"')] }),
      new AbortController().signal,
    );
    expect(seen).toEqual({ method: 'POST', header: 'ltc' });
    expect(r.ok).toBe(false);
    expect(r.conditions[0]!.message).toMatch(/does not contain "TAIL" \(only the first part/);
  });

  it('an aborted signal (Ctrl-C) ends the probe with InterruptedError', async () => {
    const base = await serve(() => undefined); // never answers
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 100);
    await expect(probe(target(`${base}/`, { timeoutMs: 30_000 }), ctl.signal)).rejects.toBeInstanceOf(InterruptedError);
  });
});

describe('probeEndpoints', () => {
  it('probes every endpoint at the same time (a server that answers only once all have arrived)', async () => {
    const n = 40;
    const waiting: ServerResponse[] = [];
    let maxInFlight = 0;
    const base = await serve((_req, res) => {
      waiting.push(res);
      maxInFlight = Math.max(maxInFlight, waiting.length);
      if (waiting.length === n) for (const w of waiting.splice(0)) w.end('{"status":"ok"}');
    });
    const endpoints = Array.from({ length: n }, (_, i) => ({ name: `e${i}`, url: `/e${i}`, conditions: ['body.status == "ok"'] }));
    const results = await probeEndpoints(endpoints, { baseUrl: base, timeout: '10s', retries: 0 }, new AbortController().signal);
    expect(results.map((r) => r.name)).toEqual(endpoints.map((e) => e.name));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(maxInFlight).toBe(n);
  });

  it('bad input fails before any request is sent', async () => {
    let hits = 0;
    const base = await serve((_req, res) => {
      hits++;
      res.end('ok');
    });
    const signal = new AbortController().signal;
    await expect(probeEndpoints([{ name: 'a', url: `${base}/` }, { name: 'b', url: `${base}/`, conditions: ['status = 200'] }], {}, signal)).rejects.toThrow(
      /endpoint "b": condition "status = 200" does not parse/,
    );
    await expect(probeEndpoints([{ name: 'a', url: '/api/health' }], {}, signal)).rejects.toThrow(/is a path, but the environment has no url/);
    await expect(probeEndpoints([{ name: 'a', url: 'ftp://x/' }], {}, signal)).rejects.toBeInstanceOf(ConfigError);
    await expect(resolveEndpoints([{ name: 'a', url: `${base}/`, ca: '/nonexistent/ca.pem' }])).rejects.toThrow(/cannot read the CA file/);
    expect(hits).toBe(0);
  });

  it('joins paths to the environment url and reports connection refused as data', async () => {
    const base = await serve((_req, res) => res.end('{"status":"ok"}'));
    const [r] = await probeEndpoints([{ name: 'api', url: '/api/health' }], { baseUrl: `${base}/`, retries: 0 }, new AbortController().signal);
    expect(r).toMatchObject({ ok: true, url: `${base}/api/health`, attempts: 1 });
    const dead = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    const [refused] = await probeEndpoints([{ name: 'gone', url: `http://127.0.0.1:${dead}/` }], { retries: 1, backoff: 5 }, new AbortController().signal);
    expect(refused).toMatchObject({ ok: false, status: null, latencyMs: null, attempts: 2, error: `connection refused by 127.0.0.1:${dead}` });
    expect(refused!.conditions[0]).toMatchObject({ ok: false, message: expect.stringMatching(/^no response: connection refused/) });
  });
});

describe('health config schema', () => {
  const config = (endpoints: string) => `app: { repo: . }
environments:
  staging:
    url: http://127.0.0.1:8080
    health:
      endpoints:
${endpoints}
`;
  it('a condition that does not parse is a config error with file:line:column', () => {
    expect(() => parseConfig('ltc.config.yaml', config(`        - name: api\n          url: /api/health\n          conditions: ['status == 200', 'body.status = "ok"']`))).toThrow(
      /ltc.config.yaml:9:41: environments.staging.health.endpoints\[0\].conditions\[1\]: condition "body.status = \\?"ok\\?"" does not parse/,
    );
  });
  it('a malformed endpoint url and duplicate names are config errors', () => {
    expect(() => parseConfig('c.yaml', config(`        - { name: api, url: 'api/health' }`))).toThrow(/endpoints\[0\].url: "api\/health" is neither an http\(s\) URL nor a path/);
    expect(() => parseConfig('c.yaml', config(`        - { name: api, url: / }\n        - { name: api, url: /x }`))).toThrow(/endpoints\[1\].name: endpoint name "api" is used twice/);
  });
  it('insecure and ca are accepted per endpoint', () => {
    const c = parseConfig('c.yaml', config(`        - { name: api, url: 'https://x.example/', insecure: true, ca: certs/ca.pem }`));
    expect(c.environments.staging!.health!.endpoints[0]).toMatchObject({ insecure: true, ca: 'certs/ca.pem', conditions: ['status == 200'] });
  });
});
