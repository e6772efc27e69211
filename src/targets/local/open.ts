/**
 * From an environment's config to its local target's options, and the read-only view of it for
 * `ltc releases` — without loading the local target's deploy machinery (lock, supervisor, exec).
 */
import type { LoadedConfig } from '../../config/load.js';
import type { EnvironmentConfig } from '../../config/schema/index.js';
import type { TargetConfig } from '../../config/schema/target.js';
import { ConfigError } from '../../core/errors.js';
import { LocalReleases, type LocalTargetOptions } from './view.js';

export function targetConfigOf(name: string, env: EnvironmentConfig, loaded: LoadedConfig): TargetConfig {
  if (!env.target) {
    throw new ConfigError(`environment "${name}" has no target in ${loaded.file}`, {
      hint: `add e.g.\n  environments:\n    ${name}:\n      target:\n        type: local\n        deploy_root: /srv/ltc\n        start: [node, server.mjs]`,
    });
  }
  return env.target;
}

/** The local target's options; a ConfigError for an ssh target (the commands that ask work on local targets only). */
export function localTargetOptions(name: string, env: EnvironmentConfig, loaded: LoadedConfig): LocalTargetOptions {
  const config = targetConfigOf(name, env, loaded);
  if (config.type === 'ssh') {
    throw new ConfigError(`environment "${name}" has an ssh target: this command works on local targets only`, {
      hint: `for ssh targets: ltc deploy, ltc rollback, ltc status, ltc releases, ltc stop, ltc lock; to start a stopped app again on its release: ltc rollback --env ${name} --hosts <host> --to <its current release> (see docs/fleet.md)`,
    });
  }
  return {
    root: loaded.resolvePath(config.deploy_root),
    config,
    ...(config.log_file ? { logFile: loaded.resolvePath(config.log_file) } : {}),
    environment: name,
  };
}

export function openLocalReleases(name: string, env: EnvironmentConfig, loaded: LoadedConfig): LocalReleases {
  return new LocalReleases(localTargetOptions(name, env, loaded));
}
