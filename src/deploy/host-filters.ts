import { UsageError } from '../core/errors.js';

/**
 * `--hosts`/`--roles` pick hosts of an ssh target. On a local target there is nothing to pick:
 * refused (exit 2, nothing done) rather than ignored, since the user meant fewer hosts than all.
 */
export function refuseHostFilters(command: string, environment: string, filters: { hosts?: string | undefined; roles?: string | undefined }): void {
  const flag = filters.hosts !== undefined ? '--hosts' : filters.roles !== undefined ? '--roles' : undefined;
  if (!flag) return;
  throw new UsageError(`${flag} is for ssh targets; environment ${environment} has a local target (one machine, no hosts to pick)`, {
    hint: `leave out ${flag}: ltc ${command} --env ${environment}`,
  });
}
