import type { CommandGroup } from './define.js';

type GroupModule = Promise<{ default: CommandGroup }>;

/** Every command group by name. Group files are thin definitions; implementations load lazily. */
const GROUPS: Record<string, () => GroupModule> = {
  init: () => import('../../commands/init.js'),
  config: () => import('../../commands/config.js'),
  demo: () => import('../../commands/demo.js'),
  health: () => import('../../commands/health.js'),
  gates: () => import('../../commands/gates.js'),
  runbook: () => import('../../commands/runbook.js'),
  secrets: () => import('../../commands/secrets.js'),
  audit: () => import('../../commands/audit.js'),
  deploy: () => import('../../commands/deploy.js'),
  rollback: () => import('../../commands/rollback.js'),
  releases: () => import('../../commands/releases.js'),
  status: () => import('../../commands/status.js'),
  lock: () => import('../../commands/lock.js'),
  restart: () => import('../../commands/restart.js'),
  golive: () => import('../../commands/golive.js'),
  backup: () => import('../../commands/backup.js'),
  incident: () => import('../../commands/incident.js'),
  contacts: () => import('../../commands/contacts.js'),
  'status-page': () => import('../../commands/status-page.js'),
  watch: () => import('../../commands/watch.js'),
};

/** Top-level commands defined in a group of another name. */
const OWNER: Record<string, string> = { stop: 'deploy' };

/**
 * The groups to register: only the one that defines `word` when it names a command (a command
 * line that starts with one, so commander sees every command it could reach), else all of them
 * (help, unknown commands and their suggestions).
 */
export async function loadGroups(word?: string): Promise<CommandGroup[]> {
  const name = word === undefined ? undefined : (OWNER[word] ?? word);
  const loaders = name !== undefined && Object.hasOwn(GROUPS, name) ? [GROUPS[name]!] : Object.values(GROUPS);
  return (await Promise.all(loaders.map((load) => load()))).map((m) => m.default);
}
