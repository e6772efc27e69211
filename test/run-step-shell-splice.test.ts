/**
 * `shell: bash|pwsh`: a `${{ }}` spliced into the script's text would run the value as code, so it
 * is refused at validation (exit 2, nothing runs); values go in as arguments after the script
 * ("$1") or through env:. A script that is one expression is the input itself, run as given.
 * `pwsh -Command` reads every argument after the script as more code, so arguments need a .ps1 file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs,  } from './helpers/cli.js';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';
import { opsDir } from './helpers/runbooks.js';

afterAll(cleanupTempDirs);

describe('run step: no value spliced into a shell script', () => {
  it('refuses ${{ }} inside a bash script before anything runs; "$1" and a whole-expression script work', async () => {
    const dir = await opsDir({
      splice: `name: splice
inputs:
  word: { type: string }
steps:
  - id: first
    run: [touch, first-ran]
  - id: echo
    run:
      command: ["echo \${{ inputs.word }}"]
      shell: bash
`,
      args: `name: args
inputs:
  word: { type: string }
  script: { type: string }
steps:
  - id: echo
    run:
      command: ['printf "%s" "$1"', "\${{ inputs.word }}"]
      shell: bash
  - id: whole
    run:
      command: ["\${{ inputs.script }}"]
      shell: bash
`,
    });
    const validate = await runLtc(['runbook', 'validate', 'splice'], { cwd: dir });
    expect(validate.code).toBe(2);
    expect(validate.stderr).toMatch(/splice\.yaml:9:\d+: steps\[1\]\.run\.command\[0\]: the bash script may not contain \$\{\{ \}\} within its text/);
    expect(validate.stderr).toContain('"$1"');

    const run = await runLtc(['runbook', 'run', 'splice', '--input', 'word=x; touch PWNED'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(existsSync(join(dir, 'PWNED'))).toBe(false);
    expect(existsSync(join(dir, 'first-ran'))).toBe(false);

    const ok = await runLtc(['runbook', 'run', 'args', '--input', 'word=x; touch PWNED', '--input', 'script=touch whole-ran', '--json'], { cwd: dir });
    expect(ok.code).toBe(0);
    const steps = (ok.json as { steps: Array<{ outputs: { stdout: string } }> }).steps;
    expect(steps[0]!.outputs.stdout).toBe('x; touch PWNED');
    expect(existsSync(join(dir, 'PWNED'))).toBe(false);
    expect(existsSync(join(dir, 'whole-ran'))).toBe(true);
  });

  it('refuses arguments after an inline pwsh script (-Command would run them as code)', async () => {
    const dir = await opsDir({
      ps: `name: ps
steps:
  - id: s
    run:
      command: ['Write-Output $args[0]', x]
      shell: pwsh
`,
    });
    const r = await runLtc(['runbook', 'validate', 'ps', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect((r.json as { error: { message: string } }).error.message).toMatch(/steps\[0\]\.run\.command\[1\]: pwsh -Command reads every argument after the script as more code/);
  });
});
