/**
 * Resuming a run whose earlier steps produced a secret: the journal keeps *** in the secret's
 * place, so a resumed run runs such a step again (reading the secret, and registering it with the
 * masker, again) instead of handing the later steps "***".
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from './helpers/cli.js';
import { journalText, journals } from './helpers/runbooks.js';
import { fileEnv, makeOps } from './helpers/secrets.js';

afterAll(cleanupTempDirs);

const reader = `name: Read the key
steps:
  - id: read
    secret: { name: LTC_SECRET_KEY }
outputs:
  key: \${{ steps.read.outputs.value }}
`;

const main = `name: Use a secret after a failure
steps:
  - id: read
    name: Read the key
    secret: { name: LTC_SECRET_KEY }
  - id: via-child
    runbook: reader
  - id: plain
    run: [echo, nothing secret]
  - id: gate
    run: [test, -e, go.flag]
  - id: use
    run:
      command: [node, -e, 'require("fs").writeFileSync("used.txt", process.env.A + "|" + process.env.B)']
      env: { A: '\${{ steps.read.outputs.value }}', B: '\${{ steps.via-child.outputs.key }}' }
  - id: show
    run:
      command: [node, -e, 'console.log("key is " + process.env.KEY)']
      env: { KEY: '\${{ steps.read.outputs.value }}' }
`;

describe('resume after a step whose outputs held a secret', () => {
  it('runs that step again (and the runbook step that returned it), so later steps get the value, never ***', async () => {
    const ops = await makeOps({ staging: fileEnv([{ name: 'LTC_SECRET_KEY', kind: 'secret_key' }]) });
    const gen = await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY', '--env', 'staging']);
    expect(gen.code, gen.stderr).toBe(0);
    const reveal = await ops.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--env', 'staging', '--reveal', '--yes']);
    expect(reveal.code, reveal.stderr).toBe(0);
    const value = reveal.stdout.trim();
    expect(value.length).toBeGreaterThan(20);
    await mkdir(join(ops.dir, 'runbooks'));
    await writeFile(join(ops.dir, 'runbooks', 'main.yaml'), main);
    await writeFile(join(ops.dir, 'runbooks', 'reader.yaml'), reader);

    const first = await ops.ltc(['runbook', 'run', 'main', '--env', 'staging']);
    expect(first.code, first.stderr).toBe(1);
    expect(existsSync(join(ops.dir, 'used.txt'))).toBe(false);
    const runId = [...(await journals(ops.dir)).entries()].find(([, ev]) => (ev[0] as { runbook?: string }).runbook === 'main')![0];
    const before = (await journals(ops.dir)).get(runId)!;
    expect(before.find((e) => e.t === 'end' && e.id === 'read')).toMatchObject({ status: 'ok', outputs: { value: '***' }, secretOutputs: ['value'] });
    expect(before.find((e) => e.t === 'end' && e.id === 'via-child')).toMatchObject({ status: 'ok', outputs: { key: '***' }, secretOutputs: ['key'] });
    expect(before.find((e) => e.t === 'end' && e.id === 'plain')).not.toHaveProperty('secretOutputs');

    await writeFile(join(ops.dir, 'go.flag'), '');
    const resumed = await ops.ltc(['runbook', 'resume', runId, '--env', 'staging', '--verbose']);
    expect(resumed.code, resumed.stderr).toBe(0);
    // The later steps got the secret itself, from both the step and the called runbook.
    expect(await readFile(join(ops.dir, 'used.txt'), 'utf8')).toBe(`${value}|${value}`);
    expect(resumed.stdout).toMatch(/^read \| its outputs held a secret \(value\), which the journal does not keep: running it again$/m);
    expect(resumed.stdout).toMatch(/^✓ plain \(done in the earlier attempt\)$/m);
    // It was read again in the resumed process, so the masker knows it there too.
    expect(resumed.stdout).toContain('show | key is ***');

    const after = (await journals(ops.dir)).get(runId)!;
    const resumeAt = after.findIndex((e) => e.t === 'resume');
    expect(after[resumeAt]).toMatchObject({ from: 'read' });
    const rerun = after.slice(resumeAt).filter((e) => e.t === 'start').map((e) => e.id);
    expect(rerun).toEqual(['read', 'via-child', 'gate', 'use', 'show']);
    // The called runbook's run was continued (not started again), its secret step run again.
    const childIds = after.filter((e) => e.t === 'child').map((e) => e.runId);
    expect(new Set(childIds).size).toBe(1);
    const child = (await journals(ops.dir)).get(childIds[0] as string)!;
    expect(child.filter((e) => e.t === 'resume')).toHaveLength(1);
    expect(child.filter((e) => e.t === 'start' && e.id === 'read')).toHaveLength(2);

    const everything = (await journalText(ops.dir)) + first.stdout + first.stderr + resumed.stdout + resumed.stderr;
    expect(everything).not.toContain(value);
  });
});
