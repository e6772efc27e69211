import { afterAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTempDirs,  tempDir } from './helpers/cli.js';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';

afterAll(cleanupTempDirs);

async function validate(text: string, json = false) {
  const dir = await tempDir();
  const file = join(dir, 'ltc.config.yaml');
  await writeFile(file, text);
  return { file, ...(await runLtc(['config', 'validate', ...(json ? ['--json'] : [])], { cwd: dir })) };
}

describe('ltc config validate: unquoted YAML numbers and booleans where a string is expected', () => {
  const config = 'app:\n  repo: ../app\ngates:\n  - name: wait\n    run: [sleep, 5]\n  - name: say\n    run: [echo, true, 0.50]\n';

  it('a number or boolean in a command list says to quote it, as written', async () => {
    const r = await validate(config);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${r.file}:5:18: gates[0].run[1]: expected a string, got the number 5`);
    expect(r.stderr).toContain('(YAML reads an unquoted 5 as a number: quote it, e.g. "5")');
    expect(r.stderr).toContain(`${r.file}:7:17: gates[1].run[1]: expected a string, got the boolean true`);
    expect(r.stderr).toContain(`${r.file}:7:23: gates[1].run[2]: expected a string, got the number 0.50`);
    expect(r.stderr).toContain('quote it, e.g. "0.50"');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--json carries the hint in each problem', async () => {
    const r = await validate('app:\n  repo: ../app\ngates:\n  - name: wait\n    run: [sleep, 5]\n', true);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({
      ok: false,
      error: { code: 'config', hint: 'YAML reads an unquoted 5 as a number: quote it, e.g. "5"', problems: [{ path: 'gates[0].run[1]', line: 5, column: 18 }] },
    });
  });

  it('outside an argument array (an env map) the hint says to quote the value without repeating it', async () => {
    const r = await validate('app:\n  repo: ../app\ngates:\n  - name: db\n    run: [psql]\n    env: { PGPASSWORD: 987654321 }\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${r.file}:6:24: gates[0].env.PGPASSWORD: expected a string, got a number`);
    expect(r.stderr).toMatch(/hint: YAML reads an unquoted number as a number: quote the value/);
    expect(r.stdout + r.stderr).not.toContain('987654321');
  });
});
