/**
 * The app repo as ltc sees it: its refs (`git ls-remote`, works for URLs and local paths alike),
 * a bare mirror under `.ltc/cache/`, and clean work trees checked out from that mirror into
 * folders of ltc's own (never the person's checkout).
 */
import { processes, type ChildProcess } from '../exec/process.js';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckFailedError, ConfigError, InterruptedError, UsageError } from '../core/errors.js';
import { processMasker } from '../core/masker.js';
import { didYouMean } from '../core/suggest.js';
import { childEnv } from '../exec/child-env.js';
import { firstLines, git, gitEnv, runGit, safeGitArgs, type GitOptions } from './git.js';
import { withLock } from './lock.js';
import { checkRefSyntax, isCommitSha, isFullSha, validateRefName } from './refs.js';
import type { UserRegex } from '../core/user-regex.js';

/** `https://…`, `ssh://…`, `git@host:path` (scp-like); anything else is a local path. */
export function isRemoteUrl(repo: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo)) return !repo.toLowerCase().startsWith('file://');
  if (/^[a-zA-Z]:[\\/]/.test(repo)) return false; // C:\path
  return /^[^/]+:/.test(repo); // scp-like: host:path, user@host:path
}

/**
 * Checks a repo string before git sees it: not an option, no `ext::`-style transport, and any
 * password inside a URL registered with the masker. Returns it unchanged.
 */
export function checkRepoString(repo: string, key = 'app.repo'): string {
  if (!repo) throw new ConfigError(`${key} is empty`, { hint: 'set app.repo to the git URL or path of the app repo' });
  if (repo.startsWith('-')) throw new ConfigError(`${key} ${JSON.stringify(repo)} starts with "-"; refused`, { hint: 'give a git URL or a path' });
  if (/^[a-z0-9+.-]+::/i.test(repo)) {
    throw new ConfigError(`${key} ${JSON.stringify(repo)} uses a "<transport>::" remote helper; refused`, { hint: 'use an https://, ssh:// or local path' });
  }
  try {
    const url = new URL(repo);
    if (url.password) processMasker.add(decodeURIComponent(url.password));
  } catch {
    /* not a URL */
  }
  return repo;
}

/** A local repo path that does not exist or is not a git repository: exit 2 with what to do. */
function notARepo(repo: string, key: string, why: string): ConfigError {
  return new ConfigError(`${key} ${repo} ${why}`, {
    hint: `point ${key} in ltc.config.yaml at the app's git repository (a clone or a git URL)`,
  });
}

export interface RemoteRefs {
  /** Full ref name → commit (tags already peeled to the commit they point at). */
  refs: Map<string, string>;
  /** The remote's HEAD commit, when it has one. */
  head?: string;
}

/**
 * Lists a repo's refs with `git ls-remote` (URL or local path). Annotated tags are peeled:
 * `refs/tags/x` maps to the commit, not the tag object. A local path that is missing or not
 * a git repository is a ConfigError (exit 2).
 */
export async function listRemoteRefs(repo: string, opts: GitOptions & { tagsOnly?: boolean; key?: string } = {}): Promise<RemoteRefs> {
  const key = opts.key ?? 'app.repo';
  checkRepoString(repo, key);
  const local = !isRemoteUrl(repo);
  if (local) {
    const path = repo.startsWith('file://') ? new URL(repo).pathname : repo;
    if (!existsSync(path)) throw notARepo(repo, key, 'does not exist');
    if (!statSync(path).isDirectory()) throw notARepo(repo, key, 'is not a directory');
  }
  const r = await runGit(['ls-remote', ...(opts.tagsOnly ? ['--tags'] : []), '--', repo], opts);
  if (r.exitCode !== 0) {
    if (local) throw notARepo(repo, key, `is not a git repository (${firstLines(r.stderr, 1)})`);
    throw new CheckFailedError(`cannot read the app repo ${processMasker.mask(repo)}: ${firstLines(r.stderr)}`, {
      hint: `check the URL in ${key}, your network and your git credentials (ltc never prompts for them)`,
    });
  }
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  let head: string | undefined;
  for (const line of r.stdout.split('\n')) {
    const [sha, name] = line.split('\t');
    if (!sha || !name) continue;
    if (name === 'HEAD') head = sha;
    else if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), sha);
    else refs.set(name, sha);
  }
  for (const [name, sha] of peeled) refs.set(name, sha);
  return { refs, head };
}

