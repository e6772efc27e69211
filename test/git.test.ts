/** The git adapter against a real generated demo repo (annotated tags) plus a lightweight tag. */
import { existsSync, readFileSync } from 'node:fs';
import { chmod, readdir, symlink, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoApp, type DemoApp } from '../src/demo/generate-app.ts';
import { CheckFailedError, ConfigError, InterruptedError, UsageError } from '../src/core/errors.ts';
import {
  archiveTree,
  checkRepoString,
  ensureMirror,
  exportTree,
  isRemoteUrl,
  listRemoteRefs,
  resolveRef,
  resolveTag,
  validateRcName,
  validateRefName,
} from '../src/git/index.ts';
import { gitRefFormatProblem } from '../src/git/refs.ts';
import { cleanupTempDirs, tempDir } from './helpers/cli.ts';

const PATTERN = /^rc-\d{4}-\d{2}-\d{2}(\.\d+)?$/;
let root = '';
let app: DemoApp;

beforeAll(async () => {
  root = await tempDir('ltc-git-');
  app = await generateDemoApp({ dir: join(root, 'app') });
  await execa('git', ['tag', 'rc-2026-01-01', app.tags[0]!.commit], { cwd: app.repoDir }); // lightweight
});
afterAll(cleanupTempDirs);

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('git adapter', () => {
  it('validateRcName: pattern, injection and git ref rules, all as UsageError (exit 2)', async () => {
    await expect(validateRcName('rc-2026-03-01', PATTERN)).resolves.toBeUndefined();
    await expect(validateRcName('rc-2026-03-01.1', PATTERN)).resolves.toBeUndefined();
    for (const bad of ['rc-1;id', '--upload-pack=x', '-rc', 'rc-2026-03-01..x', 'rc 2026', 'rc-$(id)', 'rc-`id`', 'rc|x', 'v1.0.0', '', 'rc-2026-03-01\n']) {
      const err = await rejection(validateRcName(bad, PATTERN));
      expect(err, bad).toBeInstanceOf(UsageError);
      expect((err as UsageError).exitCode).toBe(2);
    }
    expect((await rejection(validateRcName('rc-1;id', PATTERN))).message).toContain('";"');
    expect((await rejection(validateRcName('v1', PATTERN))).message).toContain('does not match the tag pattern');
    // Passes our own checks but not git's (check-ref-format): a trailing ".lock".
    expect((await rejection(validateRefName('main.lock'))).message).toContain('not a valid git ref name');
    await expect(validateRefName('feature/x')).resolves.toBeUndefined();
    await expect(validateRefName('HEAD')).resolves.toBeUndefined();
  });

  it('resolveTag peels annotated tags to their commit and reads lightweight tags; a missing tag is exit 2 with hints', async () => {
    for (const t of app.tags) expect(await resolveTag(app.repoDir, t.name)).toBe(t.commit);
    const annotatedObject = (await execa('git', ['rev-parse', 'rc-2026-03-01'], { cwd: app.repoDir })).stdout.trim();
    expect(annotatedObject).not.toBe(app.tags[1]!.commit); // the tag object differs from its commit
    expect(await resolveTag(app.repoDir, 'rc-2026-01-01')).toBe(app.tags[0]!.commit);
    const err = await rejection(resolveTag(app.repoDir, 'rc-2026-03-02', { pattern: PATTERN }));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).hint).toContain('rc-2026-03-01');
  });

  it('listRemoteRefs: HEAD and branches; a folder that is not a repo, or missing, is a ConfigError naming the key', async () => {
    const refs = await listRemoteRefs(app.repoDir);
    expect(refs.head).toBe(app.tags.at(-1)!.commit);
    expect(refs.refs.get('refs/heads/main')).toBe(app.tags.at(-1)!.commit);
    const plain = await tempDir('ltc-plain-');
    const err = await rejection(listRemoteRefs(plain, { key: 'targets.app.repo' }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(`targets.app.repo ${plain} is not a git repository`);
    expect((await rejection(listRemoteRefs(join(plain, 'missing')))).message).toContain('does not exist');
  });

  it('resolveRef: branch, tag, HEAD and an abbreviated commit id (through the mirror)', async () => {
    const cache = await tempDir('ltc-cache-');
    expect(await resolveRef(app.repoDir, 'main')).toEqual({ commit: app.tags.at(-1)!.commit, ref: 'refs/heads/main' });
    expect(await resolveRef(app.repoDir, 'rc-2026-02-15')).toEqual({ commit: app.tags[0]!.commit, ref: 'refs/tags/rc-2026-02-15' });
    expect((await resolveRef(app.repoDir, 'HEAD')).commit).toBe(app.tags.at(-1)!.commit);
    const mirror = await ensureMirror(app.repoDir, cache);
    expect(await resolveRef(app.repoDir, app.tags[0]!.commit.slice(0, 8), { mirror })).toEqual({ commit: app.tags[0]!.commit });
    expect(await rejection(resolveRef(app.repoDir, 'no-such-branch'))).toBeInstanceOf(UsageError);
  });

  it('ensureMirror + exportTree: a clean git work tree of the commit outside the repo; archiveTree: files only', async () => {
    const cache = await tempDir('ltc-cache-');
    const mirror = await ensureMirror(app.repoDir, cache);
    expect(mirror.startsWith(cache)).toBe(true);
    expect(await ensureMirror(app.repoDir, cache, { commit: app.tags[1]!.commit })).toBe(mirror);
    const dest = join(cache, 'work', app.tags[1]!.commit);
    await exportTree(mirror, app.tags[1]!.commit, dest);
    expect((await execa('git', ['rev-parse', 'HEAD'], { cwd: dest })).stdout.trim()).toBe(app.tags[1]!.commit);
    expect((await execa('git', ['status', '--porcelain'], { cwd: dest })).stdout).toBe('');
    expect(JSON.parse(readFileSync(join(dest, 'release.json'), 'utf8'))).toMatchObject({ rc: 'rc-2026-03-01' });
    // HEAD~1 (for `git diff --check HEAD~1 HEAD`) is reachable.
    expect((await execa('git', ['rev-parse', 'HEAD~1'], { cwd: dest })).stdout.trim()).toBe(app.tags[0]!.commit);
    const rel = join(cache, 'release');
    await archiveTree(mirror, app.tags[0]!.commit, rel);
    expect(existsSync(join(rel, '.git'))).toBe(false);
    expect(JSON.parse(readFileSync(join(rel, 'release.json'), 'utf8'))).toMatchObject({ rc: 'rc-2026-02-15' });
    expect(await rejection(exportTree(mirror, 'HEAD', dest))).toBeInstanceOf(UsageError);
  });

  it('repo strings: URLs vs paths; option-like and remote-helper repos are refused', () => {
    expect(isRemoteUrl('https://github.com/x/y.git')).toBe(true);
    expect(isRemoteUrl('git@github.com:x/y.git')).toBe(true);
    expect(isRemoteUrl('ssh://git@host/y.git')).toBe(true);
    expect(isRemoteUrl('../app')).toBe(false);
    expect(isRemoteUrl('/srv/app')).toBe(false);
    expect(isRemoteUrl('file:///srv/app')).toBe(false);
    expect(() => checkRepoString('--upload-pack=touch /tmp/x')).toThrow(ConfigError);
    expect(() => checkRepoString('ext::sh -c id')).toThrow(/remote helper/);
  });

  it("ref names: the in-process check agrees with `git check-ref-format` on every name our syntax check lets through", async () => {
    const names = ['main', 'feature/x', 'rc-2026-03-01', 'rc-2026-03-01.1', 'main.lock', 'a/.hidden', '.a', 'a/b.lock', 'a.', 'a/', 'a//b', 'a/b/c', 'x@y', 'v1.0.0', 'a_b+c', 'release/2026.lock/x', 'a..b'];
    for (const name of names) {
      const full = `refs/heads/${name}`;
      const r = await execa('git', ['check-ref-format', full], { reject: false });
      expect(gitRefFormatProblem(full) === undefined, `${name}: git says exit ${r.exitCode}`).toBe(r.exitCode === 0);
    }
    expect((await rejection(validateRefName('a/.hidden'))).message).toContain('component starting with "."');
  });

  it('exportTree: a commit the mirror lacks is named as such (asked only after the checkout failed)', async () => {
    const cache = await tempDir('ltc-cache-');
    const mirror = await ensureMirror(app.repoDir, cache);
    const err = await rejection(exportTree(mirror, 'f'.repeat(40), join(cache, 'work', 'x')));
    expect(err).toBeInstanceOf(CheckFailedError);
    expect(err.message).toContain(`commit ${'f'.repeat(40)} is not in the mirror`);
    expect(existsSync(join(cache, 'work', 'x'))).toBe(false);
  });
});

