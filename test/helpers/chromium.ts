/**
 * Headless Chromium (Debian's `chromium` package) for tests: loads a file and returns the DOM
 * after the page ran (`--dump-dom`) or writes a screenshot. A missing binary throws naming the
 * package, so the test fails. Each run has its own profile dir and its process group is ended.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = process.env.LTC_CHROMIUM_BIN ?? '/usr/bin/chromium';

function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install the Debian package "chromium" (apt-get install -y chromium)`);
  }
}

async function run(args: string[], timeoutMs: number): Promise<string> {
  requireChromium();
  const profile = await mkdtemp(join(tmpdir(), 'ltc-chromium-'));
  try {
    return await new Promise<string>((resolve, reject) => {
      const child = spawn(
        CHROMIUM,
        ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions', '--disable-background-networking', `--user-data-dir=${profile}`, ...args],
        { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
        reject(new Error(`chromium gave no result within ${timeoutMs} ms: ${err.slice(-2000)}`));
      }, timeoutMs);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        // Its helpers (zygote, renderer) go with it.
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
        if (code === 0) resolve(out);
        else reject(new Error(`chromium exited ${code}: ${err.slice(-2000)}`));
      });
    });
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** The DOM of `file` after it loaded (and its scripts, if any were allowed, ran). */
export function dumpDom(file: string, o: { timeoutMs?: number } = {}): Promise<string> {
  return run(['--virtual-time-budget=2000', '--dump-dom', pathToFileURL(file).href], o.timeoutMs ?? 60_000);
}

/** A PNG of `file` at `width`×`height`. */
export async function screenshot(file: string, png: string, width = 1000, height = 1400): Promise<void> {
  await run([`--screenshot=${png}`, `--window-size=${width},${height}`, '--hide-scrollbars', pathToFileURL(file).href], 60_000);
}
