/** Shared setup for the secrets tests: an ops folder with ltc.config.yaml and a master key. */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runLtc, tempDir, type LtcRun } from './cli.js';

export interface Ops {
  dir: string;
  env: Record<string, string>;
  ltc(args: string[], opts?: { input?: string; env?: Record<string, string | undefined> }): Promise<LtcRun>;
}

/** Writes `{ version: 1, app, environments }` and returns a runner with LTC_MASTER_KEY set. */
export async function makeOps(environments: Record<string, unknown>, extra: { app?: Record<string, unknown>; env?: Record<string, string> } = {}): Promise<Ops> {
  const dir = await tempDir('ltc-secrets-');
  await writeFile(join(dir, 'ltc.config.yaml'), stringify({ version: 1, app: extra.app ?? { repo: './app' }, environments }));
  const env = { LTC_MASTER_KEY: randomBytes(32).toString('base64'), XDG_CACHE_HOME: join(dir, '.cache'), ...extra.env };
  return {
    dir,
    env,
    ltc: (args, opts = {}) => runLtc(args, { cwd: dir, env: { ...env, ...opts.env }, input: opts.input }),
  };
}

export function fileEnv(required: unknown[] = [], more: Record<string, unknown> = {}): Record<string, unknown> {
  return { secrets: { backend: 'file', required, ...more } };
}
