import { defineCommand, type CommandGroup } from '../src/cli/define.js';
import type { AuditCliOptions, GenerateCliOptions, GetOptions } from '../src/secrets/cli.js';
import type { ScanCliOptions } from '../src/secrets/scan.js';
import type { HookOptions } from '../src/secrets/hook.js';

type Name = { name: string };
type NoArgs = Record<string, never>;

const group: CommandGroup = {
  name: 'secrets',
  description: 'generate, store, rotate, audit and scan secrets (file, AWS Secrets Manager or Vault per environment)',
  commands: [
    defineCommand<NoArgs, NoArgs>({
      path: ['secrets', 'list'],
      description: 'list the secrets of the environment: versions, stages, and required ones that are missing',
      examples: ['ltc secrets list --env staging'],
      handler: async (_i, ctx) => (await import('../src/secrets/cli.js')).listSecrets(ctx),
    }),
    defineCommand<Name, GetOptions>({
      path: ['secrets', 'get'],
      description: 'show a secret\'s versions, stages and dates; the value only with --reveal (in a terminal, or with --yes)',
      args: [{ name: 'name', description: 'secret name, e.g. LTC_SECRET_KEY', required: true }],
      options: [
        { flags: '--reveal', description: 'print the value (recorded in the audit log)' },
        { flags: '--stage <stage>', description: 'current (default), pending or previous' },
        { flags: '--version-id <id>', description: 'a version id instead of a stage' },
      ],
      examples: ['ltc secrets get LTC_SECRET_KEY --env staging', 'ltc secrets get DATABASE_PASSWORD --env staging --reveal --yes'],
      handler: async ({ args, options }, ctx) => (await import('../src/secrets/cli.js')).getSecret(ctx, args.name, options),
    }),
    defineCommand<Name & { value?: string[] }, NoArgs>({
      path: ['secrets', 'set'],
      description: 'store a value read from stdin or a hidden prompt (never from the command line) as the new current version',
      args: [
        { name: 'name', description: 'secret name', required: true },
        // Declared so a value typed after the name is refused by ltc, masked, instead of echoed by the parser.
        { name: 'value', description: 'refused: a value on the command line stays in shell history and `ps`', variadic: true },
      ],
      examples: ['ltc secrets set SMTP_PASSWORD --env prod          # asks, hidden', 'ltc secrets set SMTP_PASSWORD --env prod < smtp.txt'],
      handler: async ({ args }, ctx) => (await import('../src/secrets/cli.js')).setSecret(ctx, args.name, args.value),
    }),
    defineCommand<Name, GenerateCliOptions>({
      path: ['secrets', 'generate'],
      description: 'generate a value with the CSPRNG (keys: 48 random bytes base64url, at least 32; passwords: 32 characters without / @ " \' \\) and store it',
      args: [{ name: 'name', description: 'secret name', required: true }],
      options: [
        { flags: '--length <n>', description: 'password length (default 32, or the policy\'s)' },
        { flags: '--bytes <n>', description: 'random bytes of a key or token (default 48 for keys, 32 for tokens)' },
      ],
      examples: ['ltc secrets generate LTC_SECRET_KEY --env staging', 'ltc secrets generate DATABASE_PASSWORD --env staging --length 40'],
      handler: async ({ args, options }, ctx) => (await import('../src/secrets/cli.js')).generate(ctx, args.name, options),
    }),
    defineCommand<Name, { restart?: boolean }>({
      path: ['secrets', 'rotate'],
      description:
        'rotate in four steps (create pending, set where used, test, finish); finishes or undoes an interrupted rotation. ' +
        "A secret the environment's deployed app uses is written into shared/.env and the app restarted and health-checked with it (undone on failure)",
      args: [{ name: 'name', description: 'secret name', required: true }],
      options: [{ flags: '--no-restart', description: "do not re-render shared/.env and restart the environment's app (it keeps the old value until `ltc restart` or the next deploy)" }],
      examples: ['ltc secrets rotate DATABASE_PASSWORD --env staging', 'ltc secrets rotate LTC_SECRET_KEY --env prod --dry-run', 'ltc secrets rotate LTC_SECRET_KEY --env staging --no-restart'],
      handler: async ({ args, options }, ctx) => (await import('../src/secrets/cli.js')).rotate(ctx, args.name, options),
    }),
    defineCommand<Name, { restart?: boolean }>({
      path: ['secrets', 'rollback'],
      description: "make the previous version current again (and put it where it is used: the configured rotation target, and the environment's deployed app)",
      args: [{ name: 'name', description: 'secret name', required: true }],
      options: [{ flags: '--no-restart', description: "do not re-render shared/.env and restart the environment's app" }],
      examples: ['ltc secrets rollback DATABASE_PASSWORD --env staging'],
      handler: async ({ args, options }, ctx) => (await import('../src/secrets/cli.js')).rollback(ctx, args.name, options),
    }),
    defineCommand<NoArgs, NoArgs>({
      path: ['secrets', 'verify'],
      description: 'check every secret under secrets.required exists and meets its policy (exit 1 when one does not)',
      examples: ['ltc secrets verify --env prod'],
      handler: async (_i, ctx) => (await import('../src/secrets/cli.js')).verify(ctx),
    }),
    defineCommand<NoArgs, AuditCliOptions>({
      path: ['secrets', 'audit'],
      description: 'who read, wrote, generated, rotated or rolled back which secret, from the audit log',
      options: [
        { flags: '--since <when>', description: 'a duration (24h, 7d) or a date (2026-03-01)' },
        { flags: '--secret <name>', description: 'only this secret' },
      ],
      examples: ['ltc secrets audit --since 7d', 'ltc secrets audit --secret LTC_SECRET_KEY --json'],
      handler: async ({ options }, ctx) => (await import('../src/secrets/cli.js')).secretsAudit(ctx, options),
    }),
    defineCommand<{ path?: string }, ScanCliOptions>({
      path: ['secrets', 'scan'],
      description: 'find secrets in files, staged changes or the whole git history (secretlint + this project\'s shapes); exit 1 on findings',
      args: [{ name: 'path', description: 'file or folder (default: the current folder)' }],
      options: [
        { flags: '--staged', description: 'scan what is staged for the next commit' },
        { flags: '--history', description: 'scan every blob of every commit' },
        { flags: '--format <format>', description: 'text (default), json or sarif' },
      ],
      examples: ['ltc secrets scan', 'ltc secrets scan --staged', 'ltc secrets scan ../app --history --format sarif > scan.sarif'],
      handler: async ({ args, options }, ctx) => (await import('../src/secrets/scan.js')).scanCommand(ctx, args.path, options),
    }),
    defineCommand<NoArgs, HookOptions>({
      path: ['secrets', 'hook', 'install'],
      description: 'install a git pre-commit hook in the app repo that runs `ltc secrets scan --staged`',
      options: [
        { flags: '--repo <dir>', description: 'the repository (default: app.repo from the config when it is a local path)' },
        { flags: '--force', description: 'replace a pre-commit hook that ltc did not write (it is kept as pre-commit.before-ltc)' },
      ],
      examples: ['ltc secrets hook install', 'ltc secrets hook install --repo ../app'],
      handler: async ({ options }, ctx) => (await import('../src/secrets/hook.js')).installHook(ctx, options),
    }),
  ],
};
export default group;
