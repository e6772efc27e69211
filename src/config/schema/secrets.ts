import { z } from 'zod';
import { duration } from './common.js';

export const postgresRotationSchema = z
  .strictObject({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(5432),
    database: z.string().default('postgres'),
    role: z.string().min(1).describe('role whose password is rotated (ALTER ROLE … PASSWORD)'),
    admin_user: z.string().optional().describe('connect as this role to change the password (else the role changes its own)'),
    admin_password_secret: z.string().optional().describe('secret (same backend) holding admin_user\'s password'),
    url_secret: z.string().optional().describe('secret holding an admin postgres:// URL (instead of admin_user/admin_password_secret)'),
    ssl: z.boolean().default(false).describe('connect with TLS'),
  })
  .describe('rotate a PostgreSQL role password: ALTER ROLE with a SCRAM verifier, then log in with the new password');

export const secretPolicySchema = z
  .strictObject({
    name: z.string().regex(/^[A-Z][A-Z0-9_]*$/, { message: 'expected an upper-case name such as LTC_SECRET_KEY' }),
    kind: z
      .enum(['secret_key', 'password', 'token', 'string'])
      .optional()
      .describe('secret_key: random bytes, base64url; password: characters by policy; token: random bytes; string: set by hand. Default: from the name'),
    min_bytes: z.number().int().min(1).optional().describe('secret_key/token: minimum random bytes (secret keys: 32 or more)'),
    length: z.number().int().min(8).optional().describe('password: minimum length (generated passwords use it, 32 when unset)'),
    max_age: duration.optional().describe('rotation age: the current version older than this fails go-live (secrets.stored); default golive.secret_max_age'),
    rotate: z
      .strictObject({
        runbook: z.string().optional().describe('runbook that puts the pending value where it is used (inputs: secret, environment, phase)'),
        inputs: z
          .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
          .optional()
          .describe('more inputs for that runbook, e.g. env_file, restart, health_url'),
        postgres: postgresRotationSchema.optional(),
      })
      .optional(),
  })
  .describe('a secret the environment needs');

const required = z.array(secretPolicySchema).default([]);

export const fileBackendSchema = z.strictObject({
  backend: z.literal('file'),
  path: z.string().optional().describe('encrypted store (default .ltc/secrets/<env>.json)'),
  key_file: z.string().optional().describe('master key file of mode 0600 (else LTC_MASTER_KEY)'),
  required,
});

export const awsBackendSchema = z.strictObject({
  backend: z.literal('aws'),
  region: z.string().default('eu-central-1'),
  profile: z.string().optional(),
  endpoint: z.string().url().optional(),
  prefix: z.string().default('ltc/').describe('secret names are <prefix><env>/<NAME>'),
  required,
});

export const vaultBackendSchema = z.strictObject({
  backend: z.literal('vault'),
  address: z.string().url().optional().describe('else VAULT_ADDR'),
  mount: z.string().default('secret'),
  path_prefix: z.string().default('ltc').describe('secrets live at <mount>/data/<path_prefix>/<env>/<NAME>'),
  required,
});

export const secretsSchema = z.discriminatedUnion('backend', [fileBackendSchema, awsBackendSchema, vaultBackendSchema]);

export type SecretPolicy = z.output<typeof secretPolicySchema>;
export type PostgresRotation = z.output<typeof postgresRotationSchema>;
export type SecretsConfig = z.output<typeof secretsSchema>;
