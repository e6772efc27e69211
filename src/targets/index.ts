/** Opens the target an environment is configured with. */
import type { LoadedConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import type { EnvironmentConfig } from '../config/schema/index.js';
import type { TargetConfig } from '../config/schema/target.js';
import { ConfigError } from '../core/errors.js';
import { LocalTarget } from './local/target.js';
import type { Target } from './target.js';

export type { Target } from './target.js';

export function targetConfigOf(name: string, env: EnvironmentConfig, loaded: LoadedConfig): TargetConfig {
  if (!env.target) {
    throw new ConfigError(`environment "${name}" has no target in ${loaded.file}`, {
      hint: `add e.g.\n  environments:\n    ${name}:\n      target:\n        type: local\n        deploy_root: /srv/ltc\n        start: [node, server.mjs]`,
    });
  }
  return env.target;
}

export function openTarget(name: string, env: EnvironmentConfig, loaded: LoadedConfig): Target {
  const config = targetConfigOf(name, env, loaded);
  switch (config.type) {
    case 'local':
      return new LocalTarget({
        root: loaded.resolvePath(config.deploy_root),
        config,
        ...(config.log_file ? { logFile: loaded.resolvePath(config.log_file) } : {}),
        environment: name,
      });
    case 'ssh':
      throw new ConfigError(`environment "${name}" has an ssh target: this command works on local targets only`, {
        hint: 'for ssh targets: ltc deploy, ltc rollback (see docs/fleet.md)',
      });
  }
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
