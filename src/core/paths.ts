import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The folder holding ltc's package.json (for templates/, runbooks/, schema/). */
export function packageRoot(): string {
  if (root) return root;
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ltc') return (root = dir);
  }
  throw new Error('cannot find the ltc package root');
}

/** ltc's state folder: LTC_STATE_DIR, else `.ltc/` next to the config file. */
export function stateDirFor(configFile: string, env: NodeJS.ProcessEnv): string {
  return env.LTC_STATE_DIR || join(dirname(configFile), '.ltc');
}
