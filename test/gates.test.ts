/**
 * `ltc gates`: the built binary against a real generated demo app repo with real tags, gates
 * mapped to the demo's Node tools, real processes (timeouts, Ctrl-C, fail-fast end real trees).
 */
import { ProcessPort } from '../src/exec/process.js';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { parse as parseYaml, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoApp, type DemoApp } from '../src/demo/generate-app.ts';
import { LTC, cleanupTempDirs, runLtc, tempDir } from './helpers/cli.ts';
import type { GateResult } from '../src/gates/result.ts';

const HANDBOOK_GATES = [
  { name: 'diff-check', run: ['git', 'diff', '--check', 'HEAD~1', 'HEAD'], parallel: true },
  { name: 'build', run: ['npm', 'run', 'build'] },
  { name: 'e2e', run: ['npm', 'run', 'e2e'], timeout: '5m' },
  { name: 'test-all', run: ['node', 'tools/test_all.mjs'], parallel: true },
  { name: 'ist-check', run: ['node', 'tools/ist_check.mjs'], parallel: true },
];

let root = '';
let app: DemoApp;
let appHead = '';
const commitOf = (tag: string) => app.tags.find((t) => t.name === tag)!.commit;

/** An ops folder with its own ltc.config.yaml (and so its own .ltc/). */
async function opsDir(gates: unknown[], extra: Record<string, unknown> = {}, repo?: string): Promise<string> {
  const dir = await tempDir('ltc-gates-ops-');
  await writeFile(join(dir, 'ltc.config.yaml'), stringify({ version: 1, app: { name: 'demo', repo: repo ?? app.repoDir }, gates, ...extra }));
  return dir;
}

function readResult(ops: string, commit: string): GateResult {
  return JSON.parse(readFileSync(join(ops, '.ltc', 'gates', `${commit}.json`), 'utf8')) as GateResult;
}

/** Alive means running (a zombie left to a non-reaping init is gone for our purposes). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function pidsFrom(file: string, count: number, deadlineMs = 20_000): Promise<number[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const pids = existsSync(file) ? (await readFile(file, 'utf8')).split('\n').filter(Boolean).map(Number) : [];
    if (pids.length >= count) return pids;
    if (Date.now() > until) throw new Error(`only ${pids.length} of ${count} pids appeared in ${file}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitGone(pids: number[], deadlineMs = 5000): Promise<number[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A bash gate that starts two background sleeps, writes their pids and its own, then waits. */
function hangingGate(name: string, pidFile: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    shell: 'bash',
    run: ['sleep 300 & echo $! >> "$PIDS"; sleep 300 & echo $! >> "$PIDS"; echo $$ >> "$PIDS"; wait'],
    env: { PIDS: pidFile },
    ...extra,
  };
}

async function appCheckoutState(): Promise<{ head: string; status: string; entries: string[] }> {
  const head = (await execa('git', ['rev-parse', 'HEAD'], { cwd: app.repoDir })).stdout.trim();
  const status = (await execa('git', ['status', '--porcelain', '--ignored'], { cwd: app.repoDir })).stdout;
  const entries = (await readdir(app.repoDir)).sort();
  return { head, status, entries };
}

let untouched: { head: string; status: string; entries: string[] };

beforeAll(async () => {
  root = await tempDir('ltc-gates-');
  app = await generateDemoApp({ dir: join(root, 'app') });
  untouched = await appCheckoutState();
  appHead = untouched.head;
});

afterAll(cleanupTempDirs);

