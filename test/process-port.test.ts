/**
 * The process port (src/exec/process.ts): the one module that imports node:child_process. The
 * Context carries it, so an in-process run can record or refuse every process a command starts,
 * and the gates' exit guard learns its pids from it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessPort } from '../src/exec/process.ts';
import { execCommand } from '../src/exec/exec.ts';
import { GateExitGuard } from '../src/gates/exit-guard.ts';
import { Masker } from '../src/core/masker.ts';
import { cleanupTempDirs } from './helpers/cli.js';
import { ltcInProcess } from './helpers/inproc.ts';
import { StrictProcesses } from './helpers/strict-processes.ts';
import { journalText, opsDir } from './helpers/runbooks.js';

afterAll(cleanupTempDirs);

const SRC = new URL('../src/', import.meta.url).pathname;

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await tsFiles(p)));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const runbook = `name: Two commands
steps:
  - id: first
    run: [${process.execPath}, -e, "console.log('first ran')"]
  - id: second
    run: [/bin/echo, second ran]
`;

describe('process port', () => {
  it('no module but src/exec/process.ts imports node:child_process (types aside)', async () => {
    const offenders: string[] = [];
    for (const file of await tsFiles(SRC)) {
      const text = await readFile(file, 'utf8');
      const imports = text.match(/^import(?! type)[^;]*from 'node:child_process'/gm) ?? [];
      const dynamic = text.match(/import\('node:child_process'\)|require\('node:child_process'\)|getBuiltinModule\('node:child_process'\)/g) ?? [];
      if (imports.length + dynamic.length > 0) offenders.push(relative(SRC, file));
    }
    expect(offenders).toEqual(['exec/process.ts']);
  });

  it('an in-process runbook run starts its commands through the port the test hands in', async () => {
    const dir = await opsDir({ two: runbook });
    const port = new StrictProcesses(() => true);
    const r = await ltcInProcess(['runbook', 'run', 'two'], { cwd: dir, env: { LTC_CONFIG: '', LTC_STATE_DIR: '' }, processes: port });
    expect(r.code, r.stderr).toBe(0);
    expect(port.started.map((s) => s.argv)).toEqual([
      [process.execPath, '-e', "console.log('first ran')"],
      ['/bin/echo', 'second ran'],
    ]);
    expect(await journalText(dir)).toContain('second ran');
  });

  it('a strict port refuses an unexpected program: the step fails, nothing after it starts', async () => {
    const dir = await opsDir({ two: runbook });
    const port = new StrictProcesses((argv) => argv[0] === process.execPath);
    const r = await ltcInProcess(['runbook', 'run', 'two'], { cwd: dir, env: { LTC_CONFIG: '', LTC_STATE_DIR: '' }, processes: port });
    expect(r.code).not.toBe(0);
    expect(port.refused).toEqual([['/bin/echo', 'second ran']]);
    expect(port.started).toHaveLength(1);
    expect(r.stderr).toContain('unexpected process: /bin/echo second ran');
  });

  it("the gates' exit guard tracks exactly the processes started during its call, from the port", async () => {
    const port = new ProcessPort();
    const guard = new GateExitGuard(() => undefined, port);
    const seen: number[] = [];
    const run = guard.track(
      () => execCommand(['/bin/sh', '-c', 'sleep 0.2'], { processes: port }, new Masker()),
      (child) => child.pid && seen.push(child.pid),
    );
    const whileRunning = guard.livePids();
    // started outside the call: not tracked
    const other = execCommand(['/bin/true'], { processes: port }, new Masker());
    expect(guard.livePids()).toEqual(whileRunning);
    const r = await run;
    await other;
    expect(r.exitCode).toBe(0);
    expect(seen).toHaveLength(1);
    expect(whileRunning).toEqual(seen);
    expect(guard.livePids()).toEqual([]);
  });
});
