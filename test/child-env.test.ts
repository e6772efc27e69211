/**
 * ltc's own credentials never reach what it runs (issue 10, security 1). With LTC_MASTER_KEY,
 * VAULT_TOKEN, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and NODE_AUTH_TOKEN in ltc's
 * environment, a gate and a runbook `run`/`script` step that print `env` or `printenv
 * LTC_MASTER_KEY` see none of them (allow-list: src/exec/child-env.ts); what `env:` gives a
 * step does reach it; a credential that reaches output by another way (a file the command
 * reads) is masked, because ltc registers its credentials when it starts; gate logs, JUnit XML,
 * gate results and run journals are mode 0600 in 0700 folders. The built binary, real processes.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, runLtc, tempDir } from './helpers/cli.js';
import { journalText, opsDir } from './helpers/runbooks.js';

afterAll(cleanupTempDirs);

const CREDENTIALS = {
  LTC_MASTER_KEY: `ltc-master-${randomBytes(12).toString('hex')}`,
  VAULT_TOKEN: `hvs.${randomBytes(12).toString('hex')}`,
  AWS_SECRET_ACCESS_KEY: randomBytes(20).toString('base64'),
  AWS_SESSION_TOKEN: `sess-${randomBytes(16).toString('hex')}`,
  NODE_AUTH_TOKEN: `npm_${randomBytes(12).toString('hex')}`,
};
/** What ltc's environment holds besides: the allow-listed ones pass, others do not. */
const ENV = { ...CREDENTIALS, TZ: 'Europe/Berlin', NODE_ENV: 'ltc-test-node-env', SOME_OTHER_VAR: 'not-on-the-list' };

function expectNoCredential(where: string, text: string): void {
  for (const [name, value] of Object.entries(CREDENTIALS)) {
    expect(text.includes(value), `${name}'s value in ${where}`).toBe(false);
    expect(text.includes(Buffer.from(value).toString('hex')), `${name}'s value (hex) in ${where}`).toBe(false);
    expect(new RegExp(`^${name}=`, 'm').test(text), `${name}= in ${where}`).toBe(false);
  }
}

const mode = (file: string) => statSync(file).mode & 0o777;

let keyFile: string;

beforeAll(async () => {
  // A file holding the master key: a command that reads it prints the key by a way no env filter stops.
  const dir = await tempDir('ltc-child-env-key-');
  keyFile = join(dir, 'key.txt');
  await writeFile(keyFile, `${CREDENTIALS.LTC_MASTER_KEY}\n${Buffer.from(CREDENTIALS.VAULT_TOKEN).toString('hex')}\n`);
});

