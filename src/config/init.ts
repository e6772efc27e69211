import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';
import { CONFIG_FILE, parseConfigText } from './load.js';

export async function initConfig(opts: { force?: boolean; repo?: string }, ctx: Context): Promise<CommandResult> {
  const file = join(ctx.cwd, CONFIG_FILE);
  if (existsSync(file) && !opts.force) {
    throw new UsageError(`${file} already exists`, { hint: 'pass --force to overwrite it, or edit it and run `ltc config validate`' });
  }
  const template = await readFile(join(packageRoot(), 'templates', CONFIG_FILE), 'utf8');
  // Replacer functions: a replacement string would expand $&, $', $$ … inside a repo path or URL.
  const schema = pathToFileURL(join(packageRoot(), 'schema', 'config.schema.json')).href;
  const repo = JSON.stringify(opts.repo ?? '../lifetimecircle');
  const text = template.replace('{{SCHEMA}}', () => schema).replace('{{REPO}}', () => repo);
  await parseConfigText(file, text);
  if (ctx.options.dryRun) return { data: { file, written: false }, text: `would write ${file}` };
  await writeFile(file, text, { mode: 0o644 });
  const next = opts.repo
    ? `next: app.repo is ${repo}; edit the environments (default_env: staging), then run \`ltc config validate\``
    : 'next: edit app.repo and the environments (default_env: staging), then run `ltc config validate`';
  return { data: { file, written: true, repo: opts.repo ?? null }, text: `wrote ${file}\n${next}` };
}
