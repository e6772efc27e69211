import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { freeLoopbackPort } from '../../src/core/net.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const LTC = join(ROOT, 'bin', 'ltc.js');

export interface LtcRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is one JSON document. */
  json: unknown;
}

/** Spawns the built `ltc` binary (run `npm run build` first; `npm test` does). */
export async function runLtc(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; input?: string; timeout?: number } = {},
): Promise<LtcRun> {
  const r = await execa(process.execPath, [LTC, ...args], {
    cwd: opts.cwd,
    env: { NO_COLOR: '1', CI: 'true', ...opts.env },
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    reject: false,
    timeout: opts.timeout ?? 60_000,
  });
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, json };
}

const dirs: string[] = [];

/** A temp dir removed by `cleanupTempDirs()` (call it in afterAll). */
export async function tempDir(prefix = 'ltc-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export async function cleanupTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** A free TCP port on 127.0.0.1. */
export const freePort = freeLoopbackPort;
