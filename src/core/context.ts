import type { ProcessPort } from '../exec/process.js';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import type { EnvironmentConfig } from '../config/schema/index.js';
import type { Masker } from './masker.js';
import type { Output } from './output.js';
import type { Prompter } from '../ui/prompt.js';
import { registerAuditKeySource, type AuditKey } from '../audit/key-source.js';
import { stateDirFor } from './paths.js';

export interface GlobalOptions {
  config?: string;
  env?: string;
  json: boolean;
  yes: boolean;
  dryRun: boolean;
  verbose: boolean;
  debug: boolean;
  color: boolean;
  approve: string[];
}

/** What every command receives: its I/O, the process-wide masker and lazy access to config. */
export interface Context {
  cwd: string;
  /** ltc's arguments as given (journals record them). */
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  options: GlobalOptions;
  out: Output;
  masker: Masker;
  prompt: Prompter;
  /** Aborted on the first Ctrl-C / SIGTERM. */
  signal: AbortSignal;
  isTTY: boolean;
  ci: boolean;
  /** Starts every child process; subscribers (the gates' exit guard, tests) see each start. */
  processes: ProcessPort;
  /** Loads and validates the config once (imports zod only when called). */
  config(): Promise<LoadedConfig>;
  /** The environment chosen by --env / LTC_ENV (or the only one configured). */
  environment(): Promise<{ name: string; env: EnvironmentConfig; loaded: LoadedConfig }>;
  /** `.ltc/` next to the config file (or in the working directory when there is none). */
  stateDir(): Promise<string>;
}

export function createContext(init: Omit<Context, 'config' | 'environment' | 'stateDir'>): Context {
  let loaded: Promise<LoadedConfig> | undefined;
  const ctx: Context = {
    ...init,
    config() {
      loaded ??= import('../config/load.js').then((m) =>
        m.loadConfigFile(m.findConfigFile(init.cwd, init.options.config, init.env.LTC_CONFIG), init.env),
      );
      return loaded;
    },
    async environment() {
      const l = await ctx.config();
      return { ...l.environment(init.options.env ?? init.env.LTC_ENV), loaded: l };
    },
    async stateDir() {
      if (init.env.LTC_STATE_DIR) return init.env.LTC_STATE_DIR;
      try {
        return stateDirFor((await ctx.config()).file, init.env);
      } catch {
        return join(init.cwd, '.ltc');
      }
    },
  };
  // The audit log's HMAC key, read once and only when an entry is written or verified (docs/audit.md).
  let auditKey: Promise<AuditKey | undefined> | undefined;
  registerAuditKeySource(() => (auditKey ??= import('../audit/key.js').then((m) => m.resolveAuditKey(ctx))));
  return ctx;
}
