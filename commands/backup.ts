import { defineCommand, type CommandGroup } from '../src/cli/define.js';

const group: CommandGroup = {
  name: 'backup',
  description: "encrypted PostgreSQL backups of an environment's database, restore-verified",
  commands: [
    defineCommand({
      path: ['backup', 'create'],
      description: 'pg_dump (custom format) streamed through AES-256-GCM (key from the secret backend) into the backup dir, mode 0600; indexed with sha256, size, duration',
      examples: ['ltc backup create --env prod'],
      handler: async (_i, ctx) => (await import('../src/backup/cli.js')).backupCreate(ctx),
    }),
    defineCommand({
      path: ['backup', 'list'],
      description: 'the backups of the environment, newest last, with their verification',
      examples: ['ltc backup list --env prod --json'],
      handler: async (_i, ctx) => (await import('../src/backup/cli.js')).backupList(ctx),
    }),
    defineCommand<{ id?: string }, Record<string, never>>({
      path: ['backup', 'verify'],
      description: 'restore the newest backup (or <id>) into a scratch database, run the sanity queries, drop it; record the result and restore time (exit 1 when it fails)',
      args: [{ name: 'id', description: 'a backup id from ltc backup list (default: the newest)' }],
      examples: ['ltc backup verify --env prod'],
      handler: async ({ args }, ctx) => (await import('../src/backup/cli.js')).backupVerify(ctx, args.id),
    }),
    defineCommand<Record<string, never>, { keep?: string }>({
      path: ['backup', 'prune'],
      description: 'remove all but the newest N backups of the environment',
      options: [{ flags: '--keep <n>', description: 'how many to keep (default database.backup.keep)' }],
      examples: ['ltc backup prune --env prod --keep 7'],
      handler: async ({ options }, ctx) => (await import('../src/backup/cli.js')).backupPrune(ctx, options.keep),
    }),
  ],
};
export default group;
