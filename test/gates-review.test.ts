/**
 * `ltc gates`: defects found in the acceptance walk of the gates issue, each checked from the
 * built binary against a real generated demo app repo (real git, real processes).
 */
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoApp, type DemoApp } from '../src/demo/generate-app.ts';
import { LTC, cleanupTempDirs,  tempDir } from './helpers/cli.ts';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';

let app: DemoApp;

/** An ops folder with its own ltc.config.yaml (and so its own .ltc/). */
async function opsDir(gates: unknown[]): Promise<string> {
  const dir = await tempDir('ltc-gates-review-');
  await writeFile(join(dir, 'ltc.config.yaml'), stringify({ version: 1, app: { name: 'demo', repo: app.repoDir }, gates }));
  return dir;
}

/** A folder holding an `npm` that prints a line and fails: `npm ci` (the setup) fails for real. */
async function failingNpmPath(): Promise<string> {
  const bin = await tempDir('ltc-fake-npm-');
  await writeFile(join(bin, 'npm'), '#!/bin/sh\necho "npm ERR! cannot install: $*"\nexit 1\n');
  await chmod(join(bin, 'npm'), 0o755);
  return `${bin}${delimiter}${process.env.PATH ?? ''}`;
}

beforeAll(async () => {
  const root = await tempDir('ltc-gates-review-app-');
  app = await generateDemoApp({ dir: join(root, 'app') });
});

afterAll(cleanupTempDirs);

describe('ltc gates run: the setup (npm ci) fails', () => {
  it('JUnit: a gate that never ran says "not run: the setup (npm ci) failed" once, not "not run: not run: …"', async () => {
    const ops = await opsDir([{ name: 'build', run: ['npm', 'run', 'build'] }]);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--junit', 'gates.xml'], { cwd: ops, env: { PATH: await failingNpmPath() } });
    expect(r.code, r.stderr).toBe(1);
    const xml = await readFile(join(ops, 'gates.xml'), 'utf8');
    expect(xml).toContain('<skipped message="not run: the setup (npm ci) failed"/>');
    expect(xml).not.toContain('not run: not run');
  });

  it('JUnit: the failed setup is a failing testcase with its log tail, so a CI does not read the run as green', async () => {
    const ops = await opsDir([{ name: 'build', run: ['npm', 'run', 'build'] }, { name: 'e2e', run: ['npm', 'run', 'e2e'] }]);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--junit', 'gates.xml'], { cwd: ops, env: { PATH: await failingNpmPath() } });
    expect(r.code, r.stderr).toBe(1);
    const xml = await readFile(join(ops, 'gates.xml'), 'utf8');
    expect(xml).toMatch(/<testsuite name="[^"]*" tests="3" failures="1" errors="0" skipped="2"/);
    const setup = /<testcase name="setup" classname="gates.setup" time="[\d.]+">\s*<failure message="failed: npm ci exited 1" type="failed">([^<]*)<\/failure>/.exec(xml);
    expect(setup, xml).not.toBeNull();
    expect(setup![1]).toContain('npm ERR! cannot install: ci --no-audit --no-fund');
    expect(xml.indexOf('name="setup"')).toBeLessThan(xml.indexOf('name="build"'));
  });

  it('the terminal shows what npm printed, not the setup log\'s header (command, cwd, start) that the setup line already says', async () => {
    const ops = await opsDir([{ name: 'build', run: ['npm', 'run', 'build'] }]);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01'], { cwd: ops, env: { PATH: await failingNpmPath() } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^setup\s+failed\s+\S+\s+npm ci exited 1$/m);
    expect(r.stdout).toMatch(/── setup: last 1 line of .*_setup\.log ──\nnpm ERR! cannot install: ci --no-audit --no-fund\n/);
    expect(r.stdout).not.toContain('# ltc gates setup:');
    expect(r.stdout).not.toMatch(/^# (cwd|started): /m);
  });
});

describe('ltc gates run: gate definitions that cannot be recorded apart', () => {
  it('two gates with one name, a gate named like a phase (setup, checkout), a timeout of 0: exit 2 naming the gate, nothing run or written', async () => {
    const cases: Array<[unknown[], RegExp]> = [
      [[{ name: 'build', run: ['npm', 'run', 'build'] }, { name: 'build', run: ['npm', 'run', 'e2e'] }], /gates\[1\]\.name: gate name "build" is used twice/],
      [[{ name: 'setup', run: ['node', 'tools/ist_check.mjs'] }], /gates\[0\]\.name: "setup" is a phase of ltc gates run/],
      [[{ name: 'checkout', run: ['node', 'tools/ist_check.mjs'] }], /gates\[0\]\.name: "checkout" is a phase of ltc gates run/],
      [[{ name: 'e2e', run: ['npm', 'run', 'e2e'], timeout: '0s' }], /gates\[0\]\.timeout: expected a gate timeout from 1s/],
    ];
    for (const [gates, message] of cases) {
      const ops = await opsDir(gates);
      const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], { cwd: ops });
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('ltc.config.yaml');
      expect(r.stderr).toMatch(/^hint: /m);
      expect(r.stdout).toBe('');
      expect(existsSync(join(ops, '.ltc'))).toBe(false);
    }
  });
});

