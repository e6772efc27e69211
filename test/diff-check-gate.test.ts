/**
 * The diff-check gate that `ltc init` (templates/ltc.config.yaml) and `ltc demo` (src/demo/write-config.ts)
 * write: `git diff-tree --check --root -r --no-commit-id --diff-merges=first-parent HEAD`, which checks the
 * change the commit made and, unlike `git diff --check HEAD~1 HEAD`, works on a repository's first commit.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/parse.ts';
import { generateDemoApp } from '../src/demo/generate-app.ts';
import { demoConfig, writeDemoConfig } from '../src/demo/write-config.ts';
import { cleanupTempDirs,  tempDir } from './helpers/cli.ts';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';

afterAll(cleanupTempDirs);

const DIFF_TREE = ['git', 'diff-tree', '--check', '--root', '-r', '--no-commit-id', '--diff-merges=first-parent', 'HEAD'];

async function gitRepo(): Promise<{ repo: string; g: (...args: string[]) => Promise<string>; commit: (files: Record<string, string>, message: string) => Promise<void> }> {
  const repo = join(await tempDir('ltc-diffcheck-'), 'app');
  await mkdir(repo);
  const g = async (...args: string[]) => (await execa('git', ['-c', 'commit.gpgsign=false', ...args], { cwd: repo })).stdout;
  await g('init', '-q', '-b', 'main');
  await g('config', 'user.email', 'test@example.com');
  await g('config', 'user.name', 'test');
  const commit = async (files: Record<string, string>, message: string) => {
    for (const [name, text] of Object.entries(files)) await writeFile(join(repo, name), text);
    await g('add', '.');
    await g('commit', '-qm', message);
  };
  return { repo, g, commit };
}

/** The diff-check gate's command as `ltc init` writes it, after `ltc config validate` accepted the file. */
async function initGate(repo = '../app'): Promise<{ dir: string; run: string[] }> {
  const dir = await tempDir('ltc-diffcheck-ops-');
  const init = await runLtc(['init', '--repo', repo], { cwd: dir });
  expect(init.code, init.stderr).toBe(0);
  const validate = await runLtc(['config', 'validate', '--json'], { cwd: dir });
  expect(validate.code, validate.stderr).toBe(0);
  expect(validate.json).toMatchObject({ ok: true });
  const file = join(dir, 'ltc.config.yaml');
  const config = parseConfig(file, await readFile(file, 'utf8'));
  const gate = config.gates.find((x) => x.name === 'diff-check');
  expect(gate).toBeDefined();
  return { dir, run: [...gate!.run] };
}

async function check(argv: string[], cwd: string): Promise<{ code: number; out: string }> {
  const r = await execa(argv[0]!, argv.slice(1), { cwd, reject: false, all: true });
  return { code: r.exitCode ?? -1, out: r.all ?? '' };
}

describe('the diff-check gate written by ltc init and ltc demo', () => {
  it('ltc init and the demo config use the diff-tree form, and the init config validates', async () => {
    const { run } = await initGate();
    expect(run).toEqual(DIFF_TREE);
    const demo = demoConfig({ opsDir: '/ops', repoDir: '/repo', deployRoot: '/deploy', port: 1 }) as { gates: { name: string; run: string[] }[] };
    expect(demo.gates.find((x) => x.name === 'diff-check')?.run).toEqual(DIFF_TREE);
  });

  it('its command: first commit (clean passes, trailing whitespace fails), a normal commit, a merge commit', async () => {
    const { run } = await initGate();
    const { repo, g, commit } = await gitRepo();

    // A repository's only commit: checked (HEAD~1 does not exist there).
    await commit({ 'a.txt': 'clean\n' }, 'first');
    expect(await check(run, repo)).toEqual({ code: 0, out: '' });

    // A normal commit adding trailing whitespace: exit non-zero, naming file and line.
    await commit({ 'b.txt': 'one\ntrailing   \n' }, 'second');
    const bad = await check(run, repo);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toContain('b.txt:2: trailing whitespace.');

    // Only the commit's own change counts: the next clean commit passes though b.txt still has it.
    await commit({ 'c.txt': 'fine\n' }, 'third');
    expect(await check(run, repo)).toEqual({ code: 0, out: '' });

    // A merge commit: its change against the first parent. A clean side branch passes ...
    await g('checkout', '-qb', 'side', 'HEAD~1');
    await commit({ 'd.txt': 'side\n' }, 'side');
    await g('checkout', '-q', 'main');
    await g('merge', '-q', '--no-ff', '--no-edit', 'side');
    expect((await g('rev-list', '--parents', '-n1', 'HEAD')).split(' ')).toHaveLength(3);
    expect(await check(run, repo)).toEqual({ code: 0, out: '' });

    // ... a side branch bringing trailing whitespace into main fails, as `git diff --check HEAD~1 HEAD` would.
    await g('checkout', '-qb', 'side2');
    await commit({ 'e.txt': 'tab\t\n' }, 'side2');
    await g('checkout', '-q', 'main');
    await g('merge', '-q', '--no-ff', '--no-edit', 'side2');
    const merged = await check(run, repo);
    expect(merged.code).not.toBe(0);
    expect(merged.out).toContain('e.txt:1: trailing whitespace.');
  });

  it('a first commit with trailing whitespace fails it', async () => {
    const { run } = await initGate();
    const { repo, commit } = await gitRepo();
    await commit({ 'a.txt': 'x \n' }, 'first');
    const r = await check(run, repo);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('a.txt:1: trailing whitespace.');
  });

  it('ltc gates run with the init config passes diff-check on a repository\'s first commit', async () => {
    const { repo, commit } = await gitRepo();
    await commit({ 'a.txt': 'clean\n' }, 'first');
    const { dir } = await initGate(repo);
    const r = await runLtc(['gates', 'run', '--ref', 'main', '--only', 'diff-check', '--no-install', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ gates: expect.arrayContaining([expect.objectContaining({ name: 'diff-check', status: 'passed', exitCode: 0 })]) });
  });

  it('ltc gates run with the demo config passes diff-check on the demo app\'s first release candidate (its first commit)', async () => {
    const root = await tempDir('ltc-diffcheck-demo-');
    const app = await generateDemoApp({ dir: join(root, 'app') });
    const first = app.tags[0]!;
    expect(await execa('git', ['rev-list', '--count', first.name], { cwd: app.repoDir }).then((x) => x.stdout.trim())).toBe('1');
    const ops = join(root, 'ops');
    await mkdir(ops);
    await writeDemoConfig({ opsDir: ops, repoDir: app.repoDir, deployRoot: join(root, 'deploy'), port: 1 });
    const r = await runLtc(['gates', 'run', '--rc', first.name, '--only', 'diff-check', '--no-install', '--json'], { cwd: ops });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ commit: first.commit, gates: expect.arrayContaining([expect.objectContaining({ name: 'diff-check', status: 'passed', exitCode: 0 })]) });
  });
});