/** Tag names of a ref list, newest-looking last (natural sort). */
export function tagNames(refs: RemoteRefs, pattern?: UserRegex): string[] {
  return [...refs.refs.keys()]
    .filter((r) => r.startsWith('refs/tags/'))
    .map((r) => r.slice('refs/tags/'.length))
    .filter((t) => !pattern || pattern.test(t))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

function missingTag(repo: string, tag: string, refs: RemoteRefs, pattern?: UserRegex): UsageError {
  const tags = tagNames(refs, pattern);
  const suggestion = didYouMean(tag, tags);
  const recent = tags.slice(-5).reverse();
  return new UsageError(`tag ${JSON.stringify(tag)} does not exist in the app repo ${processMasker.mask(repo)}`, {
    hint: [suggestion, recent.length ? `recent tags: ${recent.join(', ')}` : 'the repo has no matching tags'].filter(Boolean).join(' '),
  });
}

/**
 * The commit a tag points at (peeled for annotated tags), read with `git ls-remote --tags`.
 * The name must have passed `validateRcName`/`checkRefSyntax` before. A missing tag is a
 * UsageError (exit 2) with the nearest existing tags as the hint.
 */
export async function resolveTag(repo: string, tag: string, opts: GitOptions & { pattern?: UserRegex; key?: string; flag?: string } = {}): Promise<string> {
  checkRefSyntax(tag, opts.flag ?? '--rc');
  const refs = await listRemoteRefs(repo, { ...opts, tagsOnly: true });
  const commit = refs.refs.get(`refs/tags/${tag}`);
  if (!commit) throw missingTag(repo, tag, refs, opts.pattern);
  return commit;
}

export interface ResolvedRef {
  commit: string;
  /** The full ref it came from (`refs/tags/x`, `refs/heads/main`, `HEAD`), or undefined for a commit id. */
  ref?: string;
}

/**
 * Resolves `--ref`: HEAD, a branch, a tag, a full ref, or a commit id. A commit id is looked up
 * in the mirror (pass `mirror`), since ls-remote lists only refs.
 */
export async function resolveRef(repo: string, ref: string, opts: GitOptions & { mirror?: string; key?: string } = {}): Promise<ResolvedRef> {
  await validateRefName(ref, '--ref', opts);
  const remote = await listRemoteRefs(repo, opts);
  if (ref === 'HEAD') {
    if (!remote.head) throw new UsageError(`the app repo ${processMasker.mask(repo)} has no HEAD`, { hint: 'pass --ref <branch> or --rc <tag>' });
    return { commit: remote.head, ref: 'HEAD' };
  }
  for (const full of ref.startsWith('refs/') ? [ref] : [`refs/tags/${ref}`, `refs/heads/${ref}`]) {
    const commit = remote.refs.get(full);
    if (commit) return { commit, ref: full };
  }
  if (isCommitSha(ref) && opts.mirror) {
    const r = await runGit(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { ...opts, cwd: opts.mirror });
    if (r.exitCode === 0 && isFullSha(r.stdout.trim())) return { commit: r.stdout.trim() };
  }
  const names = [...remote.refs.keys()].map((r) => r.replace(/^refs\/(heads|tags)\//, ''));
  throw new UsageError(`ref ${JSON.stringify(ref)} does not exist in the app repo ${processMasker.mask(repo)}`, {
    hint: didYouMean(ref, names) ?? 'pass a branch, a tag or a commit id that exists in the app repo',
  });
}

/** Where the mirror of `repo` lives inside `cacheDir`: a readable name plus a hash of the repo. */
export function mirrorDirFor(repo: string, cacheDir: string): string {
  const name = basename(repo.replace(/[/\\]+$/, '').replace(/\.git$/, '')).replace(/[^A-Za-z0-9._-]/g, '_') || 'repo';
  // node:crypto on first use, not at import: `ltc gates` preloads it while git runs.
  const hash = process.getBuiltinModule('node:crypto').createHash('sha256').update(isRemoteUrl(repo) ? repo : resolve(repo)).digest('hex').slice(0, 12);
  return join(cacheDir, `${name}-${hash}.git`);
}

/**
 * A bare mirror of `repo` in `cacheDir` (created with `git clone --mirror`, else brought up to
 * date with `git fetch --prune`), under a lock so two runs do not fetch into it at once.
 * With `commit`: no fetch when the mirror already has that commit. Returns the mirror's path.
 */
export async function ensureMirror(repo: string, cacheDir: string, opts: GitOptions & { commit?: string } = {}): Promise<string> {
  checkRepoString(repo);
  const mirror = mirrorDirFor(repo, cacheDir);
  // Already there with the wanted commit (and so all its history): no fetch needed.
  if (opts.commit && isFullSha(opts.commit) && existsSync(join(mirror, 'HEAD')) && (await hasCommit(mirror, opts.commit, opts))) return mirror;
  await mkdir(cacheDir, { recursive: true });
  await withLock(`${mirror}.lock`, { waitMs: 120_000, what: `the mirror ${mirror}`, signal: opts.signal }, async () => {
    if (existsSync(join(mirror, 'HEAD'))) {
      await git(['fetch', '--quiet', '--prune', '--force', '--end-of-options', 'origin'], {
        ...opts,
        cwd: mirror,
        what: `updating the mirror ${mirror}`,
      });
      return;
    }
    const tmp = `${mirror}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    try {
      await git(['clone', '--quiet', '--mirror', '--', repo, tmp], { ...opts, what: `mirroring ${processMasker.mask(repo)}` });
      await rm(mirror, { recursive: true, force: true });
      await rename(tmp, mirror);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  });
  return mirror;
}

/** True when `commit` (a full id) exists in `mirror` as a commit. */
export async function hasCommit(mirror: string, commit: string, opts: GitOptions = {}): Promise<boolean> {
  const r = await runGit(['cat-file', '-e', '--end-of-options', `${commit}^{commit}`], { ...opts, cwd: mirror });
  return r.exitCode === 0;
}

function notInMirror(commit: string, mirror: string): CheckFailedError {
  return new CheckFailedError(`commit ${commit} is not in the mirror ${mirror}`, { hint: 'was the tag moved or the branch force-pushed? run again' });
}

/**
 * A clean checkout of `commit` into `dest` (removed first if it exists): a clone of the mirror
 * sharing its objects (`--shared`, so it costs almost nothing) with the commit checked out
 * detached. `dest` is a real git work tree, so gates such as `git diff --check` work in it.
 * Whether the mirror has the commit is asked only when the checkout fails (one git call less).
 */
export async function exportTree(mirror: string, commit: string, dest: string, opts: GitOptions = {}): Promise<void> {
  if (!isFullSha(commit)) throw new UsageError(`not a full commit id: ${JSON.stringify(commit)}`);
  await rm(dest, { recursive: true, force: true });
  await mkdir(dirname(dest), { recursive: true });
  try {
    await git(['clone', '--quiet', '--no-checkout', '--shared', '--', mirror, dest], { ...opts, what: 'cloning the mirror' });
    // The commit is a validated full id, so it cannot be read as an option; `--` ends the revisions.
    await git(['checkout', '--quiet', '--detach', commit, '--'], { ...opts, cwd: dest, what: `checking out ${commit.slice(0, 12)}` });
  } catch (err) {
    await rm(dest, { recursive: true, force: true });
    if (!opts.signal?.aborted && existsSync(join(mirror, 'HEAD')) && !(await hasCommit(mirror, commit, opts).catch(() => true))) throw notInMirror(commit, mirror);
    throw err;
  }
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: NodeJS.ErrnoException;
}

/**
 * The files of `commit` (no .git) extracted into `dest` (created; should be empty): `git archive`
 * piped into `tar -x`. For release folders that must not be git repositories. The outcome is
 * judged once BOTH processes have ended, whichever ends first; when one cannot start, or on
 * Ctrl-C or the timeout, both are ended (neither is left waiting on a dead pipe).
 */
export async function archiveTree(mirror: string, commit: string, dest: string, opts: GitOptions = {}): Promise<void> {
  if (!isFullSha(commit)) throw new UsageError(`not a full commit id: ${JSON.stringify(commit)}`);
  if (opts.signal?.aborted) throw new InterruptedError('interrupted before the export');
  await mkdir(dest, { recursive: true });
  const timeoutMs = opts.timeout ?? 600_000;
  const archive = processes.start(['git', ...safeGitArgs(['archive', '--format=tar', commit])], { cwd: mirror, env: gitEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const tar = processes.start(['tar', '-x', '-f', '-', '-C', dest], { env: childEnv(process.env), stdio: ['pipe', 'ignore', 'pipe'] });
  let errors = '';
  const collect = (b: Buffer) => {
    if (errors.length < 65_536) errors += b.toString('utf8');
  };
  archive.stderr!.on('data', collect);
  tar.stderr!.on('data', collect);
  tar.stdin!.on('error', () => undefined); // EPIPE when tar ends early: judged by its exit code
  archive.stdout!.pipe(tar.stdin!);

  let stoppedBy: 'abort' | 'timeout' | 'error' | undefined;
  const stop = (why: 'abort' | 'timeout' | 'error') => {
    stoppedBy ??= why;
    archive.kill('SIGTERM');
    tar.kill('SIGTERM');
  };
  const ended = (p: ChildProcess) =>
    new Promise<Ended>((resolvePromise) => {
      p.once('error', (error: NodeJS.ErrnoException) => {
        stop('error'); // e.g. tar missing: git must not block on a pipe nobody reads
        resolvePromise({ code: null, signal: null, error });
      });
      p.once('close', (code, signal) => resolvePromise({ code, signal }));
    });
  const timer = setTimeout(() => stop('timeout'), timeoutMs);
  const onAbort = () => stop('abort');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let a: Ended;
  let t: Ended;
  try {
    [a, t] = await Promise.all([ended(archive), ended(tar)]);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }

  if (stoppedBy === 'abort' || opts.signal?.aborted) throw new InterruptedError('interrupted during the export');
  for (const [r, name] of [[a, 'git'], [t, 'tar']] as const) {
    if (r.error?.code === 'ENOENT') throw new CheckFailedError(`${name} is not installed or not on PATH`, { hint: `install ${name} (Debian package: ${name})` });
    if (r.error) throw new CheckFailedError(`cannot run ${name}: ${r.error.message}`);
  }
  if (stoppedBy === 'timeout') throw new CheckFailedError(`extracting ${commit.slice(0, 12)} into ${dest} did not finish within ${Math.round(timeoutMs / 1000)}s`);
  if (a.code === 0 && t.code === 0) return;
  if (a.code !== 0 && !(await hasCommit(mirror, commit, opts).catch(() => true))) throw notInMirror(commit, mirror);
  const how = (r: Ended) => (r.code === null ? `killed by ${r.signal ?? 'a signal'}` : `exit ${r.code}`);
  throw new CheckFailedError(
    `extracting ${commit.slice(0, 12)} into ${dest} failed (git archive ${how(a)}, tar ${how(t)}): ${firstLines(processMasker.mask(errors))}`,
  );
}

/** Removes a work tree made by `exportTree`. */
export async function removeTree(dest: string): Promise<void> {
  await rm(dest, { recursive: true, force: true });
}
