/**
 * Generates the demo "app repo": a throwaway git repository of a small LifeTimeCircle-like app
 * (template in templates/demo-app) with four tagged release candidates: two good ones, one whose
 * health check fails, one that passes it but answers part of its requests with 500.
 */
import { childEnv } from '../exec/child-env.js';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { CheckFailedError, UsageError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';

export interface DemoTag {
  name: string;
  commit: string;
  version: string;
  healthy: boolean;
}

export interface DemoApp {
  repoDir: string;
  /** In commit order, oldest first. */
  tags: DemoTag[];
  goodTags: string[];
  brokenTag: string;
}

export const DEMO_TAGS = {
  good: ['rc-2026-02-15', 'rc-2026-03-01'],
  broken: 'rc-2026-03-01.1',
  /** Passes its health checks, but every third /api/info answers 500: what only the watch catches. */
  flaky: 'rc-2026-03-01.2',
} as const;

interface Release {
  tag: string;
  version: string;
  healthy: boolean;
  /** Every n-th /api/info request answers 500 (release.json error_every). */
  errorEvery?: number;
  date: string;
  message: string;
  changelog?: string;
  /** Visible change made before this release's commit. */
  edit?: (dir: string) => Promise<void>;
}

const NEXT_FEATURE_MARKER = '<!-- demo:next-feature -->';

const RELEASES: readonly Release[] = [
  {
    tag: DEMO_TAGS.good[0],
    version: '1.0.0',
    healthy: true,
    date: '2026-02-15T09:00:00Z',
    message: 'Release 1.0.0: service book page, health and info API',
  },
  {
    tag: DEMO_TAGS.good[1],
    version: '1.1.0',
    healthy: true,
    date: '2026-03-01T09:00:00Z',
    message: 'Release 1.1.0: service reminders',
    changelog: '- Service reminders on the start page.',
    edit: (dir) =>
      editFile(path.join(dir, 'frontend', 'index.html'), (html) => {
        if (!html.includes(NEXT_FEATURE_MARKER)) throw new Error(`template frontend/index.html lacks ${NEXT_FEATURE_MARKER}`);
        return html.replace(NEXT_FEATURE_MARKER, `<li>Service reminders (new in 1.1.0)</li>\n    ${NEXT_FEATURE_MARKER}`);
      }),
  },
  {
    tag: DEMO_TAGS.broken,
    version: '1.1.1',
    healthy: false,
    date: '2026-03-01T15:00:00Z',
    message: 'Release 1.1.1: hotfix (health endpoint broken on purpose)',
    changelog: '- Hotfix that breaks `/api/health` (demo of a bad release; deploys of it must roll back).',
  },
  {
    tag: DEMO_TAGS.flaky,
    version: '1.1.2',
    healthy: true,
    errorEvery: 3,
    date: '2026-03-02T09:00:00Z',
    message: 'Release 1.1.2: info endpoint regression (every third /api/info answers 500; health passes)',
    changelog: '- Regression: every third `/api/info` request answers 500 while `/api/health` stays green (demo of what only `ltc watch` catches).',
  },
];

const GIT_IDENTITY = { name: 'LTC Demo', email: 'demo@lifetimecircle.invalid' };

async function editFile(file: string, change: (text: string) => string): Promise<void> {
  await writeFile(file, change(await readFile(file, 'utf8')));
}

/** templates/demo-app in the ltc package (found from this module, in src/ or dist/src/). */
export function demoTemplateDir(): string {
  return path.join(packageRoot(), 'templates', 'demo-app');
}

/** Checks the target is new or an empty directory and creates it; true when it existed already. */
async function prepareTarget(dir: string): Promise<boolean> {
  const info = await stat(dir).catch(() => undefined);
  const hint = 'pass a new or empty directory';
  if (info && !info.isDirectory()) throw new UsageError(`demo app target ${dir} exists and is not a directory`, { hint });
  if (info && (await readdir(dir)).length > 0) throw new UsageError(`demo app target ${dir} exists and is not empty`, { hint });
  await mkdir(dir, { recursive: true });
  return info !== undefined;
}

/** Environment for git: fixed identity and dates, none of a caller's GIT_DIR & co. */
function gitEnv(date: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = childEnv(process.env, undefined, 'git');
  for (const key of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_PREFIX']) delete env[key];
  return {
    ...env,
    GIT_AUTHOR_NAME: GIT_IDENTITY.name,
    GIT_AUTHOR_EMAIL: GIT_IDENTITY.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: GIT_IDENTITY.name,
    GIT_COMMITTER_EMAIL: GIT_IDENTITY.email,
    GIT_COMMITTER_DATE: date,
  };
}

async function git(dir: string, args: string[], date: string): Promise<string> {
  const config = ['-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', '-c', 'core.autocrlf=false'];
  try {
    const { stdout } = await execa('git', [...config, ...args], { cwd: dir, env: gitEnv(date), extendEnv: false });
    return stdout.trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CheckFailedError('git is not installed or not on PATH', { hint: 'install git (Debian package: git)', cause: err });
    }
    throw err;
  }
}

/** Copies the template into repoDir and makes the tagged release commits. */
async function populate(repoDir: string, templateDir: string): Promise<DemoTag[]> {
  await cp(templateDir, repoDir, {
    recursive: true,
    // Skip what a local run inside the template folder may have left behind.
    filter: (src) => !['node_modules', 'dist'].includes(path.relative(templateDir, src).split(path.sep)[0] ?? ''),
  });
  // npm pack drops .gitignore files; restore it if the template lost it.
  if (!existsSync(path.join(repoDir, '.gitignore'))) await writeFile(path.join(repoDir, '.gitignore'), 'node_modules/\ndist/\n');

  await git(repoDir, ['init', '--quiet', '-b', 'main'], RELEASES[0].date);
  const tags: DemoTag[] = [];
  for (const release of RELEASES) {
    await release.edit?.(repoDir);
    const releaseJson = { version: release.version, rc: release.tag, health: release.healthy ? 'ok' : 'broken', ...(release.errorEvery ? { error_every: release.errorEvery } : {}) };
    await writeFile(path.join(repoDir, 'release.json'), `${JSON.stringify(releaseJson, null, 2)}\n`);
    if (release.changelog) {
      await editFile(path.join(repoDir, 'CHANGELOG.md'), (text) =>
        text.replace(/^# Changelog\r?\n\r?\n/, (head) => `${head}## ${release.version} (${release.tag})\n\n${release.changelog}\n\n`),
      );
    }
    await git(repoDir, ['add', '-A'], release.date);
    await git(repoDir, ['commit', '--quiet', '--no-verify', '-m', release.message], release.date);
    await git(repoDir, ['tag', '-a', release.tag, '-m', `Release candidate ${release.version}`], release.date);
    const commit = await git(repoDir, ['rev-parse', 'HEAD'], release.date);
    tags.push({ name: release.tag, commit, version: release.version, healthy: release.healthy });
  }
  return tags;
}

/**
 * Makes the demo app repo in opts.dir (created; must not exist or be empty): four annotated tags
 * rc-2026-02-15 (1.0.0), rc-2026-03-01 (1.1.0), rc-2026-03-01.1 (1.1.1, health broken) and
 * rc-2026-03-01.2 (1.1.2, every third /api/info answers 500), work tree
 * left on main at the last commit. On failure whatever it wrote is removed again.
 */
export async function generateDemoApp(opts: { dir: string }): Promise<DemoApp> {
  const repoDir = path.resolve(opts.dir);
  const templateDir = demoTemplateDir();
  if (!existsSync(path.join(templateDir, 'server.mjs'))) throw new Error(`demo app template not found at ${templateDir}`);
  const existed = await prepareTarget(repoDir);
  try {
    const tags = await populate(repoDir, templateDir);
    return { repoDir, tags, goodTags: [...DEMO_TAGS.good], brokenTag: DEMO_TAGS.broken };
  } catch (err) {
    if (existed) {
      for (const entry of await readdir(repoDir)) await rm(path.join(repoDir, entry), { recursive: true, force: true });
    } else {
      await rm(repoDir, { recursive: true, force: true });
    }
    throw err;
  }
}