describe('ltc gates run: the handbook gates on a real release candidate', () => {
  it('all five gates pass on rc-2026-03-01 in a clean work tree; result, logs, audit; the person\'s checkout is untouched', async () => {
    const ops = await opsDir(HANDBOOK_GATES);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--json'], { cwd: ops });
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json as GateResult & { ok: boolean; resultFile: string };
    expect(doc.ok).toBe(true);
    expect(doc.commit).toBe(commitOf('rc-2026-03-01'));
    expect(doc.tag).toBe('rc-2026-03-01');
    expect(doc.status).toBe('passed');
    expect(doc.setup.status).toBe('passed'); // npm ci: the demo app has a package-lock.json
    expect(doc.gates.map((g) => [g.name, g.status, g.exitCode])).toEqual(HANDBOOK_GATES.map((g) => [g.name, 'passed', 0]));

    const file = join(ops, '.ltc', 'gates', `${doc.commit}.json`);
    expect(doc.resultFile).toBe(file);
    const recorded = readResult(ops, doc.commit);
    expect(recorded.status).toBe('passed');
    expect(Date.parse(recorded.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(recorded.startedAt));
    for (const g of recorded.gates) {
      expect(g.log).toBe(join(ops, '.ltc', 'gates', doc.commit, `${g.name}.log`));
      expect(existsSync(g.log)).toBe(true);
    }
    // Each log holds the gate's whole output.
    expect(readFileSync(join(ops, '.ltc', 'gates', doc.commit, 'build.log'), 'utf8')).toContain('built dist/ for version 1.1.0 (rc-2026-03-01)');
    expect(readFileSync(join(ops, '.ltc', 'gates', doc.commit, 'test-all.log'), 'utf8')).toContain('test_all passed');
    expect(readFileSync(join(ops, '.ltc', 'gates', doc.commit, '_setup.log'), 'utf8')).toContain('npm ci');
    // The work tree was ltc's own and is gone; the mirror stays as a cache.
    expect(existsSync(join(ops, '.ltc', 'work', doc.commit))).toBe(false);
    expect((await readdir(join(ops, '.ltc', 'cache'))).some((n) => n.endsWith('.git'))).toBe(true);
    // Audited.
    const audit = readFileSync(join(ops, '.ltc', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.at(-1)).toMatchObject({ action: 'gates.run', outcome: 'ok', rc: 'rc-2026-03-01' });
    // The person's own checkout of the app repo: same HEAD, nothing built, installed or changed in it.
    expect(await appCheckoutState()).toEqual(untouched);
    expect(appHead).toBe(commitOf('rc-2026-03-01.2'));

    // ltc gates status shows the recorded result, by tag and as the latest.
    const s = await runLtc(['gates', 'status', '--rc', 'rc-2026-03-01'], { cwd: ops });
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/gates for rc-2026-03-01 \(\w{12}\): passed/);
    for (const g of HANDBOOK_GATES) expect(s.stdout).toMatch(new RegExp(`${g.name}\\s+passed`));
    const latest = await runLtc(['gates', 'status', '--json'], { cwd: ops });
    expect(latest.code).toBe(0);
    expect(latest.json).toMatchObject({ ok: true, recorded: true, green: true, commit: doc.commit });
    // Another tag has no result: exit 1 and what to run.
    const none = await runLtc(['gates', 'status', '--rc', 'rc-2026-02-15'], { cwd: ops });
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('ltc gates run --rc rc-2026-02-15');
  });

  it('plain output without a TTY: one line per gate with status and duration', async () => {
    const ops = await opsDir(HANDBOOK_GATES.filter((g) => g.name === 'build' || g.name === 'ist-check'));
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], { cwd: ops });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^checkout\s+passed\s+\d/m);
    expect(r.stdout).toMatch(/^setup\s+skipped\s+skipped \(--no-install\)/m);
    expect(r.stdout).toMatch(/^build\s+passed\s+[\d.]+m?s$/m);
    expect(r.stdout).toMatch(/^ist-check\s+passed\s+[\d.]+m?s$/m);
    expect(r.stdout).toMatch(/gates passed: 2 of 2 for rc-2026-03-01/);
    expect(r.stdout).not.toMatch(/\u001b\[/); // no colour, no spinner
  });

  it('a failing required gate: exit 1, its log tail printed; JUnit XML parses with the right counts; GITHUB_STEP_SUMMARY gets a table', async () => {
    const ops = await opsDir([
      { name: 'ok', shell: 'bash', run: ['echo fine'] },
      { name: 'bad', shell: 'bash', run: ['for i in $(seq 1 60); do echo "line $i"; done; echo \'<oops> & "quoted" ]]> \'; exit 3'] },
      { name: 'optional', shell: 'bash', run: ['echo soft failure; exit 1'], required: false },
      { name: 'e2e', run: ['npm', 'run', 'e2e'] },
    ]);
    const summary = join(ops, 'summary.md');
    await writeFile(summary, '# earlier step\n');
    // rc-2026-03-01.1 is the release whose /api/health answers 500: its e2e gate fails for real.
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01.1', '--junit', 'reports/gates.xml', '--no-install'], {
      cwd: ops,
      env: { GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^bad\s+failed\s+[\d.]+m?s\s+exited 3$/m);
    expect(r.stdout).toMatch(/^optional\s+failed.*\(not required\)/m);
    expect(r.stdout).toMatch(/^e2e\s+failed/m);
    // The last 40 lines of the failed gate's log: line 60 yes, line 10 no.
    expect(r.stdout).toContain('── bad: last 40 lines of');
    expect(r.stdout).toContain('line 60');
    expect(r.stdout).not.toMatch(/^line 10$/m);
    expect(r.stdout).toContain('FAIL - GET /api/health');
    expect(r.stdout).toContain('warning: gate optional failed (not required');
    const result = readResult(ops, commitOf('rc-2026-03-01.1'));
    expect(result.status).toBe('failed');
    expect(result.gates.map((g) => [g.name, g.status, g.exitCode])).toEqual([
      ['ok', 'passed', 0],
      ['bad', 'failed', 3],
      ['optional', 'failed', 1],
      ['e2e', 'failed', 1],
    ]);

    const xml = join(ops, 'reports', 'gates.xml');
    const parsed = await execa('python3', [
      '-c',
      `import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root.find('testsuite')
cases = {c.get('name'): {k.tag: (k.get('type'), k.text) for k in c} for c in suite.findall('testcase')}
print(json.dumps({'root': root.tag, 'attrs': suite.attrib, 'cases': cases}))`,
      xml,
    ], { reject: false });
    if (parsed.exitCode !== 0 && /ENOENT/.test(String(parsed.stderr) + String((parsed as { code?: string }).code))) {
      throw new Error('python3 is needed to parse the JUnit XML: install it (Debian package: python3)');
    }
    expect(parsed.exitCode, parsed.stderr).toBe(0);
    const junit = JSON.parse(parsed.stdout) as { root: string; attrs: Record<string, string>; cases: Record<string, Record<string, [string, string]>> };
    expect(junit.root).toBe('testsuites');
    expect(junit.attrs).toMatchObject({ tests: '4', failures: '3', errors: '0', skipped: '0' });
    expect(Object.keys(junit.cases)).toEqual(['ok', 'bad', 'optional', 'e2e']);
    expect(junit.cases.ok).toEqual({});
    expect(junit.cases.bad!.failure![0]).toBe('failed');
    expect(junit.cases.bad!.failure![1]).toContain('<oops> & "quoted" ]]>'); // escaped in the file, intact when parsed
    expect(junit.cases.e2e!.failure![1]).toContain('FAIL - GET /api/health');

    const md = await readFile(summary, 'utf8');
    expect(md.startsWith('# earlier step\n')).toBe(true); // appended, not overwritten
    expect(md).toContain('### ltc gates: rc-2026-03-01.1');
    expect(md).toContain('| gate | status | exit | duration | required | note |');
    expect(md).toMatch(/^\| ok \| ✅ passed \| 0 \|/m);
    expect(md).toMatch(/^\| bad \| ❌ failed \| 3 \|/m);
    expect(md).toMatch(/^\| optional \| ❌ failed \| 1 \| .* \| no \|/m);
  });

  it('an audit log that cannot be appended to: the run keeps its outcome and says so on stderr', async () => {
    const ops = await opsDir([{ name: 'ok', shell: 'bash', run: ['true'] }]);
    await mkdir(join(ops, '.ltc', 'audit.jsonl'), { recursive: true }); // a folder where the file should be
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], { cwd: ops });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: could not append to the audit log .*audit\.jsonl/);
    expect(readResult(ops, commitOf('rc-2026-03-01')).status).toBe('passed');
  });

  it('a non-required gate that fails is reported but the run passes', async () => {
    const ops = await opsDir([
      { name: 'ok', shell: 'bash', run: ['true'] },
      { name: 'optional', shell: 'bash', run: ['exit 4'], required: false },
    ]);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install', '--json'], { cwd: ops });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, status: 'passed' });
    expect(r.stderr).toMatch(/optional\s+failed/);
  });
});

