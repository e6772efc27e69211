import { defineCommand, type CommandGroup } from '../src/cli/define.js';

const group: CommandGroup = {
  name: 'status',
  description: 'one view of an environment: on every host the current and previous release, whether the app runs, its health now, the lock and the last outcome',
  commands: [
    defineCommand<Record<string, never>, { hosts?: string; roles?: string }>({
      path: ['status'],
      description:
        'per host (one row for a local target): current and previous release, app running, health now (a real HTTP request), ' +
        'the lock (held, stale) and the last deploy or rollback; exit 1 when a host is unreachable or unhealthy or the hosts run different releases',
      options: [
        { flags: '--hosts <names>', description: 'ssh targets: these hosts only (comma-separated names)' },
        { flags: '--roles <roles>', description: 'ssh targets: the hosts with one of these roles only (comma-separated)' },
      ],
      examples: ['ltc status --env staging', 'ltc status --env prod --json', 'ltc status --env prod --hosts api1,api2'],
      handler: async ({ options }, ctx) => (await import('../src/deploy/status.js')).statusCommand(options, ctx),
    }),
  ],
};
export default group;