describe('archiveTree: git archive | tar -x, judged when both have ended', () => {
  let mirror = '';
  let realGit = '';
  beforeAll(async () => {
    mirror = await ensureMirror(app.repoDir, await tempDir('ltc-cache-'));
    realGit = (await execa('sh', ['-c', 'command -v git'])).stdout.trim();
  });

  /** Runs `fn` with a PATH whose first folder holds the given scripts (name → shell body). */
  async function withFakes<T>(scripts: Record<string, string>, fn: () => Promise<T>, onlyFakes = false): Promise<T> {
    const bin = await tempDir('ltc-fakebin-');
    for (const [name, body] of Object.entries(scripts)) {
      if (body === 'real-git') await symlink(realGit, join(bin, name));
      else {
        await writeFile(join(bin, name), `#!/bin/sh\n${body}\n`);
        await chmod(join(bin, name), 0o755);
      }
    }
    const saved = process.env.PATH;
    process.env.PATH = onlyFakes ? bin : `${bin}${delimiter}${saved ?? ''}`;
    try {
      return await fn();
    } finally {
      process.env.PATH = saved;
    }
  }

  it('extracts the files of the commit, and waits for git when tar ends first (the old race: "failed: no message")', async () => {
    const dest = join(await tempDir('ltc-rel-'), 'release');
    // git's output ends (tar sees EOF and exits 0) half a second before git itself exits.
    await withFakes({ git: `"${realGit}" "$@"; rc=$?; exec 1>&- 2>&-; sleep 0.5; exit $rc` }, () => archiveTree(mirror, app.tags[1]!.commit, dest));
    expect(existsSync(join(dest, '.git'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dest, 'release.json'), 'utf8'))).toMatchObject({ rc: 'rc-2026-03-01' });
    expect((await readdir(dest)).length).toBeGreaterThan(3);
  });

  it('tar failing: both exit codes and tar\'s message; git failing on a missing commit: "not in the mirror"', async () => {
    const dest = join(await tempDir('ltc-rel-'), 'release');
    const err = await withFakes({ tar: 'echo "tar: simulated: cannot write" >&2; exit 2' }, () => rejection(archiveTree(mirror, app.tags[0]!.commit, dest)));
    expect(err).toBeInstanceOf(CheckFailedError);
    expect(err.message).toMatch(/\(git archive (exit \d+|killed by SIG\w+), tar exit 2\): .*tar: simulated: cannot write/);
    const missing = await rejection(archiveTree(mirror, 'e'.repeat(40), join(await tempDir('ltc-rel-'), 'r')));
    expect(missing).toBeInstanceOf(CheckFailedError);
    expect(missing.message).toContain('is not in the mirror');
  });

  it('tar not installed: fails naming the Debian package, git is not left blocked on the pipe', async () => {
    const dest = join(await tempDir('ltc-rel-'), 'release');
    const err = await withFakes({ git: 'real-git' }, () => rejection(archiveTree(mirror, app.tags[0]!.commit, dest)), true);
    expect(err).toBeInstanceOf(CheckFailedError);
    expect(err.message).toBe('tar is not installed or not on PATH');
    expect((err as CheckFailedError).hint).toContain('Debian package: tar');
  });

  it('Ctrl-C (abort) ends both processes: InterruptedError', async () => {
    const dest = join(await tempDir('ltc-rel-'), 'release');
    const marker = join(await tempDir('ltc-mark-'), 'started');
    const ac = new AbortController();
    const running = withFakes({ git: `touch '${marker}'; exec sleep 30` }, () => rejection(archiveTree(mirror, app.tags[0]!.commit, dest, { signal: ac.signal })));
    for (let i = 0; i < 200 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 25));
    ac.abort();
    expect(await running).toBeInstanceOf(InterruptedError); // (a git left running would hold the test to its timeout)
  });
});

