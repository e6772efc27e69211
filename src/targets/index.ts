/** Opens the target an environment is configured with. */
import type { LoadedConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import type { EnvironmentConfig } from '../config/schema/index.js';
import type { TargetConfig } from '../config/schema/target.js';
import { localTargetOptions, targetConfigOf } from './local/open.js';
import { LocalTarget } from './local/target.js';
import type { Target } from './target.js';

export type { Target } from './target.js';

export { targetConfigOf };

export function openTarget(name: string, env: EnvironmentConfig, loaded: LoadedConfig): Target {
  return new LocalTarget(localTargetOptions(name, env, loaded));
}

export interface EnvironmentTarget {
  name: string;
  env: EnvironmentConfig;
  loaded: LoadedConfig;
  config: TargetConfig;
  target: Target;
}

/** The environment (`environment`, else --env / LTC_ENV), its target config and the target itself. */
export async function openEnvironmentTarget(ctx: Context, environment?: string): Promise<EnvironmentTarget> {
  const loaded = await ctx.config();
  const { name, env } = loaded.environment(environment ?? ctx.options.env ?? ctx.env.LTC_ENV);
  return { name, env, loaded, config: targetConfigOf(name, env, loaded), target: openTarget(name, env, loaded) };
}
