import { defineCommand, type CommandGroup } from '../src/cli/define.js';

const rcOption = { flags: '--rc <tag>', description: 'release candidate tag (must match app.tag_pattern)' };

const group: CommandGroup = {
  name: 'golive',
  description: "the handbook's way to production as a checklist: automated checks, sign-offs, waivers, the go-live report",
  commands: [
    defineCommand<Record<string, never>, { rc?: string; phase?: string; item?: string; report?: string; sendTestAlert?: boolean }>({
      path: ['golive', 'check'],
      description:
        'decide every item of runbooks/golive.yaml for an RC on an environment (checks run concurrently); a table per phase; ' +
        'exit 1 when a blocking item fails or lacks its sign-off, 0 when the release may go live',
      options: [
        rcOption,
        { flags: '--phase <n>', description: 'only the items of phase 1, 2, 3 or 4' },
        { flags: '--item <id>', description: 'only this item, e.g. secrets.stored' },
        { flags: '--report <file.md>', description: 'write the Markdown go-live report to attach to the release' },
        { flags: '--send-test-alert', description: 'send a test message to the alert webhook and record its answer' },
      ],
      examples: [
        'ltc golive check --rc rc-2026-03-01 --env prod',
        'ltc golive check --rc rc-2026-03-01 --env prod --phase 1',
        'ltc golive check --rc rc-2026-03-01 --env prod --report golive-rc-2026-03-01.md --send-test-alert',
      ],
      handler: async ({ options }, ctx) => (await import('../src/golive/run.js')).goliveCheck(options, ctx),
    }),
    defineCommand<{ item: string }, { rc?: string; by?: string; note?: string }>({
      path: ['golive', 'signoff'],
      description: 'record a sign-off of a manual item for one RC (refused for an automated item; audited)',
      args: [{ name: 'item', description: 'item id, e.g. approvals.management', required: true }],
      options: [rcOption, { flags: '--by <name>', description: 'who signs (required)' }, { flags: '--note <text>', description: 'a note kept with it' }],
      examples: ['ltc golive signoff approvals.management --rc rc-2026-03-01 --by "Jane Doe (CTO)"'],
      handler: async ({ args, options }, ctx) => (await import('../src/golive/run.js')).goliveSignoff(args.item, options, ctx),
    }),
    defineCommand<{ item: string }, { rc?: string; by?: string; reason?: string; expires?: string }>({
      path: ['golive', 'waive'],
      description: 'let a failing item pass as waived for one RC until a date (shown at the top of the report; audited)',
      args: [{ name: 'item', description: 'item id, e.g. tls.certificate', required: true }],
      options: [
        rcOption,
        { flags: '--by <name>', description: 'who accepts the risk (required)' },
        { flags: '--reason <text>', description: 'why (required)' },
        { flags: '--expires <date>', description: 'until when, e.g. 2026-03-08 (required, in the future)' },
      ],
      examples: ['ltc golive waive tls.certificate --rc rc-2026-03-01 --by "Jane Doe" --reason "renewal booked, CAB-12" --expires 2026-03-08'],
      handler: async ({ args, options }, ctx) => (await import('../src/golive/run.js')).goliveWaive(args.item, options, ctx),
    }),
    defineCommand<Record<string, never>, Record<string, never>>({
      path: ['golive', 'status'],
      description: 'the latest go-live check per RC and the sign-offs recorded',
      examples: ['ltc golive status', 'ltc golive status --json'],
      handler: async (_input, ctx) => (await import('../src/golive/run.js')).goliveStatus(ctx),
    }),
  ],
};
export default group;
