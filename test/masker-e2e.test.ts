/**
 * End to end through the built binary (issue 10, security 1 and 2):
 * - a deploy whose pre-switch hook prints the app's secret hex-encoded, form-encoded and
 *   percent-encoded in lower case: none of those forms reaches the terminal or the run journal;
 *   the build command, the hook and the started app see none of ltc's credentials;
 * - a runbook whose `wait` and `http` steps probe a URL with a secret in its path and query
 *   (printed as the WHATWG URL serializer re-encodes it: `Summer%202026%off`): never shown.
 * Real processes, the demo app served on 127.0.0.1, a real HTTP server answering 500.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, runLtc } from './helpers/cli.js';
import { appPid, makeStage, stopStage, type Stage } from './helpers/deploy.js';
import { journalText, opsDir } from './helpers/runbooks.js';

let stage: Stage | undefined;
let server: Server | undefined;

afterAll(async () => {
  if (stage) await stopStage(stage);
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await cleanupTempDirs();
});

const lowerPercent = (v: string) => encodeURIComponent(v).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

function forms(v: string): Record<string, string> {
  return {
    plain: v,
    hex: Buffer.from(v).toString('hex'),
    HEX: Buffer.from(v).toString('hex').toUpperCase(),
    form: new URLSearchParams({ p: v }).toString().slice(2),
    lowerPercent: lowerPercent(v),
    upperPercent: encodeURIComponent(v),
    base64: Buffer.from(v).toString('base64'),
  };
}

function expectNone(where: string, text: string, values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) expect(text.includes(value), `${name} in ${where}`).toBe(false);
}

describe('a deploy hook printing the secret in other encodings', () => {
  it('hex, form and lower-case percent forms are masked in the terminal and journal; build, hook and app see no ltc credential', async () => {
    const PASSWORD = `Summer 2026%off/ä+&=?#${randomBytes(6).toString('hex')}`;
    const VAULT_TOKEN = `hvs.${randomBytes(12).toString('hex')}`;
    const printForms = [
      "const v = process.env.APP_PASSWORD;",
      "console.log('hex ' + Buffer.from(v).toString('hex'));",
      "console.log('HEX ' + Buffer.from(v).toString('hex').toUpperCase());",
      "console.log('form ' + new URLSearchParams({ p: v }).toString());",
      "console.log('pct ' + encodeURIComponent(v).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));",
      "console.log('hook master=' + (process.env.LTC_MASTER_KEY ?? 'unset') + ' vault=' + (process.env.VAULT_TOKEN ?? 'unset'));",
    ].join(' ');
    stage = await makeStage({
      secret: false,
      environment: { secrets: { backend: 'file', required: [{ name: 'APP_PASSWORD', kind: 'string' }] } },
      target: {
        build: [['npm', 'run', 'build'], ['node', '-e', "console.log('build master=' + (process.env.LTC_MASTER_KEY ?? 'unset'))"]],
        pre_switch: [['node', '-e', printForms]],
      },
    });
    const set = await runLtc(['secrets', 'set', 'APP_PASSWORD', '--env', 'staging', '--yes'], { cwd: stage.ops, env: { ...stage.env, VAULT_TOKEN }, input: PASSWORD });
    expect(set.code, set.stderr).toBe(0);
    const r = await runLtc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging', '--verbose'], {
      cwd: stage.ops,
      env: { ...stage.env, VAULT_TOKEN },
      timeout: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout + r.stderr;
    expect(text).toMatch(/hex \*\*\*/);
    expect(text).toMatch(/HEX \*\*\*/);
    expect(text).toMatch(/form p=\*\*\*/);
    expect(text).toMatch(/pct \*\*\*/);
    expect(text).toContain('build master=unset');
    expect(text).toContain('hook master=unset vault=unset');
    const journal = await journalText(stage.ops);
    expect(journal).toContain('pct ***');
    const secrets = { ...forms(PASSWORD), master: stage.env.LTC_MASTER_KEY!, vault: VAULT_TOKEN };
    expectNone('terminal', text, secrets);
    expectNone('journal', journal, secrets);
    // The started app: its environment has its secret, not ltc's credentials.
    const pid = appPid(stage);
    expect(pid).toBeGreaterThan(0);
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain(`APP_PASSWORD=${PASSWORD}`);
    expect(environ.some((e) => e.startsWith('LTC_MASTER_KEY=') || e.startsWith('VAULT_TOKEN='))).toBe(false);
  }, 180_000);
});

describe('a secret in an http / wait step URL', () => {
  it('is masked as the URL serializer prints it (Summer%202026%off), in path and query', async () => {
    const seen: string[] = [];
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(500, { 'content-type': 'text/plain' }).end('down');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const TOKEN = 'Summer 2026%off';
    const runbook = `name: url secret
inputs:
  token: { secret: true, required: true }
steps:
  - id: wait
    continue_on_error: true
    wait:
      until: { http: "http://127.0.0.1:${port}/check/\${{ inputs.token }}?t=\${{ inputs.token }}" }
      timeout: 1s
      interval: 300ms
  - id: probe
    http: "http://127.0.0.1:${port}/check/\${{ inputs.token }}?t=\${{ inputs.token }}"
`;
    const dir = await opsDir({ u: runbook });
    const r = await runLtc(['runbook', 'run', 'u', '--input', `token=${TOKEN}`, '--verbose'], { cwd: dir });
    expect(r.code).toBe(1);
    // It really was sent as the serializer writes it (the request reached the server that way).
    expect(seen).toContain('/check/Summer%202026%off?t=Summer%202026%off');
    expect(r.stderr).toContain(`GET http://127.0.0.1:${port}/check/***?t=***`);
    const journal = await journalText(dir);
    const values = { plain: TOKEN, serialized: 'Summer%202026%off', ...forms(TOKEN) };
    expectNone('stdout', r.stdout, values);
    expectNone('stderr', r.stderr, values);
    expectNone('journal', journal, values);
  });
});
