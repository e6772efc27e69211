import { defineCommand, type CommandGroup } from '../src/cli/define.js';
import type { OpenOptions, UpdateOptions } from '../src/incident/cli.js';

const idArg = { name: 'id', description: 'incident id, e.g. INC-20260301-1', required: true };

const group: CommandGroup = {
  name: 'incident',
  description: 'incident response: open, note, update (posted to the status webhooks), close, list, show, post-mortem with the timeline filled in',
  commands: [
    defineCommand<Record<string, never>, OpenOptions>({
      path: ['incident', 'open'],
      description:
        'open an incident: severity, title, commander (git user.email, else the OS user), the environment (--env) and the release running there now (revisions log); posts the first status entry',
      options: [
        { flags: '--sev <1-4>', description: '1 critical … 4 low (required)' },
        { flags: '--title <text>', description: 'what users see (required)' },
        { flags: '--commander <name>', description: 'the incident commander (default: git user.email, else the OS user)' },
        { flags: '--impact <text>', description: 'the user-visible impact, for the status entries' },
        { flags: '--started <time>', description: 'when the impact began (ISO time; default now): the time to detect is measured from it' },
        { flags: '--security', description: 'a security incident (a breach, a leaked secret): the go-live item incidents.none fails on it' },
      ],
      examples: ['ltc incident open --sev 2 --title "checkout returns 500" --env prod',
        'ltc incident open --sev 1 --security --title "admin session tokens leaked" --env prod', 'ltc incident open --sev 1 --title "site down" --env prod --commander jane@example.com --started 2026-03-01T09:40Z'],
      handler: async ({ options }, ctx) => (await import('../src/incident/cli.js')).incidentOpen(options, ctx),
    }),
    defineCommand<{ id: string; text: string[] }, Record<string, never>>({
      path: ['incident', 'note'],
      description: 'add a note to the incident timeline (internal: not posted, not on the status page)',
      args: [idArg, { name: 'text', description: 'the note', required: true, variadic: true }],
      examples: ['ltc incident note INC-20260301-1 "error rate 12 %, started 09:41 after the deploy"'],
      handler: async ({ args }, ctx) => (await import('../src/incident/cli.js')).incidentNote(args.id, args.text.join(' '), ctx),
    }),
    defineCommand<{ id: string }, UpdateOptions>({
      path: ['incident', 'update'],
      description:
        'set the status and post a status entry (templates/incident-update.txt) to the configured webhooks, retried with backoff; a failed post is reported and the update is still recorded',
      args: [idArg],
      options: [
        { flags: '--status <status>', description: 'investigating, identified, monitoring or resolved (required)' },
        { flags: '--message <text>', description: 'what is being done (shown on the status page)' },
        { flags: '--impact <text>', description: 'the user-visible impact now' },
        { flags: '--security', description: 'mark it a security incident (found out later)' },
      ],
      examples: ['ltc incident update INC-20260301-1 --status identified --message "a bad release; rolling back"', 'ltc incident update INC-20260301-1 --status resolved --message "rolled back to rc-2026-02-15"'],
      handler: async ({ args, options }, ctx) => (await import('../src/incident/cli.js')).incidentUpdate(args.id, options, ctx),
    }),
    defineCommand<{ id: string }, Record<string, never>>({
      path: ['incident', 'close'],
      description: 'close the incident (resolved if it was not yet); no update or note is accepted after it',
      args: [idArg],
      examples: ['ltc incident close INC-20260301-1'],
      handler: async ({ args }, ctx) => (await import('../src/incident/cli.js')).incidentClose(args.id, ctx),
    }),
    defineCommand<Record<string, never>, Record<string, never>>({
      path: ['incident', 'list'],
      description: 'the incidents, open ones first',
      examples: ['ltc incident list', 'ltc incident list --json'],
      handler: async (_i, ctx) => (await import('../src/incident/cli.js')).incidentList(ctx),
    }),
    defineCommand<{ id: string }, Record<string, never>>({
      path: ['incident', 'show'],
      description: 'one incident: its record and every event, with the webhook answers',
      args: [idArg],
      examples: ['ltc incident show INC-20260301-1', 'ltc incident show INC-20260301-1 --json'],
      handler: async ({ args }, ctx) => (await import('../src/incident/cli.js')).incidentShow(args.id, ctx),
    }),
    defineCommand<{ id: string }, { out?: string }>({
      path: ['incident', 'postmortem'],
      description:
        'a Markdown post-mortem (templates/postmortem.md) with the timeline filled in from the incident and the deploys, rollbacks, gate runs, rotations and lock takeovers of its span, and the time to detect, mitigate, resolve',
      args: [idArg],
      options: [{ flags: '--out <file.md>', description: 'write it there (never over an existing file); default stdout' }],
      examples: ['ltc incident postmortem INC-20260301-1 --out postmortems/INC-20260301-1.md'],
      handler: async ({ args, options }, ctx) => (await import('../src/incident/report.js')).incidentPostmortem(args.id, options, ctx),
    }),
  ],
};
export default group;
