import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { LTC, cleanupTempDirs, runLtc } from './helpers/cli.js';
import { alive, journals, opsDir, stillRunningAfter, waitFor } from './helpers/runbooks.js';

const leftovers: number[] = [];
afterAll(async () => {
  for (const pid of leftovers) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await cleanupTempDirs();
});

const NODE = process.execPath;

/** `long` blocks (a child process tree) until a file named `go` exists; then it passes. */
const runbook = `name: Long
inputs:
  tag: { default: v1 }
steps:
  - id: first
    run: [${NODE}, -e, "console.log('first-' + Date.now())"]
  - id: long
    run: [bash, -c, 'if [ -f go ]; then echo passed; exit 0; fi; echo $$ > long.pid; sleep 300 & echo $! > child.pid; wait']
    on_failure:
      - id: cleanup
        run: [${NODE}, -e, "require('fs').writeFileSync('cleaned', process.argv[1])", "\${{ steps.long.status }}"]
  - id: last
    run: [${NODE}, -e, "require('fs').writeFileSync('last', process.argv[1])", "\${{ steps.first.outputs.stdout }}"]
`;

function start(dir: string): ResultPromise {
  return execa(NODE, [LTC, 'runbook', 'run', 'long'], { cwd: dir, env: { NO_COLOR: '1', CI: 'true' }, reject: false, stdin: 'ignore' });
}

