import { z } from 'zod';

export const secretPolicySchema = z
  .strictObject({
    name: z.string().regex(/^[A-Z][A-Z0-9_]*$/, { message: 'expected an upper-case name such as LTC_SECRET_KEY' }),
    kind: z.enum(['secret_key', 'password', 'token', 'string']).default('string'),
    min_bytes: z.number().int().min(1).optional().describe('secret_key: minimum random bytes (32+)'),
    length: z.number().int().min(8).optional().describe('password: length'),
    rotate: z
      .strictObject({
        runbook: z.string().optional().describe('runbook that puts the pending value where it is used'),
        postgres: z
          .strictObject({
            url_secret: z.string().optional().describe('secret holding an admin DATABASE_URL'),
            host: z.string().default('127.0.0.1'),
            port: z.number().int().default(5432),
            database: z.string().default('postgres'),
            role: z.string().describe('role whose password is rotated'),
            admin_user: z.string().optional(),
            admin_password_secret: z.string().optional(),
          })
          .optional(),
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
export type SecretsConfig = z.output<typeof secretsSchema>;
