import { didYouMean } from '../../core/suggest.js';
import { z } from 'zod';
import { regexString } from './common.js';
import { healthSchema, httpUrlSchema } from './health.js';
import { targetSchema } from './target.js';
import { secretsSchema } from './secrets.js';
import { gateSchema } from './gates.js';
import { databaseSchema, goliveSchema } from './golive.js';
import { incidentsSchema } from './incidents.js';
import { watchSchema } from './watch.js';

export const DEFAULT_TAG_PATTERN = '^rc-\\d{4}-\\d{2}-\\d{2}(\\.\\d+)?$';

export const environmentSchema = z
  .strictObject({
    description: z.string().optional(),
    protected: z.boolean().default(false).describe('a protected environment asks for its name to be typed and needs green gates'),
    url: httpUrlSchema.optional().describe('base URL of the app in this environment (http or https)'),
    health: healthSchema.optional(),
    target: targetSchema.optional(),
    secrets: secretsSchema.optional(),
    database: databaseSchema.optional(),
    watch: watchSchema.optional(),
  })
  .superRefine((env, ctx) => {
    if (env.url) return;
    env.health?.endpoints.forEach((e, i) => {
      if (e.url.startsWith('/')) {
        ctx.addIssue({ code: 'custom', path: ['health', 'endpoints', i, 'url'], message: `"${e.url}" is a path, but this environment has no url to resolve it against: add url: https://… to the environment or give an absolute URL` });
      }
    });
  })
  .describe('one environment (staging, prod, …)');

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1).default(1),
    app: z.strictObject({
      name: z.string().default('lifetimecircle'),
      repo: z.string().min(1).describe('git URL or path of the app repo'),
      tag_pattern: regexString.default(DEFAULT_TAG_PATTERN).describe('release candidate tags must match'),
    }),
    environments: z
      .record(
        z.string().regex(/^[a-z][a-z0-9-]*$/, { message: 'an environment name is lower-case letters, digits and -, starting with a letter (e.g. staging, prod)' }),
        environmentSchema,
      )
      .default({}),
    default_env: z
      .string()
      .optional()
      .describe('the environment commands use when --env (and LTC_ENV) is not given; never a protected one'),
    gates: z
      .array(gateSchema)
      .default([])
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((g, i) => {
          if (seen.has(g.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `gate name "${g.name}" is used twice (each gate has its own log and record)` });
          if (g.name === 'setup' || g.name === 'checkout') ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${g.name}" is a phase of ltc gates run; name the gate otherwise` });
          seen.add(g.name);
        });
      }),
    contacts: z
      .array(
        z.strictObject({
          name: z.string(),
          role: z.string(),
          email: z.string().email().optional(),
          phone: z.string().optional(),
          slack: z.string().optional(),
        }),
      )
      .default([]),
    golive: goliveSchema,
    incidents: incidentsSchema,
    thresholds: z
      .strictObject({
        error_rate: z.number().min(0).max(1).default(0.001).describe('fraction of requests, 0.001 = 0.1 %'),
        latency_p95_ms: z.number().positive().default(500),
        latency_p99_ms: z.number().positive().default(1000),
      })
      .default({ error_rate: 0.001, latency_p95_ms: 500, latency_p99_ms: 1000 }),
    audit: z
      .strictObject({
        key_file: z.string().min(1).optional().describe('HMAC key of the audit log: a file outside the ops repo and .ltc/, mode 0600 (`ltc audit init-key --out <file>`); relative to the config file. LTC_AUDIT_KEY_FILE overrides it'),
        key_secret: z
          .strictObject({
            environment: z.string().min(1).describe('the environment whose secrets backend holds the key'),
            name: z.string().min(1).describe('the secret name (its value: at least 32 characters, e.g. `openssl rand -hex 32`)'),
          })
          .optional()
          .describe('HMAC key of the audit log read from a secrets backend instead of a file'),
      })
      .refine((a) => !(a.key_file && a.key_secret), { message: 'give audit.key_file or audit.key_secret, not both' })
      .optional()
      .describe('the keyed audit log (docs/audit.md)'),
  })
  .superRefine((c, ctx) => {
    const roles = c.contacts.map((k) => k.role);
    c.incidents.escalation.forEach((rule, i) =>
      rule.page.forEach((role, j) => {
        if (!roles.includes(role)) {
          const near = didYouMean(role, roles);
          ctx.addIssue({ code: 'custom', path: ['incidents', 'escalation', i, 'page', j], message: `"${role}" is not the role of any contact (roles: ${roles.join(', ') || 'none'})${near ? `; ${near}` : ''}` });
        }
      }),
    );
    if (c.default_env === undefined) return;
    const env = c.environments[c.default_env];
    if (!env) {
      ctx.addIssue({ code: 'custom', path: ['default_env'], message: `default_env "${c.default_env}" is not a configured environment (configured: ${Object.keys(c.environments).join(', ') || 'none'})` });
    } else if (env.protected) {
      ctx.addIssue({ code: 'custom', path: ['default_env'], message: `default_env "${c.default_env}" is a protected environment: a protected environment is never the default (name it with --env each time); set default_env to an unprotected one, e.g. staging` });
    }
  })
  .describe('ltc.config.yaml');

export type Config = z.output<typeof configSchema>;
export type EnvironmentConfig = z.output<typeof environmentSchema>;
