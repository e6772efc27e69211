import { defineCommand, type CommandGroup } from '../src/cli/define.js';
import type { DemoOptions } from '../src/demo/run.js';

const group: CommandGroup = {
  name: 'demo',
  description: 'run the whole story on a throwaway demo app (no cloud account needed)',
  commands: [
    defineCommand<Record<string, never>, DemoOptions>({
      path: ['demo'],
      description: 'generate a demo app repo, then run the real ltc commands against it on this machine',
      options: [
        { flags: '--dir <dir>', description: 'work in this folder (kept) instead of a temp dir' },
        { flags: '--keep', description: 'keep the temp workspace for a look afterwards' },
        { flags: '--hosts <n>', description: 'the story on n hosts (1-8): one real sshd per host on loopback, HAProxy in front, failed requests counted (needs openssh-server, haproxy)' },
      ],
      examples: ['ltc demo', 'ltc demo --keep', 'ltc demo --hosts 3'],
      handler: async ({ options }, ctx) => (await import('../src/demo/run.js')).runDemo(options, ctx),
    }),
  ],
};
export default group;
