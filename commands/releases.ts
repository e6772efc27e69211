import { defineCommand, type CommandGroup } from '../src/cli/define.js';

const group: CommandGroup = {
  name: 'releases',
  description: "list an environment's releases, newest first (current and previous marked)",
  commands: [
    defineCommand<Record<string, never>, { hosts?: string }>({
      path: ['releases'],
      description: "list the releases on the environment's target, newest first: current and previous marked, rc, commit, when, by whom, last outcome; and whether the app runs",
      options: [{ flags: '--hosts <names>', description: 'ssh targets: these hosts only (comma-separated names)' }],
      examples: ['ltc releases --env staging', 'ltc releases --env staging --json', 'ltc releases --env prod --hosts api1'],
      handler: async ({ options }, ctx) => (await import('../src/deploy/cli.js')).releasesCommand(ctx, options.hosts),
    }),
  ],
};
export default group;
