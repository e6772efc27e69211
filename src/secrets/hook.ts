/**
 * `ltc secrets hook install`: a pre-commit hook in the app repo running
 * `ltc secrets scan --staged`. A hook ltc did not write is never replaced without --force
 * (and then kept as pre-commit.before-ltc).
 */
import { runGit } from '../git/git.js';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';

export interface HookOptions {
  repo?: string;
  force?: boolean;
}

export const HOOK_MARKER = '# ltc-secrets-scan pre-commit hook';

function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function hookScript(nodePath: string, ltcJs: string): string {
  return [
    '#!/bin/sh',
    HOOK_MARKER,
    '# Written by `ltc secrets hook install` (run it again to update). Blocks a commit that stages a secret.',
    '# After checking a finding is not a secret, commit once without the hook: git commit --no-verify',
    `NODE=${sh(nodePath)}`,
    `LTC_JS=${sh(ltcJs)}`,
    'if [ -x "$NODE" ] && [ -f "$LTC_JS" ]; then',
    '  exec "$NODE" "$LTC_JS" secrets scan --staged',
    'elif command -v ltc >/dev/null 2>&1; then',
    '  exec ltc secrets scan --staged',
    'else',
    '  echo "ltc pre-commit hook: ltc not found (it was installed from $LTC_JS); install ltc or remove this hook" >&2',
    '  exit 1',
    'fi',
    '',
  ].join('\n');
}

async function gitPath(repo: string, what: string): Promise<string> {
  const r = await runGit(['rev-parse', '--git-path', what], { cwd: repo }).catch(() => {
    throw new UsageError('git not found', { hint: 'install git (Debian package git)' });
  });
  if (r.exitCode !== 0) throw new UsageError(`${repo} is not a git repository (${r.stderr.trim() || `git exited ${r.exitCode}`})`, { hint: 'pass --repo <dir> of the app repo' });
  const p = r.stdout.trim();
  return isAbsolute(p) ? p : resolve(repo, p);
}

async function repoDir(ctx: Context, opts: HookOptions): Promise<string> {
  if (opts.repo) return resolve(ctx.cwd, opts.repo);
  let loaded;
  try {
    loaded = await ctx.config();
  } catch (err) {
    throw new UsageError('no --repo given and no config to take app.repo from', { hint: 'pass --repo <dir> of the app repo', cause: err });
  }
  const repo = loaded.config.app.repo;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/]+@[^:]+:/.test(repo)) {
    throw new UsageError(`app.repo in ${loaded.file} is a remote URL (${repo}); a hook goes into a local clone`, { hint: 'pass --repo <dir> of your clone' });
  }
  return loaded.resolvePath(repo);
}

export async function installHook(ctx: Context, opts: HookOptions): Promise<CommandResult> {
  const repo = await repoDir(ctx, opts);
  if (!existsSync(repo)) throw new UsageError(`repository folder ${repo} does not exist`, { hint: 'pass --repo <dir> of the app repo' });
  const hooksDir = await gitPath(repo, 'hooks');
  const file = join(hooksDir, 'pre-commit');
  const script = hookScript(process.execPath, join(packageRoot(), 'bin', 'ltc.js'));
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  const ours = existing?.includes(HOOK_MARKER) ?? false;
  if (existing !== undefined && !ours && !opts.force) {
    throw new UsageError(`${file} exists and was not written by ltc`, {
      hint: 'add `ltc secrets scan --staged` to it yourself, or pass --force to replace it (the old one is kept as pre-commit.before-ltc)',
    });
  }
  if (ctx.options.dryRun) return { data: { dryRun: true, hook: file }, text: `dry run: would write ${file}` };
  await mkdir(hooksDir, { recursive: true });
  let backup: string | undefined;
  if (existing !== undefined && !ours) {
    backup = join(hooksDir, 'pre-commit.before-ltc');
    if (existsSync(backup)) backup = `${backup}.${Date.now()}`;
    await rename(file, backup);
  }
  await writeFile(file, script, { mode: 0o755 });
  await chmod(file, 0o755);
  return {
    data: { repo, hook: file, replaced: ours, ...(backup ? { backup } : {}) },
    text: `${ours ? 'updated' : 'installed'} ${file}: every commit in ${repo} runs \`ltc secrets scan --staged\`${backup ? ` (the old hook is kept as ${backup})` : ''}`,
  };
}