describe('runbook runs under signals, and resume', () => {
  it('SIGHUP (the terminal closed, the SSH session dropped) ends the run like Ctrl-C: the step tree ended, on_failure ran, exit 130', async () => {
    const dir = await opsDir({ long: runbook });
    const run = start(dir);
    const childPid = Number(await waitFor(join(dir, 'child.pid')));
    leftovers.push(Number(await waitFor(join(dir, 'long.pid'))));
    process.kill(run.pid!, 'SIGHUP');
    const r = await run;
    expect(r.exitCode).toBe(130);
    expect(await stillRunningAfter(childPid)).toBe(false);
    expect(await readFile(join(dir, 'cleaned'), 'utf8')).toBe('interrupted');
    const [[, events]] = [...(await journals(dir))];
    expect(events!.at(-1)).toMatchObject({ t: 'done', status: 'interrupted', failedStep: 'long' });
  });

  it('first Ctrl-C (SIGINT) ends the step\'s process tree, runs on_failure, journals "interrupted", exits 130; resume finishes the run', async () => {
    const dir = await opsDir({ long: runbook });
    const run = start(dir);
    const childPid = Number(await waitFor(join(dir, 'child.pid')));
    leftovers.push(Number(await waitFor(join(dir, 'long.pid'))));
    process.kill(run.pid!, 'SIGINT');
    const r = await run;
    expect(r.exitCode).toBe(130);
    expect(r.stdout).toMatch(/✗ long \d+ms: interrupted/);
    expect(r.stdout).toMatch(/↳ ✓ cleanup \d+ms/);
    expect(r.stderr).toMatch(/error: step "long" interrupted/);
    expect(await stillRunningAfter(childPid)).toBe(false);
    expect(await readFile(join(dir, 'cleaned'), 'utf8')).toBe('interrupted');
    expect(existsSync(join(dir, 'last'))).toBe(false);

    const [[runId, events]] = [...(await journals(dir))];
    expect(events!.at(-1)).toMatchObject({ t: 'done', status: 'interrupted', failedStep: 'long', error: { exitCode: 130 } });
    const firstOut = (events!.find((e) => e.t === 'end' && e.id === 'first') as { outputs: { stdout: string } }).outputs.stdout;

    const runs = await runLtc(['runbook', 'runs', '--json'], { cwd: dir });
    expect((runs.json as { runs: Array<{ runId: string; status: string }> }).runs[0]).toMatchObject({ runId, status: 'interrupted' });

    await writeFile(join(dir, 'go'), '');
    const resumed = await runLtc(['runbook', 'resume', runId!], { cwd: dir });
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/resuming at step long/);
    expect(resumed.stdout).toMatch(/✓ first \(done in the earlier attempt\)/);
    expect(await readFile(join(dir, 'last'), 'utf8')).toBe(firstOut);
    const after = (await journals(dir)).get(runId!)!;
    expect(after.filter((e) => e.t === 'start' && e.id === 'first')).toHaveLength(1);
    expect(after.find((e) => e.t === 'resume')).toMatchObject({ from: 'long' });
    expect(after.at(-1)).toMatchObject({ t: 'done', status: 'ok' });

    const again = await runLtc(['runbook', 'resume', runId!], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/finished ok; there is nothing to resume/);
  });

  it('a run killed with SIGKILL leaves a readable journal ending in the step start, and can be resumed', async () => {
    const dir = await opsDir({ long: runbook });
    const run = start(dir);
    const childPid = Number(await waitFor(join(dir, 'child.pid')));
    const longPid = Number(await waitFor(join(dir, 'long.pid')));
    leftovers.push(longPid);
    process.kill(run.pid!, 'SIGKILL');
    await run;
    // ltc could not end them: its children live on in their own process group.
    process.kill(-longPid, 'SIGKILL');
    expect(alive(run.pid!)).toBe(false);

    const [[runId, events]] = [...(await journals(dir))];
    expect(events!.at(-1)).toMatchObject({ t: 'start', id: 'long' });
    const runs = await runLtc(['runbook', 'runs', '--json'], { cwd: dir });
    expect((runs.json as { runs: Array<Record<string, unknown>> }).runs[0]).toMatchObject({ runId, status: 'killed', openStep: 'long' });
    const firstOut = (events!.find((e) => e.t === 'end' && e.id === 'first') as { outputs: { stdout: string } }).outputs.stdout;

    // The killed run's pid now belongs to another live process (pids are reused): still "killed".
    expect(events![0]).toHaveProperty('pidStart');
    const file = join(dir, '.ltc', 'runs', `${runId}.jsonl`);
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[0] = JSON.stringify({ ...events![0], pid: process.pid });
    await writeFile(file, lines.join('\n'));
    const reused = await runLtc(['runbook', 'runs', '--json'], { cwd: dir });
    expect((reused.json as { runs: Array<Record<string, unknown>> }).runs[0]).toMatchObject({ runId, status: 'killed' });

    await writeFile(join(dir, 'go'), '');
    const resumed = await runLtc(['runbook', 'resume', runId!, '--json'], { cwd: dir });
    expect(resumed.code).toBe(0);
    expect(resumed.json).toMatchObject({
      ok: true,
      runId,
      status: 'ok',
      steps: [
        { id: 'first', resumed: true, outputs: { stdout: firstOut } },
        { id: 'long', status: 'ok', outputs: { stdout: 'passed' } },
        { id: 'last', status: 'ok' },
      ],
    });
    expect(await readFile(join(dir, 'last'), 'utf8')).toBe(firstOut);
    expect(await stillRunningAfter(childPid)).toBe(false);
  });

  it('resume refuses an unknown run id with did-you-mean, and a run that is still running', async () => {
    const dir = await opsDir({ long: runbook });
    const run = start(dir);
    await waitFor(join(dir, 'child.pid'));
    leftovers.push(Number(await waitFor(join(dir, 'long.pid'))));
    const [[runId]] = [...(await journals(dir))];
    const busy = await runLtc(['runbook', 'resume', runId!], { cwd: dir });
    expect(busy.code).toBe(5);
    expect(busy.stderr).toMatch(/is still running \(pid \d+\)/);
    const typo = await runLtc(['runbook', 'resume', runId!.slice(0, -1) + 'x'], { cwd: dir });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/no run ".*x" in .*runs/);
    expect(typo.stderr).toContain(`did you mean "${runId}"`);
    process.kill(run.pid!, 'SIGINT');
    expect((await run).exitCode).toBe(130);
  });
});
