/**
 * The `run` step refuses a secret in the command line (every local user can read a process's
 * arguments with `ps`) and points to `env:`, which works: the command gets the value in its
 * environment, and it is masked in what the command prints.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs,  } from './helpers/cli.js';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';
import { journals, journalText, opsDir } from './helpers/runbooks.js';
import { fileEnv, makeOps } from './helpers/secrets.js';

afterAll(cleanupTempDirs);

const NODE = process.execPath;
const SECRET = 'Pa55-w0rd/with+chars=';
const FORMS = [SECRET, Buffer.from(SECRET).toString('base64'), Buffer.from(SECRET).toString('base64url'), encodeURIComponent(SECRET)];

function expectNoSecret(where: string, text: string, value = SECRET): void {
  const forms = value === SECRET ? FORMS : [value, Buffer.from(value).toString('base64')];
  for (const form of forms) expect(text.includes(form), `the secret in ${where}`).toBe(false);
}

const inArgs = `name: Secret in the arguments
inputs:
  token: { secret: true, required: true }
steps:
  - id: first
    run: [${NODE}, -e, "require('fs').writeFileSync('first-ran', '')"]
  - id: deploy-db
    run: [${NODE}, -e, "require('fs').writeFileSync('leaked', process.argv[1])", "--password=\${{ inputs.token }}"]
`;

const inScript = `name: Secret in a bash script
inputs:
  token: { secret: true, required: true }
steps:
  - id: login
    run:
      shell: bash
      command: ["\${{ inputs.token }}"]
`;

const splicedInScript = `name: Secret spliced into a bash script
inputs:
  token: { secret: true, required: true }
steps:
  - id: login
    run:
      shell: bash
      command: ["echo \${{ inputs.token }} > leaked"]
`;

const viaEnv = `name: Secret through env
inputs:
  token: { secret: true, required: true }
steps:
  - id: deploy-db
    run:
      command: [${NODE}, -e, "require('fs').writeFileSync('got', process.env.DB_PASSWORD); console.log('password is ' + process.env.DB_PASSWORD)"]
      env: { DB_PASSWORD: "\${{ inputs.token }}" }
  - id: login
    run:
      shell: bash
      command: ['printf %s "$TOKEN" > got-bash']
      env: { TOKEN: "\${{ inputs.token }}" }
`;

describe('run step: a secret in the command line is refused, env: is the way', () => {
  it('a secret input in an argument: exit 2 before anything runs, naming the step and env:, the value nowhere', async () => {
    const dir = await opsDir({ m: inArgs });
    const r = await runLtc(['runbook', 'run', 'm', '--input', `token=${SECRET}`], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/step "deploy-db": argument 3 of the command holds a secret value, and a command line can be read by every user of this machine \(ps\)/);
    expect(r.stderr).toMatch(/hint: pass it through env: instead/);
    expect(r.stderr).toContain('nothing was run');
    expectNoSecret('stdout', r.stdout);
    expectNoSecret('stderr', r.stderr);
    // Refused before the run: not even the first step ran, no journal.
    expect(existsSync(join(dir, 'first-ran'))).toBe(false);
    expect(existsSync(join(dir, 'leaked'))).toBe(false);
    expect(existsSync(join(dir, '.ltc', 'runs'))).toBe(false);

    const json = await runLtc(['runbook', 'run', 'm', '--input', `token=${SECRET}`, '--json'], { cwd: dir });
    expect(json.code).toBe(2);
    expect(json.json).toMatchObject({ ok: false, error: { code: 'config' } });
    expect((json.json as { error: { message: string } }).error.message).toContain('step "deploy-db": argument 3 of the command holds a secret value');
    expectNoSecret('--json stdout', json.stdout);
    expectNoSecret('--json stderr', json.stderr);
    expect(existsSync(join(dir, 'leaked'))).toBe(false);

    // The dry run says so too (its preflight problems), once, and shows the value masked.
    const dry = await runLtc(['runbook', 'run', 'm', '--input', `token=${SECRET}`, '--dry-run'], { cwd: dir });
    expect(dry.stdout).toContain('the run would refuse to start');
    expect(dry.stdout.match(/argument 3 of the command holds a secret value/g)).toHaveLength(1);
    expectNoSecret('--dry-run stdout', dry.stdout);
    expectNoSecret('--dry-run stderr', dry.stderr);
  });

  it('the secret base64-encoded in an argument is refused too', async () => {
    const encoded = `name: Encoded
inputs:
  token: { secret: true, required: true }
steps:
  - id: send
    run: [${NODE}, -e, "0", "${Buffer.from(SECRET).toString('base64')}"]
`;
    const dir = await opsDir({ e: encoded });
    const r = await runLtc(['runbook', 'run', 'e', '--input', `token=${SECRET}`], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('step "send": argument 3 of the command holds a secret value');
    expectNoSecret('stderr', r.stderr);
  });

  it('a secret in a shell: bash script is refused, naming the script', async () => {
    const dir = await opsDir({ s: inScript });
    const r = await runLtc(['runbook', 'run', 's', '--input', `token=${SECRET}`], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('step "login": the bash script holds a secret value');
    expectNoSecret('stderr', r.stderr);
    expectNoSecret('stdout', r.stdout);
    expect(existsSync(join(dir, 'leaked'))).toBe(false);

    const spliced = await opsDir({ s: splicedInScript });
    const r2 = await runLtc(['runbook', 'run', 's', '--input', `token=${SECRET}`], { cwd: spliced });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('may not contain ${{ }} within its text');
    expectNoSecret('stderr', r2.stderr);
    expectNoSecret('stdout', r2.stdout);
    expect(existsSync(join(spliced, 'leaked'))).toBe(false);
  });

  it('the same secret through env: runs, the command gets it, and it is masked in what it prints', async () => {
    const dir = await opsDir({ v: viaEnv });
    const r = await runLtc(['runbook', 'run', 'v', '--input', `token=${SECRET}`, '--verbose'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(join(dir, 'got'), 'utf8')).toBe(SECRET);
    expect(await readFile(join(dir, 'got-bash'), 'utf8')).toBe(SECRET);
    expect(r.stdout).toMatch(/^deploy-db \| password is \*\*\*$/m);
    expectNoSecret('stdout', r.stdout);
    expectNoSecret('stderr', r.stderr);
    expectNoSecret('journal', await journalText(dir));
  });

  it('a secret known only at run time (a secret step\'s output) in an argument: the step fails with exit 2 before its command runs; through env: it works', async () => {
    const ops = await makeOps({ staging: fileEnv([{ name: 'LTC_SECRET_KEY', kind: 'secret_key' }]) });
    expect((await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY', '--env', 'staging'])).code).toBe(0);
    const reveal = await ops.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--env', 'staging', '--reveal', '--yes']);
    expect(reveal.code, reveal.stderr).toBe(0);
    const value = reveal.stdout.trim();
    expect(value.length).toBeGreaterThan(20);
    await mkdir(join(ops.dir, 'runbooks'));
    await writeFile(
      join(ops.dir, 'runbooks', 'args.yaml'),
      `name: Read, then pass in the arguments
steps:
  - id: read
    secret: { name: LTC_SECRET_KEY }
  - id: use
    run: [${NODE}, -e, "require('fs').writeFileSync('leaked', process.argv[1])", "\${{ steps.read.outputs.value }}"]
`,
    );
    await writeFile(
      join(ops.dir, 'runbooks', 'env.yaml'),
      `name: Read, then pass through env
steps:
  - id: read
    secret: { name: LTC_SECRET_KEY }
  - id: use
    run:
      command: [${NODE}, -e, "require('fs').writeFileSync('got', process.env.KEY); console.log('key ' + process.env.KEY)"]
      env: { KEY: "\${{ steps.read.outputs.value }}" }
`,
    );

    const bad = await ops.ltc(['runbook', 'run', 'args', '--env', 'staging']);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toContain('step "use": argument 3 of the command holds a secret value');
    expect(bad.stderr).toContain('the command was not run');
    expect(bad.stderr).toMatch(/hint: pass it through env: instead/);
    expect(existsSync(join(ops.dir, 'leaked'))).toBe(false);
    expectNoSecret('stdout', bad.stdout, value);
    expectNoSecret('stderr', bad.stderr, value);
    const events = [...(await journals(ops.dir)).values()][0]!;
    expect(events.find((e) => e.t === 'end' && e.id === 'read')).toMatchObject({ status: 'ok' });
    expect(events.find((e) => e.t === 'end' && e.id === 'use')).toMatchObject({ status: 'failed', error: { code: 'config', exitCode: 2 } });
    expectNoSecret('journal', await journalText(ops.dir), value);

    const good = await ops.ltc(['runbook', 'run', 'env', '--env', 'staging', '--verbose']);
    expect(good.code, good.stderr).toBe(0);
    expect(await readFile(join(ops.dir, 'got'), 'utf8')).toBe(value);
    expect(good.stdout).toMatch(/^use \| key \*\*\*$/m);
    expectNoSecret('stdout', good.stdout, value);
    expectNoSecret('stderr', good.stderr, value);
  });
});
