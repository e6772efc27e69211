/**
 * The fast path of `ltc releases [--env E] [--json]` on a local target, called from bin/ltc.js
 * before the CLI framework loads (src/cli/fast-path.ts). Undefined for anything else (--hosts, an
 * ssh target, no cached config, any error): then the normal path runs.
 */
import { cachedEnvironment, parseFastArgs, printFast } from '../cli/fast-path.js';
import { releasesReport } from './releases-report.js';

/** Exit code when handled; undefined to run the normal CLI instead. */
export async function fastReleases(args: readonly string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): Promise<number | undefined> {
  try {
    const p = parseFastArgs(args, ['releases']);
    if (!p || p.positional.length > 0) return undefined;
    const chosen = await cachedEnvironment(p, env, cwd);
    if (!chosen || chosen.env.target?.type !== 'local') return undefined;
    const { name, env: environment, loaded } = chosen;
    return await printFast(p, env, (c) => releasesReport(name, environment, loaded, c));
  } catch {
    return undefined;
  }
}
