/**
 * The go-live secret scan of a commit, kept under `.ltc/cache/secret-scan/<commit>.json`: a
 * commit's tree never changes, so the scan is repeated only when what it looks for changes (ltc's
 * version, that is its rules, or the stored secret values). The values enter the cache key only
 * through an HMAC keyed by a random salt in `.ltc/cache/scan-salt` (0600), so the file holds no
 * digest of a secret that a dictionary could be run against without the salt.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/fs-atomic.js';

export interface CachedScan {
  key: string;
  at: string;
  files: number;
  /** Already masked, as the scan reports them. */
  findings: Array<{ file: string; line: number; message: string; secret: string }>;
}

async function salt(stateDir: string): Promise<Buffer> {
  const file = join(stateDir, 'cache', 'scan-salt');
  try {
    const b = await readFile(file);
    if (b.length >= 32) return b;
  } catch {
    /* made below */
  }
  const fresh = randomBytes(32);
  await writeFileAtomic(file, fresh, 0o600);
  return fresh;
}

export async function scanCacheKey(stateDir: string, parts: { version: string; commit: string; values: Array<{ name: string; value: string }> }): Promise<string> {
  const values = [...parts.values].sort((a, b) => (a.name === b.name ? (a.value < b.value ? -1 : 1) : a.name < b.name ? -1 : 1));
  return createHmac('sha256', await salt(stateDir)).update(JSON.stringify([parts.version, parts.commit, values])).digest('hex');
}

const fileOf = (stateDir: string, commit: string) => join(stateDir, 'cache', 'secret-scan', `${commit}.json`);

export async function readCachedScan(stateDir: string, commit: string, key: string): Promise<CachedScan | undefined> {
  try {
    const c = JSON.parse(await readFile(fileOf(stateDir, commit), 'utf8')) as CachedScan;
    return c.key === key && Array.isArray(c.findings) ? c : undefined;
  } catch {
    return undefined;
  }
}

export async function writeCachedScan(stateDir: string, commit: string, scan: CachedScan): Promise<void> {
  await writeFileAtomic(fileOf(stateDir, commit), JSON.stringify(scan), 0o600);
}
