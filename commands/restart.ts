import { defineCommand, type CommandGroup } from '../src/cli/define.js';
import type { RestartCliOptions } from '../src/deploy/restart.js';

const group: CommandGroup = {
  name: 'restart',
  description: 'render shared/.env from the secret backend again, restart the current release and health-check it (exit codes as deploy)',
  commands: [
    defineCommand<Record<string, never>, RestartCliOptions>({
      path: ['restart'],
      description:
        "lock the environment, write shared/.env from the secret backend's current values, restart the current release and health-check it; " +
        'recorded in revisions.log and the audit log; a failed health check puts the old env file back and restarts again (exit 3; 4 when that fails too; 5 when locked)',
      options: [{ flags: '--lock-wait <duration>', description: 'wait this long for a deploy or rollback in progress (default: exit 5 at once)' }],
      examples: ['ltc restart --env staging', 'ltc restart --env staging --dry-run', 'ltc restart --env prod --lock-wait 5m'],
      handler: async ({ options }, ctx) => (await import('../src/deploy/restart.js')).restartCommand(options, ctx),
    }),
  ],
};
export default group;
