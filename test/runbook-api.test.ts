import { afterAll, describe, expect, it } from 'vitest';
import { ProcessPort } from '../src/exec/process.js';
import { PassThrough } from 'node:stream';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { main } from '../src/cli/main.js';
import { createContext, type Context } from '../src/core/context.js';
import { CheckFailedError, RolledBackError } from '../src/core/errors.js';
import { Masker } from '../src/core/masker.js';
import { Output } from '../src/core/output.js';
import { Prompter } from '../src/ui/prompt.js';
import { registerStepType } from '../src/runbook/registry.js';
import { defineStep } from '../src/runbook/step-type.js';
import { resumeRun, runRunbook, summaryOf } from '../src/runbook/api.js';
import type { Reporter } from '../src/runbook/report/types.js';
import { cleanupTempDirs, tempDir } from './helpers/cli.js';

afterAll(cleanupTempDirs);

let deploys = 0;
registerStepType(
  defineStep({
    name: 'fake-deploy',
    description: 'a deploy step for tests: fails its first attempts with RolledBackError',
    schema: z.strictObject({ rc: z.string(), fail_first: z.number().int().default(0) }),
    outputs: ['release'],
    plan: (spec) => [{ action: 'deploy', detail: spec.rc, writes: true }],
    async run(spec, step) {
      deploys++;
      step.log(`deploying ${spec.rc} (attempt ${step.attempt})`);
      if (deploys <= spec.fail_first) throw new RolledBackError(`health check failed after switching to ${spec.rc}; rolled back`);
      return { outputs: { release: spec.rc }, summary: `live: ${spec.rc}` };
    },
  }),
);

function testContext(cwd: string, over: Partial<Context['options']> = {}): { ctx: Context; stdout: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const masker = new Masker();
  const options = { json: false, yes: false, dryRun: false, verbose: false, debug: false, color: false, approve: [], ...over };
  const ctx = createContext({
    cwd,
    argv: [],
    env: { ...process.env, LTC_STATE_DIR: join(cwd, 'state') },
    options,
    out: new Output({ json: false, color: false, verbose: false, debug: false, masker, stdout: out, stderr: out }),
    masker,
    prompt: new Prompter({ interactive: false, yes: false, approvals: new Set() }),
    signal: new AbortController().signal,
    isTTY: false,
    ci: true,
    processes: new ProcessPort(),
  });
  return { ctx, stdout: () => text };
}

function recorder(): { reporter: Reporter; events: string[] } {
  const events: string[] = [];
  return {
    events,
    reporter: {
      runStart: (r) => void events.push(`run ${r.runbook}`),
      stepStart: (s) => void events.push(`start ${s.id}`),
      stepLog: (s, line) => void events.push(`log ${s.id} ${line}`),
      stepRetry: (s, a) => void events.push(`retry ${s.id} ${a}`),
      stepEnd: (s) => void events.push(`end ${s.id} ${s.status}`),
      runEnd: async (r) => void events.push(`done ${r.status}`),
      suspend: () => undefined,
      resume: () => undefined,
    },
  };
}

const deployRunbook = (failFirst: number) => `name: Deploy (test)
inputs:
  rc: { required: true, pattern: '^rc-' }
steps:
  - id: deploy
    fake-deploy: { rc: "\${{ inputs.rc }}", fail_first: ${failFirst} }
  - id: announce
    run: [echo, "live \${{ steps.deploy.outputs.release }}"]
outputs:
  release: \${{ steps.deploy.outputs.release }}
`;

