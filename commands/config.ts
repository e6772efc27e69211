import { defineCommand, type CommandGroup } from '../src/cli/define.js';

const group: CommandGroup = {
  name: 'config',
  description: 'validate and show ltc.config.yaml',
  commands: [
    defineCommand<Record<string, never>, Record<string, never>>({
      path: ['config', 'validate'],
      description: 'parse and validate the config (file:line:column for every problem)',
      examples: ['ltc config validate', 'ltc config validate --config ops/ltc.config.yaml --json'],
      handler: async (_input, ctx) => (await import('../src/config/commands.js')).validateConfig(ctx),
    }),
    defineCommand<Record<string, never>, Record<string, never>>({
      path: ['config', 'show'],
      description: 'print the resolved config of one environment (defaults filled in)',
      examples: ['ltc config show --env staging', 'ltc config show --env prod --json'],
      handler: async (_input, ctx) => (await import('../src/config/commands.js')).showConfig(ctx),
    }),
  ],
};
export default group;
