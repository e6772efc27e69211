import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs,  } from './helpers/cli.js';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';
import { journalText, opsDir } from './helpers/runbooks.js';

afterAll(cleanupTempDirs);

const NODE = process.execPath;
const SECRET = 'S3cr3t/Val+ue=?&x';
const FORMS = {
  plain: SECRET,
  base64: Buffer.from(SECRET).toString('base64'),
  base64url: Buffer.from(SECRET).toString('base64url'),
  url: encodeURIComponent(SECRET),
};

const runbook = `name: Masking
inputs:
  token: { secret: true, required: true }
steps:
  - id: plain
    run:
      command: [${NODE}, -e, "console.log('token=' + process.env.TOKEN)"]
      env: { TOKEN: "\${{ inputs.token }}" }
  - id: b64
    run:
      command: [${NODE}, -e, "const b = Buffer.from(process.env.TOKEN); console.log(b.toString('base64')); console.log(b.toString('base64url'))"]
      env: { TOKEN: "\${{ inputs.token }}" }
  - id: url
    run:
      command: [${NODE}, -e, "console.log('https://x.example/?t=' + encodeURIComponent(process.env.TOKEN))"]
      env: { TOKEN: "\${{ inputs.token }}" }
  - id: script
    script:
      code: "echo('from zx ' + args.t); setOutput('copy', args.t)"
      args: { t: "\${{ inputs.token }}" }
  - id: fail
    run:
      command: [${NODE}, -e, "console.error('bad token ' + process.env.TOKEN); process.exit(1)"]
      env: { TOKEN: "\${{ inputs.token }}" }
outputs:
  leaked: \${{ inputs.token }}
`;

function expectNoSecret(where: string, text: string): void {
  for (const [form, value] of Object.entries(FORMS)) {
    expect(text.includes(value), `${form} form of the secret in ${where}`).toBe(false);
  }
}

describe('secret inputs are masked everywhere', () => {
  it('terminal (--verbose), error messages, journal and --json never show the value or its base64/URL forms', async () => {
    const dir = await opsDir({ m: runbook });
    const human = await runLtc(['runbook', 'run', 'm', '--input', `token=${SECRET}`, '--verbose'], { cwd: dir });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^plain \| token=\*\*\*$/m);
    expect(human.stdout).toMatch(/^b64 \| \*\*\*$/m);
    expect(human.stdout).toMatch(/^url \| https:\/\/x\.example\/\?t=\*\*\*$/m);
    expect(human.stdout).toMatch(/^script \| from zx \*\*\*$/m);
    expect(human.stderr).toMatch(/error: command exited with 1: /);
    expect(human.stderr).toMatch(/bad token \*\*\*/);
    expectNoSecret('stdout', human.stdout);
    expectNoSecret('stderr', human.stderr);

    const json = await runLtc(['runbook', 'run', 'm', '--input', `token=${SECRET}`, '--json', '--verbose'], { cwd: dir });
    expect(json.code).toBe(1);
    const steps = (json.json as { steps: Array<{ id: string; outputs: Record<string, unknown> }> }).steps;
    expect(steps.find((s) => s.id === 'plain')?.outputs.stdout).toBe('token=***');
    expect(steps.find((s) => s.id === 'script')?.outputs.copy).toBe('***');
    expectNoSecret('--json stdout', json.stdout);
    expectNoSecret('--json stderr', json.stderr);

    const journal = await journalText(dir);
    expect(journal).toContain('"token":"***"');
    expect(journal).toContain('token=***');
    expectNoSecret('journal', journal);
  });

  it('a secret in a failing input check is not echoed', async () => {
    const dir = await opsDir({ m: runbook.replace('secret: true, required: true', "secret: true, required: true, pattern: '^ok-'") });
    const r = await runLtc(['runbook', 'run', 'm', '--input', `token=${SECRET}`], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/input "token": \(secret value\) does not match the pattern/);
    expectNoSecret('stderr', r.stderr);
  });

  it('a secret too short for the masker is refused before anything runs (it would print in the clear)', async () => {
    const dir = await opsDir({ m: runbook });
    const r = await runLtc(['runbook', 'run', 'm', '--input', 'token=x9z'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/input "token" is secret, and a value of fewer than 4 characters cannot be masked/);
    expect(r.stderr).not.toContain('x9z');
    expect(await journalText(dir)).toBe('');
  });

  it('a successful run\'s outputs and the dry-run plan are masked', async () => {
    const ok = runbook.replace(/ {2}- id: fail\n(?: {4}.*\n)+/, '');
    const dir = await opsDir({ m: ok });
    const r = await runLtc(['runbook', 'run', 'm', '--input', `token=${SECRET}`, '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, outputs: { leaked: '***' } });
    expectNoSecret('--json', r.stdout);
    const plan = await runLtc(['runbook', 'run', 'm', '--input', `token=${SECRET}`, '--dry-run'], { cwd: dir });
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('***');
    expectNoSecret('plan', plan.stdout);
  });
});
