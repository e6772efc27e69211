import type { CommandGroup } from './define.js';

/** Every command group. Group files are thin definitions; implementations load lazily. */
export async function loadGroups(): Promise<CommandGroup[]> {
  const modules = await Promise.all([
    import('../../commands/init.js'),
    import('../../commands/config.js'),
    import('../../commands/demo.js'),
    import('../../commands/health.js'),
    import('../../commands/gates.js'),
    import('../../commands/runbook.js'),
    import('../../commands/secrets.js'),
    import('../../commands/audit.js'),
    import('../../commands/deploy.js'),
    import('../../commands/rollback.js'),
    import('../../commands/releases.js'),
    import('../../commands/status.js'),
    import('../../commands/lock.js'),
    import('../../commands/restart.js'),
    import('../../commands/golive.js'),
    import('../../commands/backup.js'),
    import('../../commands/incident.js'),
    import('../../commands/contacts.js'),
    import('../../commands/status-page.js'),
    import('../../commands/watch.js'),
  ]);
  return modules.map((m) => m.default);
}
