// `ltc health` end to end: the built binary against real HTTP(S) servers on 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { LTC, cleanupTempDirs, freePort,  tempDir, type LtcRun } from './helpers/cli.js';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';

interface EndpointJson {
  name: string;
  url: string;
  ok: boolean;
  status: number | null;
  latencyMs: number | null;
  attempts: number;
  error?: string;
  certificateExpiresAt?: string;
  conditions: Array<{ condition: string; ok: boolean; actual: unknown; message: string | null }>;
}
interface HealthJson {
  ok: boolean;
  environment: string | null;
  healthy: boolean;
  endpoints: EndpointJson[];
  error?: { code: string; message: string; hint?: string };
}

const servers: Server[] = [];
let okUrl = '';
let failUrl = '';
let htmlUrl = '';
let hangUrl = '';
let deadUrl = '';
let hangRequests = 0;
let onHangRequest: (() => void) | undefined;

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  server: Server = createServer(),
  protocol: 'http' | 'https' = 'http',
): Promise<string> {
  server.on('request', handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return `${protocol}://127.0.0.1:${addr.port}`;
}

function noStack(r: LtcRun): void {
  expect(r.stderr).not.toMatch(/\n\s{4}at /);
  expect(r.stdout).not.toMatch(/\n\s{4}at /);
}

function health(r: LtcRun): HealthJson {
  expect(r.json, `stdout is one JSON document:\n${r.stdout}\n${r.stderr}`).toBeTypeOf('object');
  return r.json as HealthJson;
}

async function configDir(config: Record<string, unknown>): Promise<string> {
  const dir = await tempDir('ltc-health-');
  await writeFile(join(dir, 'ltc.config.yaml'), stringify(config));
  return dir;
}

beforeAll(async () => {
  okUrl = await serve((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"status":"ok","version":"1.1.0"}');
  });
  failUrl = await serve((_req, res) => {
    res.statusCode = 500;
    res.setHeader('content-type', 'application/json');
    res.end('{"status":"error"}');
  });
  htmlUrl = await serve((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>LifeTimeCircle</title><h1>Service Heft</h1>');
  });
  hangUrl = await serve(() => {
    hangRequests++;
    onHangRequest?.();
    // never answers
  });
  deadUrl = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  await cleanupTempDirs();
});

