import { defineCommand, type CommandGroup } from '../src/cli/define.js';

const group: CommandGroup = {
  name: 'status-page',
  description: 'the public status page: one self-contained HTML file from the incident records',
  commands: [
    defineCommand<Record<string, never>, { out?: string }>({
      path: ['status-page', 'build'],
      description: 'write <dir>/index.html: the state of every environment and the incidents of the last 90 days with their updates (no JavaScript, no external assets)',
      options: [{ flags: '--out <dir>', description: 'the folder to write index.html to (required)' }],
      examples: ['ltc status-page build --out public/status'],
      handler: async ({ options }, ctx) => (await import('../src/incident/report.js')).statusPageBuild(options, ctx),
    }),
  ],
};
export default group;
