import { defineCommand, type CommandGroup } from '../src/cli/define.js';
import type { AuditLogOptions, AuditVerifyOptions } from '../src/audit/cli.js';

const group: CommandGroup = {
  name: 'audit',
  description: 'the audit log: who did what, when (append-only, hash-chained, keyed with an HMAC key)',
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
    defineCommand<Record<string, never>, AuditVerifyOptions>({
      path: ['audit', 'verify'],
      description:
        'check the log: hash chain, HMACs (with the audit key), audit.head and the anchors in each target\'s revisions.log; names the first bad line (exit 1); a keyed log without its key: exit 2',
      options: [{ flags: '--require-key', description: 'exit 2 when no audit key is configured (an unkeyed log only shows accidents)' }],
      examples: ['LTC_AUDIT_KEY_FILE=~/.config/ltc/audit.key ltc audit verify', 'ltc audit verify --require-key --json'],
      handler: async ({ options }, ctx) => (await import('../src/audit/cli.js')).auditVerify(ctx, options),
    }),
    defineCommand<Record<string, never>, { out?: string }>({
      path: ['audit', 'init-key'],
      description: 'create an HMAC key for the audit log (mode 0600, outside the ops repo and .ltc/; never overwrites)',
      options: [{ flags: '--out <file>', description: 'where to write the key (e.g. ~/.config/ltc/audit.key)' }],
      examples: ['ltc audit init-key --out ~/.config/ltc/audit.key'],
      handler: async ({ options }, ctx) => (await import('../src/audit/cli.js')).auditInitKey(ctx, options),
    }),
    defineCommand<Record<string, never>, Record<string, never>>({
      path: ['audit', 'seal'],
      description: 'append a keyed entry that vouches for the log so far (after setting up a key on an existing log)',
      examples: ['LTC_AUDIT_KEY_FILE=~/.config/ltc/audit.key ltc audit seal'],
      handler: async (_i, ctx) => (await import('../src/audit/cli.js')).auditSeal(ctx),
    }),
  ],
};
export default group;
