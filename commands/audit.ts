import { defineCommand, type CommandGroup } from '../src/cli/define.js';
import type { AuditLogOptions } from '../src/audit/cli.js';

const group: CommandGroup = {
  name: 'audit',
  description: 'the audit log: who did what, when (append-only, hash-chained)',
  commands: [
    defineCommand<Record<string, never>, AuditLogOptions>({
      path: ['audit', 'log'],
      description: 'show the audit log (.ltc/audit.jsonl)',
      options: [
        { flags: '--since <when>', description: 'a duration (24h, 7d) or a date (2026-03-01)' },
        { flags: '--action <prefix>', description: 'only actions starting with this, e.g. secret.rotate or deploy' },
      ],
      examples: ['ltc audit log --since 24h', 'ltc audit log --since 2026-03-01 --json'],
      handler: async ({ options }, ctx) => (await import('../src/audit/cli.js')).auditLog(ctx, options),
    }),
    defineCommand<Record<string, never>, Record<string, never>>({
      path: ['audit', 'verify'],
      description: 'check the hash chain: finds an edited, removed or reordered entry and names the first bad line (exit 1)',
      examples: ['ltc audit verify'],
      handler: async (_i, ctx) => (await import('../src/audit/cli.js')).auditVerify(ctx),
    }),
  ],
};
export default group;