describe('ltc health --url (no config file needed)', () => {
  it('a healthy URL: exit 0 and every field in --json', async () => {
    const cwd = await tempDir();
    const r = await runLtc(['health', '--url', `${okUrl}/api/health`, '--json'], { cwd });
    expect(r.code).toBe(0);
    const doc = health(r);
    expect(doc).toMatchObject({ ok: true, environment: null, healthy: true });
    expect(doc.endpoints).toHaveLength(1);
    const [e] = doc.endpoints;
    expect(e).toMatchObject({ url: `${okUrl}/api/health`, ok: true, status: 200, attempts: 1 });
    expect(e!.latencyMs).toBeTypeOf('number');
    expect(e!.error).toBeUndefined();
    expect(e!.conditions).toEqual([{ condition: 'status == 200', ok: true, actual: 200, message: null }]);
    noStack(r);
  });

  it('a human table with endpoint, url, status, latency and result', async () => {
    const cwd = await tempDir();
    const r = await runLtc(['health', '--url', `${okUrl}/`, '--url', `${failUrl}/`], { cwd });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ENDPOINT\s+URL\s+STATUS\s+LATENCY\s+RESULT\s+FAILING CONDITION/);
    expect(r.stdout).toMatch(new RegExp(`url1\\s+${okUrl}/\\s+200\\s+\\d+ms\\s+ok`));
    expect(r.stdout).toMatch(new RegExp(`url2\\s+${failUrl}/\\s+500\\s+\\d+ms\\s+FAIL \\(3 attempts\\)\\s+status == 200: status is 500, expected == 200`));
    expect(r.stdout).toMatch(/1 of 2 endpoints failing/);
    expect(r.stdout).not.toMatch(/\u001b\[/);
    noStack(r);
  });

  it('a URL password is never shown, also one too short for the masker, and the table stays aligned', async () => {
    const cwd = await tempDir();
    const withAuth = okUrl.replace('http://', 'http://bob:pw1@');
    const json = await runLtc(['health', '--url', `${withAuth}/api/health`, '--json', '--verbose'], { cwd });
    expect(json.code).toBe(0);
    expect(health(json).endpoints[0]).toMatchObject({ url: `${okUrl.replace('http://', 'http://bob:***@')}/api/health`, ok: true });
    expect(json.stdout + json.stderr).not.toContain('pw1');
    const table = await runLtc(['health', '--url', `${withAuth}/`, '--url', `${okUrl.replace('http://', 'http://bob:s3cr3tpw@')}/`], { cwd });
    expect(table.code).toBe(0);
    expect(table.stdout + table.stderr).not.toMatch(/pw1|s3cr3tpw/);
    const lines = table.stdout.split('\n');
    const statusAt = lines[0]!.indexOf('STATUS');
    expect(lines[1]!.indexOf(' 200 ') + 1).toBe(statusAt);
    expect(lines[2]!.indexOf(' 200 ') + 1).toBe(statusAt);
  });

  it('a 500: exit 1, the JSON document still holds the probe', async () => {
    const r = await runLtc(['health', '--url', `${failUrl}/api/health`, '--json'], { cwd: await tempDir() });
    expect(r.code).toBe(1);
    const doc = health(r);
    expect(doc).toMatchObject({ ok: false, healthy: false });
    expect(doc.endpoints[0]).toMatchObject({ ok: false, status: 500, attempts: 3 });
    expect(doc.endpoints[0]!.conditions[0]).toMatchObject({ ok: false, actual: 500, message: 'status is 500, expected == 200' });
    noStack(r);
  });

  it('a port with nothing listening: connection refused, exit 1', async () => {
    const r = await runLtc(['health', '--url', `${deadUrl}/`, '--json'], { cwd: await tempDir() });
    expect(r.code).toBe(1);
    const e = health(r).endpoints[0]!;
    expect(e).toMatchObject({ ok: false, status: null, latencyMs: null, attempts: 3 });
    expect(e.error).toBe(`connection refused by ${deadUrl.replace('http://', '')}`);
    expect(e.conditions[0]!.message).toMatch(/^no response: connection refused/);
    const human = await runLtc(['health', '--url', `${deadUrl}/`], { cwd: await tempDir() });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/connection refused/);
    noStack(human);
  });

  it('a malformed URL: exit 2 naming it, nothing probed', async () => {
    for (const bad of ['http//127.0.0.1:8080/health', 'not a url', 'ftp://127.0.0.1/x']) {
      const r = await runLtc(['health', '--url', `${okUrl}/`, '--url', bad], { cwd: await tempDir() });
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain(`--url "${bad}" is not a valid http(s) URL`);
      expect(r.stderr).toMatch(/hint: give an absolute URL/);
      expect(r.stdout).not.toMatch(/ENDPOINT/);
      noStack(r);
    }
    const j = await runLtc(['health', '--url', 'nope', '--json'], { cwd: await tempDir() });
    expect(j.code).toBe(2);
    expect(health(j)).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringContaining('"nope"') } });
  });

  it('Ctrl-C while probing: exit 130, no stack trace', async () => {
    const seen = new Promise<void>((resolve) => (onHangRequest = resolve));
    const child = execa(process.execPath, [LTC, 'health', '--url', `${hangUrl}/`], {
      cwd: await tempDir(),
      env: { NO_COLOR: '1', CI: 'true' },
      reject: false,
      stdin: 'ignore',
    });
    await seen;
    child.kill('SIGINT');
    const r = await child;
    onHangRequest = undefined;
    expect(r.exitCode).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    expect(r.stderr).not.toMatch(/\n\s{4}at /);
  });
});