describe('ltc gates run: PowerShell gates', () => {
  it('a pwsh gate without pwsh fails with the reason and how to map it; it never passes', async () => {
    const noPwshPath = (process.env.PATH ?? '').split(delimiter).filter((d) => d && !existsSync(join(d, 'pwsh'))).join(delimiter);
    const ops = await opsDir([
      { name: 'ist-check', run: ['node', 'tools/ist_check.mjs'] },
      { name: 'test-all', run: ['tools/test_all.ps1'], shell: 'pwsh' },
    ]);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], { cwd: ops, env: { PATH: noPwshPath } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^test-all\s+failed\s+.*PowerShell \(pwsh\) is not installed or not on PATH/m);
    expect(r.stdout).toContain('map the gate to another command in ltc.config.yaml');
    expect(r.stdout).toContain('run: [node, tools/test_all.mjs]');
    expect(r.stdout).toContain('remove `shell: pwsh`');
    const result = readResult(ops, commitOf('rc-2026-03-01'));
    expect(result.status).toBe('failed');
    expect(result.gates.find((g) => g.name === 'test-all')).toMatchObject({ status: 'failed' });
    expect(result.gates.find((g) => g.name === 'test-all')!.reason).toContain('pwsh');
    expect(readFileSync(result.gates.find((g) => g.name === 'test-all')!.log, 'utf8')).toContain('not installed');
  });

  it('`ltc init` writes the handbook\'s five gates, the PowerShell tools through pwsh', async () => {
    const dir = await tempDir();
    const r = await runLtc(['init', '--repo', '../app'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const config = parseYaml(await readFile(join(dir, 'ltc.config.yaml'), 'utf8')) as { gates: Array<Record<string, unknown>> };
    expect(config.gates.map((g) => [g.name, (g.run as string[]).join(' '), g.shell ?? null])).toEqual([
      ['diff-check', 'git diff-tree --check --root -r --no-commit-id --diff-merges=first-parent HEAD', null],
      ['build', 'npm run build', null],
      ['e2e', 'npm run e2e', null],
      ['test-all', 'tools/test_all.ps1', 'pwsh'],
      ['ist-check', 'tools/ist_check.ps1', 'pwsh'],
    ]);
  });
});

describe('ltc gates run: bad input', () => {
  it('a tag that does not exist: exit 2, the nearest tags as a hint, nothing written', async () => {
    const ops = await opsDir(HANDBOOK_GATES);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-02'], { cwd: ops });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: tag "rc-2026-03-02" does not exist in the app repo');
    expect(r.stderr).toMatch(/hint: .*rc-2026-03-01/);
    expect(existsSync(join(ops, '.ltc'))).toBe(false);
  });

  it('an --rc that fails the tag pattern: exit 2 naming the pattern, nothing written', async () => {
    const ops = await opsDir(HANDBOOK_GATES);
    const r = await runLtc(['gates', 'run', '--rc', 'v1.2.3'], { cwd: ops });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--rc "v1.2.3" does not match the tag pattern');
    expect(r.stderr).toContain('app.tag_pattern');
    expect(existsSync(join(ops, '.ltc'))).toBe(false);
  });

  it('injection through --rc/--ref (rc-1;id, --upload-pack=x) is refused with exit 2 before any git command runs', async () => {
    const ops = await opsDir(HANDBOOK_GATES);
    const bin = await tempDir('ltc-gitwrap-');
    const calls = join(bin, 'calls.log');
    const realGit = (await execa('sh', ['-c', 'command -v git'])).stdout.trim();
    await writeFile(join(bin, 'git'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${calls}'\nexec '${realGit}' "$@"\n`);
    await chmod(join(bin, 'git'), 0o755);
    const env = { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };

    // The wrapper records calls: a valid status lookup goes through it.
    const control = await runLtc(['gates', 'status', '--rc', 'rc-2026-03-01'], { cwd: ops, env });
    expect(control.code).toBe(1); // nothing recorded yet
    expect(readFileSync(calls, 'utf8')).toContain('ls-remote');
    await writeFile(calls, '');

    const attempts: string[][] = [
      ['--rc', 'rc-1;id'],
      ['--rc=--upload-pack=x'],
      ['--rc', '--upload-pack=x'],
      ['--ref', '--upload-pack=touch /tmp/pwned'],
      ['--ref', 'main;id'],
      ['--rc', 'rc-2026-03-01 --upload-pack=x'],
      ['--rc', '$(id)'],
      ['--ref', '../../etc'],
    ];
    for (const args of attempts) {
      for (const verb of ['run', 'status']) {
        const r = await runLtc(['gates', verb, ...args], { cwd: ops, env });
        expect(r.code, `${verb} ${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stderr, args.join(' ')).toMatch(/error: .*(refused|does not match|not a valid)/);
      }
    }
    expect(readFileSync(calls, 'utf8')).toBe(''); // git never ran
    expect(existsSync(join(ops, '.ltc'))).toBe(false); // no cache, work tree or result
  });

  it('a gate command that does not exist fails that gate (exit 127 recorded) and the run (exit 1)', async () => {
    const ops = await opsDir([
      { name: 'missing', run: ['ltc-no-such-command-xyz', '--flag'] },
      { name: 'missing-file', run: ['tools/nope.sh'] },
    ]);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], { cwd: ops });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^missing\s+failed.*command not found: ltc-no-such-command-xyz/m);
    expect(r.stdout).toMatch(/^missing-file\s+failed.*command not found: tools\/nope\.sh/m);
    const result = readResult(ops, commitOf('rc-2026-03-01'));
    expect(result.gates.map((g) => [g.status, g.exitCode])).toEqual([['failed', 127], ['failed', 127]]);
  });

  it('a gate that hangs past its timeout is ended with its child processes (timed_out, exit 1)', async () => {
    const dir = await tempDir('ltc-pids-');
    const pidFile = join(dir, 'pids');
    const ops = await opsDir([hangingGate('hang', pidFile, { timeout: '1s' }), { name: 'after', shell: 'bash', run: ['echo after'] }]);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], { cwd: ops, timeout: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^hang\s+timed out\s+.*timed out after 1s/m);
    const pids = await pidsFrom(pidFile, 3, 0);
    expect(await waitGone(pids)).toEqual([]);
    const result = readResult(ops, commitOf('rc-2026-03-01'));
    expect(result.gates.map((g) => g.status)).toEqual(['timed_out', 'passed']);
  });

  it('Ctrl-C in the middle: children ended, exit 130, the result file says interrupted', async () => {
    const dir = await tempDir('ltc-pids-');
    const pidFile = join(dir, 'pids');
    const ops = await opsDir([{ name: 'first', shell: 'bash', run: ['true'] }, hangingGate('hang', pidFile), { name: 'later', shell: 'bash', run: ['true'] }]);
    const child = execa(process.execPath, [LTC, 'gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], {
      cwd: ops,
      env: { NO_COLOR: '1', CI: 'true' },
      reject: false,
      timeout: 60_000,
    });
    const pids = await pidsFrom(pidFile, 3);
    expect(pids.every(alive)).toBe(true);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(await waitGone(pids)).toEqual([]);
    const result = readResult(ops, commitOf('rc-2026-03-01'));
    expect(result.status).toBe('interrupted');
    expect(result.gates.map((g) => g.status)).toEqual(['passed', 'interrupted', 'not_run']);
    expect(String(r.stdout)).toMatch(/gates interrupted/);
    expect(existsSync(join(ops, '.ltc', 'work', commitOf('rc-2026-03-01')))).toBe(false);
    const audit = readFileSync(join(ops, '.ltc', 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.at(-1)).toMatchObject({ action: 'gates.run', outcome: 'interrupted' });
  });

  it('a second Ctrl-C exits at once: gates that ignore SIGTERM are killed with their process groups, the result says interrupted', async () => {
    const dir = await tempDir('ltc-pids-');
    const pidFile = join(dir, 'pids');
    // Ignores SIGTERM (and so do its children): only the SIGKILL after the grace, or the exit guard, ends it.
    const stubborn = { name: 'stubborn', shell: 'bash', run: [`trap '' TERM; sleep 300 & echo $! >> "$PIDS"; sleep 300 & echo $! >> "$PIDS"; echo $$ >> "$PIDS"; wait`], env: { PIDS: pidFile }, parallel: true };
    const ops = await opsDir([{ name: 'first', shell: 'bash', run: ['true'] }, stubborn, { name: 'later', shell: 'bash', run: ['true'] }]);
    const child = execa(process.execPath, [LTC, 'gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], {
      cwd: ops,
      env: { NO_COLOR: '1', CI: 'true' },
      reject: false,
      timeout: 60_000,
    });
    const pids = await pidsFrom(pidFile, 3);
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    expect(pids.every(alive)).toBe(true); // SIGTERM was ignored; the 2 s grace is running
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode).toBe(130);
    expect(await waitGone(pids, 2000)).toEqual([]); // without the guard nothing would end them: ltc (and its grace timer) is gone
    const result = readResult(ops, commitOf('rc-2026-03-01'));
    expect(result.status).toBe('interrupted');
    expect(result.gates.map((g) => g.status)).toEqual(['passed', 'interrupted', 'not_run']);
    expect(result.gates[1]!.reason).toContain('second Ctrl-C');
  });

  it('processes a passed gate leaves behind in its process group are ended, and its log says so', async () => {
    const dir = await tempDir('ltc-pids-');
    const pidFile = join(dir, 'pids');
    const ops = await opsDir([{ name: 'leaves', shell: 'bash', run: ['sleep 300 >/dev/null 2>&1 & echo $! >> "$PIDS"; echo started'], env: { PIDS: pidFile } }]);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install', '--json'], { cwd: ops });
    expect(r.code, r.stderr).toBe(0);
    expect(await waitGone(await pidsFrom(pidFile, 1, 0))).toEqual([]);
    const log = readFileSync(readResult(ops, commitOf('rc-2026-03-01')).gates[0]!.log, 'utf8');
    expect(log).toContain('ltc: the gate left processes running in its process group; they were ended');
  });

  it('a gate cwd that leads outside the checkout is a config error: exit 2 before anything runs or is written', async () => {
    for (const cwd of ['../..', '/etc', 'tools/../../x']) {
      const ops = await opsDir([{ name: 'ok', shell: 'bash', run: ['true'] }, { name: 'escape', run: ['pwd'], cwd }]);
      const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], { cwd: ops });
      expect(r.code, cwd).toBe(2);
      expect(r.stderr).toContain(`error: gates.escape.cwd ${JSON.stringify(cwd)} leads outside the checkout`);
      expect(existsSync(join(ops, '.ltc'))).toBe(false);
    }
  });

  it('an app repo path that is not a git repository (or does not exist): exit 2 naming app.repo', async () => {
    const plain = await tempDir('ltc-not-git-');
    await writeFile(join(plain, 'README.md'), 'not a repo\n');
    const ops = await opsDir(HANDBOOK_GATES, {}, plain);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01'], { cwd: ops });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: app.repo ${plain} is not a git repository`);
    expect(r.stderr).toMatch(/hint: point app.repo in ltc.config.yaml/);
    expect(existsSync(join(ops, '.ltc'))).toBe(false);

    const missing = await opsDir(HANDBOOK_GATES, {}, join(plain, 'nowhere'));
    const m = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01'], { cwd: missing });
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('nowhere does not exist');
  });

  it('--only with an unknown gate name: exit 2 with did-you-mean', async () => {
    const ops = await opsDir(HANDBOOK_GATES);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--only', 'biuld'], { cwd: ops });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('did you mean "build"?');
  });
});

describe('ltc gates run: --fail-fast, --only, --ref', () => {
  it('--fail-fast ends the running gates and cancels the rest when a required gate fails', async () => {
    const dir = await tempDir('ltc-pids-');
    const pidFile = join(dir, 'pids');
    const ops = await opsDir([
      { name: 'slow', ...hangingGate('slow', pidFile), parallel: true },
      { name: 'breaks', shell: 'bash', run: ['while [ $(wc -l < "$PIDS" 2>/dev/null || echo 0) -lt 3 ]; do sleep 0.05; done; echo broken; exit 2'], env: { PIDS: pidFile }, parallel: true },
      { name: 'after', shell: 'bash', run: ['echo should not run'] },
    ]);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install', '--fail-fast', '--jobs', '2'], { cwd: ops, timeout: 30_000 });
    expect(r.code).toBe(1);
    const result = readResult(ops, commitOf('rc-2026-03-01'));
    expect(result.failFast).toBe(true);
    expect(result.gates.map((g) => [g.name, g.status])).toEqual([
      ['slow', 'cancelled'],
      ['breaks', 'failed'],
      ['after', 'cancelled'],
    ]);
    expect(result.gates[2]!.startedAt).toBeUndefined();
    expect(await waitGone(await pidsFrom(pidFile, 3, 0))).toEqual([]);
    expect(r.stdout).toMatch(/^slow\s+cancelled/m);
  });

  it('a second run for the same commit while one is running: exit 5 (locked), the first is not disturbed', async () => {
    const dir = await tempDir('ltc-pids-');
    const pidFile = join(dir, 'pids');
    const ops = await opsDir([hangingGate('hang', pidFile)]);
    const first = execa(process.execPath, [LTC, 'gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], { cwd: ops, env: { NO_COLOR: '1', CI: 'true' }, reject: false, timeout: 60_000 });
    const pids = await pidsFrom(pidFile, 3);
    const second = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], { cwd: ops });
    expect(second.code).toBe(5);
    expect(second.stderr).toMatch(/running the gates for commit \w{12}: held by another ltc process/);
    expect(pids.every(alive)).toBe(true);
    first.kill('SIGINT');
    expect((await first).exitCode).toBe(130);
    expect(await waitGone(pids)).toEqual([]);
  });

  it('without --fail-fast the other gates run to the end', async () => {
    const ops = await opsDir([
      { name: 'breaks', shell: 'bash', run: ['exit 2'] },
      { name: 'after', shell: 'bash', run: ['echo ran'] },
    ]);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], { cwd: ops });
    expect(r.code).toBe(1);
    expect(readResult(ops, commitOf('rc-2026-03-01')).gates.map((g) => g.status)).toEqual(['failed', 'passed']);
  });

  it('--only runs the named gates; the run is incomplete, so it does not count as green', async () => {
    const ops = await opsDir(HANDBOOK_GATES);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--only', 'build,ist-check', '--no-install', '--json'], { cwd: ops });
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json as GateResult;
    expect(doc.status).toBe('incomplete');
    expect(doc.gates.map((g) => g.status)).toEqual(['not_run', 'passed', 'not_run', 'not_run', 'passed']);
    const s = await runLtc(['gates', 'status', '--rc', 'rc-2026-03-01'], { cwd: ops });
    expect(s.code).toBe(1);
  });

  it('--ref takes a branch or a commit id; the record names the ref', async () => {
    const ops = await opsDir([{ name: 'build', run: ['npm', 'run', 'build'] }]);
    const byBranch = await runLtc(['gates', 'run', '--ref', 'main', '--no-install', '--json'], { cwd: ops });
    expect(byBranch.code, byBranch.stderr).toBe(0);
    expect(byBranch.json).toMatchObject({ commit: commitOf('rc-2026-03-01.2'), ref: 'refs/heads/main', status: 'passed' });
    const sha = commitOf('rc-2026-02-15');
    const byCommit = await runLtc(['gates', 'run', '--ref', sha.slice(0, 10), '--no-install', '--json'], { cwd: ops });
    expect(byCommit.code, byCommit.stderr).toBe(0);
    expect(byCommit.json).toMatchObject({ commit: sha, status: 'passed' });
    expect(readFileSync(join(ops, '.ltc', 'gates', sha, 'build.log'), 'utf8')).toContain('version 1.0.0 (rc-2026-02-15)');
  });
});

describe('the diff-check gate on a repository\'s first commit', () => {
  it('`git diff --check HEAD~1 HEAD` fails there with a hint; the diff-tree form checks the same change and works on a first commit', async () => {
    const repo = join(await tempDir('ltc-first-'), 'app');
    const g = (...args: string[]) => execa('git', args, { cwd: repo });
    await mkdir(repo);
    await g('init', '-q', '-b', 'main');
    await g('config', 'user.email', 'test@example.com');
    await g('config', 'user.name', 'test');
    await writeFile(join(repo, 'a.txt'), 'clean\n');
    await g('add', '.');
    await g('commit', '-qm', 'first');
    await g('tag', 'rc-2026-01-01');
    await writeFile(join(repo, 'b.txt'), 'trailing   \n');
    await g('add', '.');
    await g('commit', '-qm', 'second');
    await g('tag', 'rc-2026-01-02');
    const diffTree = ['git', 'diff-tree', '--check', '--root', '-r', '--no-commit-id', '--diff-merges=first-parent', 'HEAD'];
    const ops = await opsDir([
      { name: 'diff-check', run: ['git', 'diff', '--check', 'HEAD~1', 'HEAD'] },
      { name: 'diff-tree', run: diffTree },
    ], {}, repo);

    const first = await runLtc(['gates', 'run', '--rc', 'rc-2026-01-01', '--no-install'], { cwd: ops });
    expect(first.code).toBe(1);
    const r1 = readResult(ops, (await g('rev-parse', 'rc-2026-01-01^{commit}')).stdout.trim());
    expect(r1.gates.map((x) => [x.name, x.status, x.exitCode])).toEqual([['diff-check', 'failed', 128], ['diff-tree', 'passed', 0]]);
    expect(r1.gates[0]!.reason).toContain("HEAD~1 does not exist: the commit has no parent (it is the repository's first)");
    expect(r1.gates[0]!.reason).toContain(`run: [${diffTree.join(', ')}]`);
    expect(first.stdout).toMatch(/^diff-check\s+failed.*HEAD~1 does not exist/m);

    // On the second commit both forms find the trailing whitespace it added.
    const second = await runLtc(['gates', 'run', '--rc', 'rc-2026-01-02', '--no-install'], { cwd: ops });
    expect(second.code).toBe(1);
    const r2 = readResult(ops, (await g('rev-parse', 'rc-2026-01-02^{commit}')).stdout.trim());
    expect(r2.gates.map((x) => [x.name, x.status, x.exitCode])).toEqual([['diff-check', 'failed', 2], ['diff-tree', 'failed', 2]]);
    expect(readFileSync(r2.gates[1]!.log, 'utf8')).toContain('b.txt:1: trailing whitespace.');
    expect(r2.gates[0]!.reason).not.toContain('does not exist');
  });
});

describe('gate results for other commands', () => {
  it('gatesGreen / checkGatesGreen: passed and recent, else not; a changed gate definition is not green', async () => {
    const { checkGatesGreen, gatesGreen, readGateResult } = await import('../src/gates/result.ts');
    const gates = [{ name: 'ok', shell: 'bash' as const, run: ['true'], timeout: '1m', parallel: false, required: true }];
    const ops = await opsDir(gates);
    const r = await runLtc(['gates', 'run', '--rc', 'rc-2026-03-01', '--no-install'], { cwd: ops });
    expect(r.code, r.stderr).toBe(0);
    const state = join(ops, '.ltc');
    const commit = commitOf('rc-2026-03-01');
    expect((await readGateResult(state, commit))?.status).toBe('passed');
    expect(await gatesGreen(state, commit, 60_000)).toBe(true);
    expect(await gatesGreen(state, commit, 60_000, { gates })).toBe(true);
    expect(await gatesGreen(state, commitOf('rc-2026-02-15'), 60_000)).toBe(false);
    const old = await checkGatesGreen(state, commit, 60_000, { now: Date.now() + 3_600_000 });
    expect(old.green).toBe(false);
    expect(old.reason).toMatch(/longer than the allowed 1m/);
    const changed = await checkGatesGreen(state, commit, 60_000, { gates: [{ ...gates[0]!, run: ['false'] }] });
    expect(changed).toMatchObject({ green: false });
    expect(changed.reason).toContain('changed in the config');
  });

  it('secret values printed by a gate are masked in its log, the result and the JUnit/summary output', async () => {
    const { runGates } = await import('../src/gates/engine.ts');
    const { loadConfigFile } = await import('../src/config/load.ts');
    const { processMasker } = await import('../src/core/masker.ts');
    const { junitXml } = await import('../src/gates/report.ts');
    const secret = 'gate-test-secret-8c1f2a9e';
    processMasker.add(secret);
    const ops = await opsDir([{ name: 'leaky', shell: 'bash', run: ['echo "token=$TOKEN"; echo "$TOKEN" | base64; exit 1'], env: { TOKEN: secret } }]);
    const outcome = await runGates(
      { rc: 'rc-2026-03-01', install: false },
      { loaded: await loadConfigFile(join(ops, 'ltc.config.yaml')), stateDir: join(ops, '.ltc'), signal: new AbortController().signal, masker: processMasker },
    );
    expect(outcome.exitCode).toBe(1);
    const log = readFileSync(outcome.result.gates[0]!.log, 'utf8');
    expect(log).toContain('token=***');
    expect(log).not.toContain(secret);
    expect(log).not.toContain(Buffer.from(secret).toString('base64').slice(0, 20));
    expect(readFileSync(outcome.file, 'utf8')).not.toContain(secret);
    expect(junitXml(outcome.result, new Map([['leaky', log.split('\n')]]))).not.toContain(secret);
  });

  it('a runbook with a gate step (ltc runbook run): runs the gates once, then finds them green; a failing gate fails the run', async () => {
    const ops = await opsDir([{ name: 'build', run: ['npm', 'run', 'build'] }, { name: 'e2e', run: ['npm', 'run', 'e2e'] }]);
    await mkdir(join(ops, 'runbooks'));
    await writeFile(
      join(ops, 'runbooks', 'release-gates.yaml'),
      [
        'name: release-gates',
        'description: gates green for an rc, else run them',
        'inputs:',
        '  rc: { type: string }',
        'steps:',
        '  - id: gates',
        '    gate: { rc: "${{ inputs.rc }}", max_age: 1h }',
        '  - id: show',
        '    run: [echo, "commit=${{ steps.gates.outputs.commit }} ran=${{ steps.gates.outputs.ran }}"]',
        '',
      ].join('\n'),
    );
    const first = await runLtc(['runbook', 'run', 'release-gates', '--input', 'rc=rc-2026-03-01', '--verbose'], { cwd: ops });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout + first.stderr).toContain(`commit=${commitOf('rc-2026-03-01')} ran=true`);
    const second = await runLtc(['runbook', 'run', 'release-gates', '--input', 'rc=rc-2026-03-01', '--verbose'], { cwd: ops });
    expect(second.code).toBe(0);
    expect(second.stdout + second.stderr).toContain('ran=false');
    const broken = await runLtc(['runbook', 'run', 'release-gates', '--input', 'rc=rc-2026-03-01.1'], { cwd: ops });
    expect(broken.code).toBe(1);
    expect(broken.stdout + broken.stderr).toMatch(/gates failed for rc rc-2026-03-01\.1 \(\w{12}\): e2e failed/);
  });

  it('the gate step: runs the gates when not green, then reuses the green result; if_not_green: fail fails', async () => {
    const { default: gateStep } = await import('../src/steps/gate.ts');
    const { createContext } = await import('../src/core/context.ts');
    const { Output } = await import('../src/core/output.ts');
    const { Masker } = await import('../src/core/masker.ts');
    const { CheckFailedError } = await import('../src/core/errors.ts');
    const ops = await opsDir([{ name: 'ist-check', run: ['node', 'tools/ist_check.mjs'] }]);
    const masker = new Masker();
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    const ctx = createContext({
      cwd: ops,
      argv: [],
      env: { ...process.env, LTC_CONFIG: '', LTC_STATE_DIR: '' },
      options: { json: false, yes: false, dryRun: false, verbose: false, debug: false, color: false, approve: [] },
      out: new Output({ json: false, color: false, verbose: false, debug: false, masker, stdout: sink, stderr: sink }),
      masker,
      prompt: {} as never,
      signal: new AbortController().signal,
      isTTY: false,
      ci: true,
      processes: new ProcessPort(),
    });
    const lines: string[] = [];
    const step = { ctx, runId: 'r1', stepId: 'gates', signal: new AbortController().signal, log: (l: string) => lines.push(l) } as never;
    const spec = gateStep.schema.parse({ rc: 'rc-2026-03-01', max_age: '1h' });
    expect((await gateStep.plan(spec, step))[0]!.detail).toContain('require gates green for rc rc-2026-03-01 (passed within 1h)');
    const first = await gateStep.run(spec, step);
    expect(first.outputs).toMatchObject({ commit: commitOf('rc-2026-03-01'), status: 'passed', ran: true });
    expect(lines.join('\n')).toMatch(/no gate result recorded .*running the gates/);
    expect(lines.join('\n')).toMatch(/ist-check passed/);
    const second = await gateStep.run(spec, step);
    expect(second.outputs).toMatchObject({ status: 'passed', ran: false });
    const strict = gateStep.schema.parse({ rc: 'rc-2026-02-15', if_not_green: 'fail' });
    await expect(gateStep.run(strict, step)).rejects.toBeInstanceOf(CheckFailedError);
    expect(existsSync(join(ops, '.ltc', 'gates', `${commitOf('rc-2026-02-15')}.json`))).toBe(false);
  });
});