describe('runRunbook: the programmatic API', () => {
  it('resolves with { runId, status, outputs, steps } and reports through the given reporter', async () => {
    deploys = 0;
    const dir = await tempDir();
    const file = join(dir, 'deploy.yaml');
    await writeFile(file, deployRunbook(0));
    const { ctx } = testContext(dir);
    const { reporter, events } = recorder();
    const summary = await runRunbook(file, { rc: 'rc-2026-03-01' }, ctx, { reporter });
    expect(summary).toMatchObject({ status: 'ok', runbook: 'deploy', outputs: { release: 'rc-2026-03-01' }, steps: [{ id: 'deploy', outputs: { release: 'rc-2026-03-01' }, summary: 'live: rc-2026-03-01' }, { id: 'announce', outputs: { stdout: 'live rc-2026-03-01' } }] });
    expect(summary.runId).toMatch(/^\d{8}-\d{6}-deploy-[0-9a-f]{4}$/);
    expect(summary.journal).toBe(join(dir, 'state', 'runs', `${summary.runId}.jsonl`));
    expect(events).toEqual(['run deploy', 'start deploy', 'log deploy deploying rc-2026-03-01 (attempt 1)', 'end deploy ok', 'start announce', 'log announce live rc-2026-03-01', 'end announce ok', 'done ok']);
  });

  it('throws the failing step\'s own error (RolledBackError keeps exit 3), with the run summary attached', async () => {
    deploys = 0;
    const dir = await tempDir();
    const file = join(dir, 'deploy.yaml');
    await writeFile(file, deployRunbook(1));
    const { ctx } = testContext(dir);
    const err = await runRunbook(file, { rc: 'rc-2026-03-01' }, ctx, { render: 'silent' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RolledBackError);
    expect((err as RolledBackError).exitCode).toBe(3);
    const summary = summaryOf(err)!;
    expect(summary).toMatchObject({ status: 'failed', failedStep: 'deploy', error: { code: 'rolled_back', exitCode: 3 } });
    expect(summary.steps.map((s) => s.id)).toEqual(['deploy']);

    const resumed = await resumeRun(summary.runId!, {}, ctx, { render: 'silent' });
    expect(resumed).toMatchObject({ runId: summary.runId, status: 'ok', outputs: { release: 'rc-2026-03-01' } });
  });

  it('dryRun returns the plan and runs nothing', async () => {
    deploys = 0;
    const dir = await tempDir();
    const file = join(dir, 'deploy.yaml');
    await writeFile(file, deployRunbook(0));
    const { ctx } = testContext(dir);
    const summary = await runRunbook(file, { rc: 'rc-2026-03-01' }, ctx, { dryRun: true });
    expect(deploys).toBe(0);
    expect(summary).toMatchObject({ runId: null, status: 'planned', plan: { steps: [{ id: 'deploy', items: [{ action: 'deploy', detail: 'rc-2026-03-01', writes: true }] }, { id: 'announce' }] } });
  });

  it('bad inputs throw before anything runs', async () => {
    const dir = await tempDir();
    const file = join(dir, 'deploy.yaml');
    await writeFile(file, deployRunbook(0));
    const { ctx } = testContext(dir);
    await expect(runRunbook(file, { rc: 'v1' }, ctx)).rejects.toThrow(/input "rc": "v1" does not match the pattern \^rc-/);
    await expect(readFile(join(dir, 'state', 'runs'))).rejects.toThrow();
  });

  it('through the CLI, a run whose step throws RolledBackError exits 3 (and a check failure exits 1)', async () => {
    deploys = 0;
    const dir = await tempDir();
    const file = join(dir, 'deploy.yaml');
    await writeFile(file, deployRunbook(1));
    const env = { ...process.env, LTC_STATE_DIR: join(dir, 'state'), NO_COLOR: '1', CI: 'true' };
    expect(await main(['runbook', 'run', file, '--input', 'rc=rc-2026-03-01', '--json'], env)).toBe(3);
    const check = join(dir, 'check.yaml');
    await writeFile(check, 'name: c\nsteps:\n  - id: a\n    assert: { that: false, message: nope }\n');
    expect(await main(['runbook', 'run', check, '--json'], env)).toBe(new CheckFailedError('x').exitCode);
  });
});
