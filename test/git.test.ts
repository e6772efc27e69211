/** The git adapter against a real generated demo repo (annotated tags) plus a lightweight tag. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoApp, type DemoApp } from '../src/demo/generate-app.ts';
import { ConfigError, UsageError } from '../src/core/errors.ts';
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
});
