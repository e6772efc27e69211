import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { execa } from 'execa';
import { LTC, cleanupTempDirs } from './helpers/cli.js';
import { opsDir, stillRunningAfter, waitFor } from './helpers/runbooks.js';

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

describe('exec: ltc leaves no child processes behind when it exits at once', () => {
  it('a second Ctrl-C (ltc exits 130 at once) SIGKILLs the process groups still running, even one that ignores SIGTERM', async () => {
    // The step's process ignores SIGTERM, so the first Ctrl-C (SIGTERM, SIGKILL only after a grace)
    // does not end it; the second one exits ltc before that grace is over.
    const dir = await opsDir({
      hold: `name: Hold\nsteps:\n  - id: hold\n    run: [bash, -c, "trap '' TERM; echo $$ > sleep.pid; exec sleep 300"]\n`,
    });
    const run = execa(process.execPath, [LTC, 'runbook', 'run', 'hold'], { cwd: dir, env: { NO_COLOR: '1', CI: 'true' }, reject: false, stdin: 'ignore' });
    const sleepPid = Number(await waitFor(join(dir, 'sleep.pid')));
    leftovers.push(sleepPid);
    process.kill(run.pid!, 'SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    process.kill(run.pid!, 'SIGINT');
    const r = await run;
    expect(r.exitCode, r.stderr).toBe(130);
    expect(await stillRunningAfter(sleepPid), 'the step\'s sleep outlived ltc').toBe(false);
  });
});
