/**
 * Where runbooks live: shipped ones in the package's runbooks/, the ops repo's in runbooks/ next
 * to the config file (or in the working directory). An ops runbook overrides a shipped one of the
 * same name.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';
import { didYouMean } from '../core/suggest.js';
import { byText } from '../core/text-order.js';

export type RunbookOrigin = 'shipped' | 'ops' | 'file';

export interface RunbookRef {
  /** The name it is called by: the file name without .yaml. */
  name: string;
  file: string;
  origin: RunbookOrigin;
  /** An ops runbook that replaces the shipped file of the same name. */
  overrides?: string;
}

const EXTENSIONS = ['.yaml', '.yml'];

export function shippedRunbookDir(): string {
  return join(packageRoot(), 'runbooks');
}

/** `runbooks/` next to the config file, else in the working directory. */
export async function opsRunbookDir(ctx: Context): Promise<string> {
  try {
    const { findConfigFile } = await import('../config/load.js');
    return join(dirname(findConfigFile(ctx.cwd, ctx.options.config, ctx.env.LTC_CONFIG)), 'runbooks');
  } catch {
    return join(ctx.cwd, 'runbooks');
  }
}

function runbooksIn(dir: string, origin: RunbookOrigin): RunbookRef[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => EXTENSIONS.includes(extname(f)))
    .sort()
    .map((f) => ({ name: basename(f, extname(f)), file: join(dir, f), origin }));
}

/** Every runbook by name; ops ones replace shipped ones of the same name (and say so). */
export async function listRunbooks(ctx: Context): Promise<RunbookRef[]> {
  const byName = new Map<string, RunbookRef>();
  for (const r of runbooksIn(shippedRunbookDir(), 'shipped')) byName.set(r.name, r);
  const opsDir = await opsRunbookDir(ctx);
  if (resolve(opsDir) !== resolve(shippedRunbookDir())) {
    for (const r of runbooksIn(opsDir, 'ops')) {
      const shipped = byName.get(r.name);
      byName.set(r.name, shipped ? { ...r, overrides: shipped.file } : r);
    }
  }
  return [...byName.values()].sort((a, b) => byText(a.name, b.name));
}

export function looksLikePath(ref: string): boolean {
  return ref.includes('/') || ref.includes('\\') || EXTENSIONS.includes(extname(ref));
}

/**
 * A runbook by name (ops first, then shipped) or by file path (relative to `baseDir`, default the
 * working directory). Unknown names fail with a did-you-mean.
 */
export async function locateRunbook(ref: string, ctx: Context, baseDir?: string): Promise<RunbookRef> {
  if (looksLikePath(ref)) {
    const candidates = [isAbsolute(ref) ? ref : resolve(baseDir ?? ctx.cwd, ref)];
    if (baseDir && !isAbsolute(ref)) candidates.push(resolve(ctx.cwd, ref));
    const file = candidates.find((f) => existsSync(f));
    if (!file) {
      throw new UsageError(`runbook file not found: ${candidates[0]}`, { hint: 'check the path, or give a runbook name (see `ltc runbook list`)' });
    }
    return { name: basename(file, extname(file)), file, origin: 'file' };
  }
  const all = await listRunbooks(ctx);
  const found = all.find((r) => r.name === ref);
  if (found) return found;
  // A file given as a name relative to the calling runbook's folder (a sibling).
  if (baseDir) {
    for (const ext of EXTENSIONS) {
      const sibling = join(baseDir, ref + ext);
      if (existsSync(sibling)) return { name: ref, file: sibling, origin: 'file' };
    }
  }
  const names = all.map((r) => r.name);
  throw new UsageError(`no runbook named "${ref}"`, {
    hint: didYouMean(ref, names) ?? (names.length ? `available: ${names.join(', ')}` : `put ${ref}.yaml in ${await opsRunbookDir(ctx)}`),
  });
}