describe('ltc gates run: a script that is not executable', () => {
  it('the reason names the interpreter for its kind of file: node for a .mjs, not bash', async () => {
    const ops = await opsDir([{ name: 'test-all', run: ['tools/test_all.mjs'] }]);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install', '--json'], { cwd: ops });
    expect(r.code, r.stderr).toBe(1);
    const gate = (r.json as { gates: Array<{ status: string; exitCode: number; reason: string }> }).gates[0]!;
    expect(gate).toMatchObject({ status: 'failed', exitCode: 126 });
    expect(gate.reason).toContain('tools/test_all.mjs is not executable; run it through its interpreter: run: [node, tools/test_all.mjs]');
    expect(gate.reason).not.toContain('[bash, tools/test_all.mjs]');
  });
});

describe('ltc gates run: locked by another run for the same commit', () => {
  it('exit 5 with the error only: no heading of a run that never starts', async () => {
    const marks = await tempDir('ltc-gates-lock-');
    const started = join(marks, 'started');
    const ops = await opsDir([{ name: 'hang', shell: 'bash', run: ['touch "$STARTED"; sleep 300'], env: { STARTED: started } }]);
    const first = execa(process.execPath, [LTC, 'gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], { cwd: ops, env: { NO_COLOR: '1', CI: 'true' }, reject: false, timeout: 60_000 });
    try {
      for (const until = Date.now() + 20_000; !existsSync(started); ) {
        if (Date.now() > until) throw new Error('the first run never started its gate');
        await new Promise((r) => setTimeout(r, 50));
      }
      const second = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], { cwd: ops });
      expect(second.code, second.stderr).toBe(5);
      expect(second.stderr).toMatch(/^error: running the gates for commit \w{12}: held by another ltc process/m);
      expect(second.stdout).toBe('');
    } finally {
      first.kill('SIGINT');
      expect((await first).exitCode).toBe(130);
    }
  });
});

describe('the gate step with a bad rc or ref', () => {
  it('names the step\'s key (gate.rc, gate.ref), not the --rc flag the runbook\'s user never typed; exit 2, no gates run', async () => {
    const ops = await opsDir([{ name: 'ist-check', run: ['node', 'tools/ist_check.mjs'] }]);
    await mkdir(join(ops, 'runbooks'));
    const book = (key: string) =>
      ['name: gated', 'description: gates for a name', 'inputs:', '  name: { type: string }', 'steps:', '  - id: gates', `    gate: { ${key}: "\${{ inputs.name }}", if_not_green: run }`, ''].join('\n');
    await writeFile(join(ops, 'runbooks', 'by-rc.yaml'), book('rc').replace('name: gated', 'name: by-rc'));
    await writeFile(join(ops, 'runbooks', 'by-ref.yaml'), book('ref').replace('name: gated', 'name: by-ref'));
    const rc = await runLtc(['runbook', 'run', 'by-rc', '--input', 'name=rc-1;id'], { cwd: ops });
    expect(rc.code, rc.stdout + rc.stderr).toBe(2);
    expect(rc.stderr).toContain('error: gate.rc "rc-1;id" contains ";", a shell character ltc does not accept in a ref name; refused');
    expect(rc.stderr).toContain('hint: gate.rc takes a release candidate tag');
    expect(rc.stdout + rc.stderr).not.toContain('--rc');
    const ref = await runLtc(['runbook', 'run', 'by-ref', '--input', 'name=--upload-pack=x'], { cwd: ops });
    expect(ref.code, ref.stdout + ref.stderr).toBe(2);
    expect(ref.stderr).toContain('error: gate.ref "--upload-pack=x" starts with "-" and would be read as an option; refused');
    expect(existsSync(join(ops, '.ltc', 'gates'))).toBe(false);
  });
});