describe('gates: an allow-listed environment', () => {
  it('a gate printing env / printenv LTC_MASTER_KEY sees no credential; the gate log, JUnit XML and terminal hold none; files are 0600', async () => {
    const root = await tempDir('ltc-child-env-gates-');
    const app = join(root, 'app');
    await execa('git', ['init', '-q', '-b', 'main', app]);
    await writeFile(join(app, 'README.md'), 'app\n');
    await execa('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', 'commit', '-qm', 'first', '--allow-empty'], { cwd: app });
    const ops = join(root, 'ops');
    await execa('mkdir', [ops]);
    const gates = [
      { name: 'env', run: ['env'], env: { GIVEN_BY_GATE: 'given-value-1' } },
      { name: 'printenv', run: ['printenv', 'LTC_MASTER_KEY'], required: false },
      { name: 'reads-key', run: ['cat', keyFile], required: false },
    ];
    await writeFile(join(ops, 'ltc.config.yaml'), stringify({ version: 1, app: { name: 'demo', repo: app }, gates }));
    const r = await runLtc(['gates', 'run', '--ref', 'main', '--junit', 'reports/gates.xml', '--no-install', '--verbose'], { cwd: ops, env: ENV });
    expect(r.stderr + r.stdout).toMatch(/printenv/);
    const state = join(ops, '.ltc', 'gates');
    const result = JSON.parse(await readFile(join(state, readdirSync(state).find((f) => f.endsWith('.json'))!), 'utf8')) as {
      gates: Array<{ name: string; status: string; exitCode: number | null; log: string }>;
    };
    const byName = Object.fromEntries(result.gates.map((g) => [g.name, g]));
    expect(byName.env!.status).toBe('passed');
    // printenv exits 1 when the variable is not set: the gate does not have it.
    expect(byName.printenv).toMatchObject({ status: 'failed', exitCode: 1 });
    expect(byName['reads-key']!.status).toBe('passed');

    const envLog = await readFile(byName.env!.log, 'utf8');
    expect(envLog).toMatch(/^GIVEN_BY_GATE=given-value-1$/m); // the gate's env: reaches it
    expect(envLog).toMatch(/^TZ=Europe\/Berlin$/m); // allow-listed
    expect(envLog).toMatch(/^NODE_ENV=ltc-test-node-env$/m); // NODE_* that is not a secret
    expect(envLog).toMatch(/^LTC_GATE=env$/m);
    expect(envLog).not.toMatch(/^SOME_OTHER_VAR=/m); // not on the list
    expect(envLog).not.toMatch(/^NODE_AUTH_TOKEN=/m); // NODE_* but a credential
    const keyLog = await readFile(byName['reads-key']!.log, 'utf8');
    expect(keyLog).toMatch(/^\*\*\*$/m); // registered with the masker when ltc started

    const junit = await readFile(join(ops, 'reports', 'gates.xml'), 'utf8');
    expect(junit).toContain('printenv');
    for (const [where, text] of [['stdout', r.stdout], ['stderr', r.stderr], ['junit', junit], ['env log', envLog], ['key log', keyLog], ['printenv log', await readFile(byName.printenv!.log, 'utf8')]] as const) {
      expectNoCredential(where, text);
    }
    for (const g of result.gates) expect(mode(g.log), g.log).toBe(0o600);
    expect(mode(join(ops, 'reports', 'gates.xml'))).toBe(0o600);
    for (const f of readdirSync(state).filter((f) => f.endsWith('.json'))) expect(mode(join(state, f))).toBe(0o600);
    expect(mode(join(state, readdirSync(state).find((f) => !f.includes('.'))!))).toBe(0o700); // the logs folder
  });
});

describe('runbook run and script steps: an allow-listed environment', () => {
  const runbook = `name: child env
steps:
  - id: env
    run: [env]
  - id: printenv
    run: { command: [printenv, LTC_MASTER_KEY], ok_exit_codes: [1] }
  - id: given
    run:
      command: [printenv, GIVEN_KEY, GIVEN_PLAIN]
      env: { GIVEN_KEY: "\${{ env.LTC_MASTER_KEY }}", GIVEN_PLAIN: plain-given-value }
  - id: reads-key
    run: [cat, "${'${{ inputs.key_file }}'}"]
  - id: script
    script: "echo('master=' + (process.env.LTC_MASTER_KEY ?? 'unset') + ' vault=' + (process.env.VAULT_TOKEN ?? 'unset'))"
inputs:
  key_file: { required: true }
`;

  it('a step printing env / printenv LTC_MASTER_KEY sees no credential; env: reaches it, masked; terminal and journal hold none; journal 0600', async () => {
    const dir = await opsDir({ child: runbook });
    const r = await runLtc(['runbook', 'run', 'child', '--input', `key_file=${keyFile}`, '--verbose', '--json'], { cwd: dir, env: ENV });
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    const steps = (r.json as { steps: Array<{ id: string; outputs: Record<string, unknown> }> }).steps;
    const out = (id: string) => steps.find((s) => s.id === id)!.outputs;
    expect(out('printenv').exit_code).toBe(1);
    expect(out('env').stdout).toMatch(/^TZ=Europe\/Berlin$/m);
    expect(out('env').stdout).not.toMatch(/^SOME_OTHER_VAR=/m);
    // Given on purpose through env: it reaches the step, and what it prints is masked.
    expect(out('given').stdout).toBe('***\nplain-given-value');
    expect(out('reads-key').stdout).toBe('***\n***');
    expect(out('script').stdout).toBe('master=unset vault=unset');
    const journal = await journalText(dir);
    expect(journal).toContain('plain-given-value');
    expectNoCredential('stdout', r.stdout);
    expectNoCredential('stderr', r.stderr);
    expectNoCredential('journal', journal);
    const runs = join(dir, '.ltc', 'runs');
    expect(mode(runs)).toBe(0o700);
    for (const f of readdirSync(runs)) expect(mode(join(runs, f))).toBe(0o600);
  });
});
