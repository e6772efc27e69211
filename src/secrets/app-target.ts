/**
 * The app of an environment as the place a rotated secret is used: when the environment has a
 * target with a release deployed and its shared/.env carries the secret (every secret of the
 * environment, or the ones under `required`), a rotation writes the pending value into
 * shared/.env, restarts the app and health-checks it (`restartApp`); a failure puts the current
 * value back the same way. `--no-restart` opts out (the app then keeps the old value until the
 * next deploy or `ltc restart`).
 */
import type { RotationTarget } from './rotate.js';
import type { SecretsScope } from './service.js';

export async function appTargetFor(scope: SecretsScope, name: string): Promise<RotationTarget | undefined> {
  const loaded = await scope.ctx.config();
  const env = loaded.config.environments[scope.environment];
  if (!env?.target) return undefined;
  const required = env.secrets?.required ?? [];
  if (required.length && !required.some((r) => r.name === name)) return undefined;
  const { openTarget } = await import('../targets/index.js');
  const target = openTarget(scope.environment, env, loaded);
  if (!(await target.readCurrent())) return undefined;
  const ctx = { ...scope.ctx, options: { ...scope.ctx.options, env: scope.environment } };
  const run = async (value: string, reason: string) => {
    const { restartApp, restartChangedNothing } = await import('../deploy/restart.js');
    try {
      await restartApp(ctx, { environment: scope.environment, overrides: { [name]: value }, reason, undo: false });
    } catch (err) {
      // Locked, or the backend could not be read: the app and shared/.env are as they were.
      if (restartChangedNothing(err)) {
        const { NotAppliedError } = await import('./backend.js');
        const e = err as { message?: string; hint?: string };
        throw new NotAppliedError(`the app of ${scope.environment} was not restarted: ${e.message ?? String(err)}`, { ...(e.hint ? { hint: e.hint } : {}), cause: err });
      }
      throw err;
    }
  };
  return {
    description: `the app of ${scope.environment} (${target.paths.envFile}, restart, health check)`,
    set: (value, _known, stage) => run(value, `${stage === 'previous' ? 'the rollback' : 'the rotation'} of ${name}`),
    // The health check ran with the new value in `set`.
    test: async () => undefined,
    revert: (value) => run(value, `undoing the rotation of ${name}`),
  };
}