describe('ltc gates run stopped by SIGTERM', () => {
  it('exit 130, the gate recorded as interrupted; the result and the output say SIGTERM, not Ctrl-C', async () => {
    const marks = await tempDir('ltc-gates-term-');
    const started = join(marks, 'started');
    const ops = await opsDir([{ name: 'hang', shell: 'bash', run: ['touch "$STARTED"; sleep 300'], env: { STARTED: started } }]);
    const run = execa(process.execPath, [LTC, 'gates', 'run', '--rc', 'rc-2026-03-01', '--no-install', '--json'], { cwd: ops, env: { NO_COLOR: '1', CI: 'true' }, reject: false, timeout: 60_000 });
    for (const until = Date.now() + 20_000; !existsSync(started); ) {
      if (Date.now() > until) throw new Error('the gate never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    run.kill('SIGTERM');
    const r = await run;
    expect(r.exitCode).toBe(130);
    const doc = JSON.parse(r.stdout) as { status: string; gates: Array<{ status: string; reason: string }> };
    expect(doc.status).toBe('interrupted');
    expect(doc.gates[0]).toMatchObject({ status: 'interrupted', reason: 'ended: interrupted (SIGTERM)' });
    const human = await runLtc(['gates', 'status', '--rc', 'rc-2026-03-01'], { cwd: ops });
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('interrupted');
    expect(r.stdout + r.stderr).not.toContain('Ctrl-C');
  });
});

describe('ltc gates run when its terminal goes away (SIGHUP)', () => {
  it('the gates and their children are ended, the result says interrupted (SIGHUP), exit 130; before, ltc died and left them running', async () => {
    const marks = await tempDir('ltc-gates-hup-');
    const pidFile = join(marks, 'pids');
    const ops = await opsDir([
      { name: 'hang', shell: 'bash', run: ['sleep 300 & echo $! >> "$PIDS"; echo $$ >> "$PIDS"; wait'], env: { PIDS: pidFile }, parallel: true },
      { name: 'hang2', shell: 'bash', run: ['sleep 300 & echo $! >> "$PIDS"; echo $$ >> "$PIDS"; wait'], env: { PIDS: pidFile }, parallel: true },
    ]);
    const run = execa(process.execPath, [LTC, 'gates', 'run', '--rc', 'rc-2026-03-01', '--no-install', '--jobs', '2'], { cwd: ops, env: { NO_COLOR: '1', CI: 'true' }, reject: false, timeout: 60_000 });
    let pids: number[] = [];
    try {
      for (const until = Date.now() + 20_000; pids.length < 4; ) {
        if (Date.now() > until) throw new Error(`only ${pids.length} of 4 gate processes started`);
        await new Promise((r) => setTimeout(r, 50));
        pids = existsSync(pidFile) ? (await readFile(pidFile, 'utf8')).split('\n').filter(Boolean).map(Number) : [];
      }
      run.kill('SIGHUP');
      const r = await run;
      expect(r.exitCode, r.stdout + r.stderr).toBe(130);
      expect(r.stdout).toContain('gates interrupted: 0 of 2 passed before SIGHUP');
      const left = pids.filter((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
        } catch {
          return false;
        }
      });
      expect(left).toEqual([]);
      const result = JSON.parse(await readFile(join(ops, '.ltc', 'gates', `${app.tags.find((t) => t.name === 'rc-2026-03-01')!.commit}.json`), 'utf8')) as {
        status: string;
        gates: Array<{ status: string; reason: string }>;
      };
      expect(result.status).toBe('interrupted');
      expect(result.gates.map((g) => [g.status, g.reason])).toEqual([
        ['interrupted', 'ended: interrupted (SIGHUP)'],
        ['interrupted', 'ended: interrupted (SIGHUP)'],
      ]);
    } finally {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  });
});

describe('ltc gates run --dry-run', () => {
  it('resolves the tag and prints the checkout, setup and gates in their batches; nothing is checked out, run or written', async () => {
    const ops = await opsDir([
      { name: 'build', run: ['touch', 'build-ran'] },
      { name: 'unit', run: ['npm', 'test'], parallel: true },
      { name: 'lint', run: ['npm', 'run', 'lint'], parallel: true, required: false },
    ]);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--dry-run'], { cwd: ops });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Plan for ltc gates run on rc-2026-03-01 \(commit [0-9a-f]{12}\) — dry run/);
    expect(r.stdout).toMatch(/3\. gate:\n\s+build: touch build-ran, timeout 15m/);
    expect(r.stdout).toMatch(/4\. together \(at most \d+ at once\):\n\s+unit: npm test, timeout 15m\n\s+lint: npm run lint, timeout 15m, not required/);
    expect(existsSync(join(ops, '.ltc'))).toBe(false);

    const json = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--dry-run', '--only', 'unit', '--json'], { cwd: ops });
    expect(json.code).toBe(0);
    expect(json.json).toMatchObject({ ok: true, dryRun: true, gates: [{ name: 'unit', batch: 1 }], notSelected: ['build', 'lint'] });

    const missing = await runLtc(['gates', 'run', '--rc', 'rc-2099-01-01', '--dry-run'], { cwd: ops });
    expect(missing.code).toBe(2);
    expect(existsSync(join(ops, '.ltc'))).toBe(false);
  });
});
