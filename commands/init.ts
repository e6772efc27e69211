import { defineCommand, type CommandGroup } from '../src/cli/define.js';

export interface InitOptions {
  force?: boolean;
  repo?: string;
}

const group: CommandGroup = {
  name: 'init',
  description: 'write a commented ltc.config.yaml',
  commands: [
    defineCommand<Record<string, never>, InitOptions>({
      path: ['init'],
      description: 'write a commented ltc.config.yaml (with the handbook gates) into the working directory',
      options: [
        { flags: '--force', description: 'overwrite an existing ltc.config.yaml' },
        { flags: '--repo <url-or-path>', description: 'the app repo to put in the config' },
      ],
      examples: ['ltc init', 'ltc init --repo git@github.com:example/lifetimecircle.git'],
      handler: async ({ options }, ctx) => (await import('../src/config/init.js')).initConfig(options, ctx),
    }),
  ],
};
export default group;
