import { defineCommand, type CommandGroup } from '../src/cli/define.js';

const group: CommandGroup = {
  name: 'lock',
  description: "an environment's deploy lock: who holds it, and clearing a stale one",
  commands: [
    defineCommand<Record<string, never>, Record<string, never>>({
      path: ['lock', 'status'],
      description: 'show who holds the deploy lock of the environment (pid, host, user, rc, since), and whether it is stale (its process is gone)',
      examples: ['ltc lock status --env staging', 'ltc lock status --env staging --json'],
      handler: async (_input, ctx) => (await import('../src/deploy/cli.js')).lockStatusCommand(ctx),
    }),
    defineCommand<Record<string, never>, { force?: boolean }>({
      path: ['lock', 'release'],
      description: 'remove a stale deploy lock (audited); a lock whose process still runs needs --force',
      options: [{ flags: '--force', description: 'also remove a lock whose process still runs' }],
      examples: ['ltc lock release --env staging'],
      handler: async ({ options }, ctx) => (await import('../src/deploy/cli.js')).lockReleaseCommand(options, ctx),
    }),
  ],
};
export default group;
