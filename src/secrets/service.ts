/**
 * What every secrets command needs: the chosen environment, its `secrets:` config, the opened
 * backend, the state folder and an audit helper that never records a value.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { Context } from '../core/context.js';
import type { SecretPolicy, SecretsConfig } from '../config/schema/secrets.js';
import { appendAudit, type AuditEvent } from '../audit/log.js';
import { AccessDeniedError, openBackend, type SecretsBackend } from './backend.js';
import { writeFileAtomic } from '../core/fs-atomic.js';

export interface SecretsScope {
  ctx: Context;
  environment: string;
  config: SecretsConfig;
  backend: SecretsBackend;
  stateDir: string;
  configFile: string;
  resolvePath(p: string): string;
  policy(name: string): SecretPolicy | undefined;
  audit(event: Omit<AuditEvent, 'environment'>): Promise<void>;
}

export async function openScope(ctx: Context): Promise<SecretsScope> {
  const { name, env, loaded } = await ctx.environment();
  const config = env.secrets;
  if (!config) {
    throw new ConfigError(`environment "${name}" has no secrets: section in ${loaded.file}`, {
      hint: `add e.g.\n  environments:\n    ${name}:\n      secrets:\n        backend: file\n        required:\n          - { name: LTC_SECRET_KEY, kind: secret_key }`,
    });
  }
  const stateDir = await ctx.stateDir();
  const backend = await openBackend({
    environment: name,
    config,
    resolvePath: loaded.resolvePath,
    stateDir,
    env: ctx.env,
    masker: ctx.masker,
    configFile: loaded.file,
  });
  return scopeFor(ctx, { environment: name, config, backend, stateDir, configFile: loaded.file, resolvePath: loaded.resolvePath });
}

export function scopeFor(
  ctx: Context,
  s: { environment: string; config: SecretsConfig; backend: SecretsBackend; stateDir: string; configFile: string; resolvePath(p: string): string },
): SecretsScope {
  return {
    ctx,
    ...s,
    policy: (n) => s.config.required.find((p) => p.name === n),
    audit: async (event) => {
      await appendAudit(s.stateDir, { ...event, environment: s.environment });
    },
  };
}

/** Runs `fn` and records its outcome; a failure is recorded (with the error code, not the value) and rethrown. */
export async function audited<T>(
  scope: SecretsScope,
  event: Omit<AuditEvent, 'environment' | 'outcome'>,
  fn: () => Promise<T>,
  version?: (r: T) => string | undefined,
): Promise<T> {
  try {
    const r = await fn();
    await scope.audit({ ...event, outcome: 'ok', ...(version && version(r) ? { version: version(r) } : {}) });
    return r;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    await scope.audit({
      ...event,
      outcome: (err as { exitCode?: number }).exitCode === 130 ? 'interrupted' : err instanceof AccessDeniedError ? 'denied' : 'failed',
      details: { ...(event.details ?? {}), error: typeof code === 'string' ? code : 'error', message: err instanceof Error ? err.message : String(err) },
    }).catch(() => undefined);
    throw err;
  }
}
