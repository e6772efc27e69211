/** Release folders and the `current` / `previous` links of the local target. */
import { randomHex } from '../../core/random-hex.js';
// The reads are synchronous (a directory and a few small files): `ltc releases`' fast path then
// never loads node:fs/promises.
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ReleaseInfo, ReleaseMeta } from '../target.js';

export const META_FILE = '.ltc-release.json';
import { PARTIAL_PREFIX } from '../layout.js';
import { byText } from '../../core/text-order.js';
import { isMissing } from '../../core/fs-missing.js';

export { PARTIAL_PREFIX };

/** `<rc>-<UTC timestamp with ms>`, e.g. rc-2026-03-01-20260301T090000.123Z. */
export function releaseName(rc: string, at: Date = new Date()): string {
  const iso = at.toISOString(); // 2026-03-01T09:00:00.123Z
  const stamp = iso.replace(/[-:]/g, ''); // 20260301T090000.123Z
  return `${rc}-${stamp}`;
}

/** The creation time encoded in a release name, or undefined. */
export function timeOfName(name: string): number | undefined {
  const m = /-(\d{8}T\d{6}(?:\.\d{3})?Z)$/.exec(name);
  if (!m) return undefined;
  const s = m[1]!;
  const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13)}`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** A release name as found on disk (no path separators, not hidden). */
export function isReleaseName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9._+@-]*$/.test(name) && !name.includes('..');
}

export async function readMeta(dir: string): Promise<ReleaseMeta | undefined> {
  try {
    const v = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as ReleaseMeta;
    return typeof v.rc === 'string' && typeof v.commit === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export async function writeMeta(dir: string, meta: ReleaseMeta): Promise<void> {
  await writeFile(join(dir, META_FILE), JSON.stringify(meta, null, 2) + '\n');
}

/** The release a link (`current`, `previous`) points at: its folder name, or undefined. */
export async function readReleaseLink(link: string): Promise<string | undefined> {
  try {
    const target = readlinkSync(link);
    const name = basename(target);
    return isReleaseName(name) ? name : undefined;
  } catch (err) {
    // Not there, or not a symlink (EINVAL): no release. Unreadable: an error, not "none".
    if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
    throw err;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const h = await open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    /* not supported here: the rename is still atomic */
  }
}

/** Points `link` at `releases/<name>` atomically: a new symlink, renamed over the old one. */
export async function pointLink(root: string, link: string, name: string): Promise<void> {
  const tmp = join(root, `.${basename(link)}.tmp-${process.pid}-${randomHex(3)}`);
  await symlink(join('releases', name), tmp);
  try {
    await rename(tmp, link);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(root);
}

export async function removeLink(link: string): Promise<void> {
  await rm(link, { force: true });
}

/** Complete releases, newest first (partial ones, still being made or left by a kill, are not listed). */
export async function listReleaseDirs(releasesDir: string, current: string | undefined, previous: string | undefined): Promise<ReleaseInfo[]> {
  let names: string[];
  try {
    names = readdirSync(releasesDir);
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
  const out: ReleaseInfo[] = [];
  for (const name of names) {
    if (name.startsWith('.') || !isReleaseName(name)) continue;
    const dir = join(releasesDir, name);
    const st = statSync(dir, { throwIfNoEntry: false });
    if (!st?.isDirectory()) continue;
    const meta = await readMeta(dir);
    const createdMs = (meta ? Date.parse(meta.createdAt) : NaN) || timeOfName(name) || st.mtimeMs;
    out.push({ name, dir, ...(meta ? { meta } : {}), createdMs, current: name === current, previous: name === previous });
  }
  return out.sort((a, b) => b.createdMs - a.createdMs || byText(b.name, a.name));
}

/** Leftover partial releases (`.partial-*`), e.g. of a deploy killed during its build. */
export async function listPartials(releasesDir: string): Promise<string[]> {
  try {
    return readdirSync(releasesDir).filter((n) => n.startsWith(PARTIAL_PREFIX));
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

export async function ensureDir(dir: string): Promise<void> {
  if (!existsSync(dir)) await mkdir(dir, { recursive: true });
}
