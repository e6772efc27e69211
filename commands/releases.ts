import { defineCommand, type CommandGroup } from '../src/cli/define.js';

const group: CommandGroup = {
  name: 'releases',
  description: "list an environment's releases, newest first (current and previous marked)",
  commands: [
    defineCommand<Record<string, never>, Record<string, never>>({
      path: ['releases'],
      description: "list the releases on the environment's target, newest first: current and previous marked, rc, commit, when, by whom, last outcome; and whether the app runs",
      examples: ['ltc releases --env staging', 'ltc releases --env staging --json'],
      handler: async (_input, ctx) => (await import('../src/deploy/cli.js')).releasesCommand(ctx),
    }),
  ],
};
export default group;