describe('ltc health with a config', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await configDir({
      app: { repo: '.' },
      environments: {
        staging: {
          url: okUrl,
          health: {
            endpoints: [
              { name: 'api', url: '/api/health', conditions: ['status == 200', 'body.status == "ok"', 'response_time < 10000'] },
              { name: 'frontend', url: htmlUrl + '/', conditions: ['status == 200', 'body contains "LifeTimeCircle"', 'body not contains "error"'] },
            ],
          },
        },
        prod: {
          url: okUrl,
          health: {
            timeout: '300ms',
            retries: 1,
            backoff: '10ms',
            endpoints: [
              { name: 'api', url: '/api/health', conditions: ['body.status == "ok"'] },
              { name: 'broken', url: `${failUrl}/api/health`, conditions: ['status == 200', 'body.status == "ok"'] },
              { name: 'html', url: `${htmlUrl}/`, conditions: ['status == 200', 'body.status == "ok"'] },
              { name: 'slow', url: `${hangUrl}/` },
              { name: 'gone', url: `${deadUrl}/`, retries: 0 },
            ],
          },
        },
        empty: { url: okUrl },
      },
    });
  });

  it("a value from the body in a failing condition is shown escaped: the app's escape sequence cannot clear the screen", async () => {
    const hostile = await serve((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: '\u001b[2Jall good\u202e' }));
    });
    const cwd = await configDir({
      app: { repo: '.' },
      environments: { staging: { url: hostile, health: { retries: 0, endpoints: [{ name: 'api', url: '/api/health', conditions: ['body.status == "ok"'] }] } } },
    });
    const r = await runLtc(['health', '--env', 'staging'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('\\u001b[2Jall good\\u202e');
    expect(r.stdout + r.stderr).not.toMatch(/[\u001b\u202e]/);
  });

  it('all endpoints healthy: exit 0 with each condition', async () => {
    const r = await runLtc(['health', '--env', 'staging', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const doc = health(r);
    expect(doc).toMatchObject({ ok: true, environment: 'staging', healthy: true });
    expect(doc.endpoints.map((e) => [e.name, e.url, e.ok, e.status])).toEqual([
      ['api', `${okUrl}/api/health`, true, 200],
      ['frontend', `${htmlUrl}/`, true, 200],
    ]);
    expect(doc.endpoints[0]!.conditions).toEqual([
      { condition: 'status == 200', ok: true, actual: 200, message: null },
      { condition: 'body.status == "ok"', ok: true, actual: 'ok', message: null },
      { condition: 'response_time < 10000', ok: true, actual: expect.any(Number), message: null },
    ]);
    const human = await runLtc(['health', '--env', 'staging'], { cwd: dir });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/2 of 2 endpoints healthy \(environment staging\)/);
  });

  it('a 500, a body that is not JSON, a timeout and a refused connection: exit 1, every probe in the JSON', async () => {
    const before = hangRequests;
    const r = await runLtc(['health', '--env', 'prod', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const doc = health(r);
    expect(doc).toMatchObject({ ok: false, environment: 'prod', healthy: false });
    const by = Object.fromEntries(doc.endpoints.map((e) => [e.name, e]));
    expect(Object.keys(by)).toEqual(['api', 'broken', 'html', 'slow', 'gone']);
    expect(by.api).toMatchObject({ ok: true, attempts: 1 });
    expect(by.broken).toMatchObject({ ok: false, status: 500, attempts: 2 });
    expect(by.broken!.conditions.map((c) => c.ok)).toEqual([false, false]);
    expect(by.broken!.conditions[1]!.message).toBe('body.status is "error", expected == "ok"');
    expect(by.html).toMatchObject({ ok: false, status: 200, attempts: 2 });
    expect(by.html!.conditions[0]!.ok).toBe(true);
    expect(by.html!.conditions[1]!.message).toMatch(/^body is not JSON, so body.status cannot be read/);
    expect(by.slow).toMatchObject({ ok: false, status: null, attempts: 2, error: 'no answer within 300ms' });
    expect(hangRequests - before).toBe(2);
    expect(by.gone).toMatchObject({ ok: false, attempts: 1, error: expect.stringMatching(/^connection refused/) });
    noStack(r);

    const human = await runLtc(['health', '--env', 'prod'], { cwd: dir });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/slow\s.*no answer within 300ms/);
    expect(human.stdout).toMatch(/html\s.*body is not JSON/);
    expect(human.stdout).toMatch(/4 of 5 endpoints failing/);
    noStack(human);
  });

  it('no config found: exit 2 with a hint', async () => {
    const r = await runLtc(['health'], { cwd: await tempDir(), env: { LTC_CONFIG: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: no ltc.config.yaml found/);
    expect(r.stderr).toMatch(/hint: .*ltc init/);
    noStack(r);
  });

  it('a --url path with no config found: exit 2 saying the path needs the config, and the absolute form', async () => {
    const r = await runLtc(['health', '--url', '/api/health'], { cwd: await tempDir(), env: { LTC_CONFIG: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: --url "\/api\/health" is a path, joined to the environment's url from ltc\.config\.yaml, but no ltc\.config\.yaml found/);
    expect(r.stderr).toMatch(/hint: give an absolute URL such as --url http:\/\/127\.0\.0\.1:8080\/api\/health/);
    noStack(r);
  });

  it('an unknown environment: exit 2 with did-you-mean', async () => {
    const r = await runLtc(['health', '--env', 'stagin'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown environment "stagin"/);
    expect(r.stderr).toMatch(/did you mean "staging"/);
    noStack(r);
  });

  it('an environment without health endpoints: exit 2 pointing at the key and --url', async () => {
    const r = await runLtc(['health', '--env', 'empty', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(health(r).error).toMatchObject({ code: 'config', message: expect.stringMatching(/"empty" has no health endpoints/), hint: expect.stringMatching(/--url/) });
  });

  it('a condition that does not parse: exit 2 with file:line:column, nothing probed', async () => {
    const bad = await configDir({
      app: { repo: '.' },
      environments: { staging: { url: failUrl, health: { endpoints: [{ name: 'api', url: '/', conditions: ['status === 200'] }] } } },
    });
    const r = await runLtc(['health'], { cwd: bad });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ltc\.config\.yaml:\d+:\d+: environments\.staging\.health\.endpoints\[0\]\.conditions\[0\]: condition "status === 200" does not parse/);
    noStack(r);
  });

  it('a path given to --url is joined to the environment url', async () => {
    const r = await runLtc(['health', '--env', 'staging', '--url', '/api/health', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(health(r)).toMatchObject({ environment: 'staging', endpoints: [{ url: `${okUrl}/api/health`, ok: true }] });
  });
});

describe('ltc health over https (certificate_expiration from the real certificate)', () => {
  let dir = '';
  let httpsUrl = '';

  beforeAll(async () => {
    try {
      await execa('openssl', ['version']);
    } catch {
      throw new Error('openssl is missing: install the Debian package openssl (apt-get install openssl)');
    }
    dir = await tempDir('ltc-health-tls-');
    await execa('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ]);
    const server = createHttpsServer({ key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) });
    httpsUrl = await serve(
      (_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end('{"status":"ok"}');
      },
      server,
      'https',
    );
    await writeFile(
      join(dir, 'ltc.config.yaml'),
      stringify({
        app: { repo: '.' },
        environments: {
          prod: {
            url: httpsUrl,
            health: {
              retries: 0,
              endpoints: [{ name: 'api', url: '/api/health', ca: 'cert.pem', conditions: ['status == 200', 'body.status == "ok"', 'certificate_expiration > 14d'] }],
            },
          },
          strict: {
            url: httpsUrl,
            health: { retries: 0, endpoints: [{ name: 'api', url: '/api/health', insecure: true, conditions: ['certificate_expiration > 60d'] }] },
          },
          untrusted: {
            url: httpsUrl,
            health: { retries: 0, endpoints: [{ name: 'api', url: '/api/health', conditions: ['certificate_expiration > 14d'] }] },
          },
          plain: {
            url: okUrl,
            health: { retries: 0, endpoints: [{ name: 'api', url: '/', conditions: ['certificate_expiration > 14d'] }] },
          },
        },
      }),
    );
  });

  it('a 30-day certificate passes certificate_expiration > 14d', async () => {
    const r = await runLtc(['health', '--env', 'prod', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const e = health(r).endpoints[0]!;
    expect(e).toMatchObject({ ok: true, status: 200, url: `${httpsUrl}/api/health` });
    const daysLeft = (Date.parse(e.certificateExpiresAt!) - Date.now()) / 86_400_000;
    expect(daysLeft).toBeGreaterThan(29);
    expect(daysLeft).toBeLessThan(31);
    expect(e.conditions[2]).toMatchObject({ condition: 'certificate_expiration > 14d', ok: true, actual: expect.stringMatching(/^(29d|30d) /) });
  });

  it('the same certificate fails certificate_expiration > 60d: exit 1 with the time left', async () => {
    const r = await runLtc(['health', '--env', 'strict', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const e = health(r).endpoints[0]!;
    expect(e).toMatchObject({ ok: false, status: 200 });
    expect(e.conditions[0]!.message).toMatch(/^certificate expires in (29d|30d) \d+h .*expected > 60d/);
    const human = await runLtc(['health', '--env', 'strict'], { cwd: dir });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/certificate_expiration > 60d: certificate expires in/);
  });

  it('a self-signed certificate without ca or insecure is a TLS error naming the fix', async () => {
    const r = await runLtc(['health', '--env', 'untrusted', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(health(r).endpoints[0]!.error).toMatch(/^TLS: .*self-signed.*(ca: <pem file>|insecure: true)/);
    noStack(r);
  });

  it('certificate_expiration on an http URL fails saying it is not https', async () => {
    const r = await runLtc(['health', '--env', 'plain', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(health(r).endpoints[0]!.conditions[0]!.message).toBe('no certificate: the URL is not https');
  });
});
