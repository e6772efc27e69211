import { defineCommand, type CommandGroup } from '../src/cli/define.js';

const group: CommandGroup = {
  name: 'contacts',
  description: 'the escalation list and who to page per severity; every placeholder flagged',
  commands: [
    defineCommand<Record<string, never>, { sev?: string }>({
      path: ['contacts'],
      description:
        'print the escalation list (config contacts), the paging tool, the status page and who to page for each severity (incidents.escalation); every placeholder is flagged and makes the exit code 1',
      options: [{ flags: '--sev <1-4>', description: 'only who to page for this severity' }],
      examples: ['ltc contacts', 'ltc contacts --sev 1', 'ltc contacts --json'],
      handler: async ({ options }, ctx) => (await import('../src/incident/contacts.js')).contactsCommand(options, ctx),
    }),
  ],
};
export default group;
