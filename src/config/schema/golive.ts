import { z } from 'zod';
import { duration } from './common.js';

/** The environment's PostgreSQL database: login check, connection check, backups. */
export const databaseSchema = z
  .strictObject({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(5432),
    name: z.string().min(1).describe('database name'),
    user: z.string().min(1).describe('the role the app logs in as'),
    password_secret: z.string().regex(/^[A-Z][A-Z0-9_]*$/).describe("secret (environment's backend) holding that role's password"),
    max_connection_share: z.number().gt(0).max(1).default(0.8).describe('go-live fails when connections exceed this share of max_connections'),
    max_query_time: duration.default('5m').describe('go-live fails when an active query has run longer'),
    backup: z
      .strictObject({
        dir: z.string().min(1).describe('where encrypted backups and their index live (relative to the config file)'),
        key_secret: z.string().regex(/^[A-Z][A-Z0-9_]*$/).describe('secret holding the backup encryption key (32+ random bytes, base64url)'),
        keep: z.number().int().min(1).default(7),
        sanity: z
          .array(z.strictObject({ sql: z.string().min(1), expect: z.string().describe('the first column of the first row, as text') }))
          .default([])
          .describe('queries run against the restored copy by ltc backup verify'),
      })
      .optional(),
  })
  .describe("the environment's PostgreSQL database");

export const goliveSchema = z
  .strictObject({
    architecture: z
      .strictObject({
        hosting: z.string().optional(),
        api_deployment: z.string().optional(),
        database: z.string().optional(),
        frontend: z.string().optional(),
      })
      .default({})
      .describe('the handbook\'s architecture decisions (phase 1); none may be empty or TBD'),
    staging: z.string().default('staging').describe('the environment the RC must be deployed to first'),
    tls_min_days: z.number().int().min(1).default(14).describe("the production URL's certificate must be valid this many more days"),
    tls_ca: z.string().optional().describe('PEM file of a private CA that signs the production certificate'),
    hostnames: z.array(z.string().min(1)).optional().describe('host names that must resolve (default: the hosts of the environment urls)'),
    ci_workflows: z.array(z.string().min(1)).default(['.github/workflows', '.gitlab-ci.yml']).describe("paths in the RC's tree: one must exist"),
    secret_max_age: duration.default('90d').describe('a required secret older than this fails go-live (rotate it)'),
    gates_max_age: duration.default('24h'),
    rehearsal_max_age: duration.default('14d').describe('a rollback on staging must have been rehearsed within this'),
    rto: duration.default('5m').describe('recovery time objective: a rehearsed rollback and a verified restore must be faster'),
    rpo: duration.default('24h').describe('recovery point objective: the newest backup must be younger'),
    alert_webhook: z.string().url().optional().describe('the alert webhook (Slack-compatible JSON POST)'),
    alert_webhook_secret: z.string().regex(/^[A-Z][A-Z0-9_]*$/).optional().describe('instead: a secret holding the webhook URL'),
    incident_window: duration.default('7d').describe('the go-live items incidents.none and incidents.reviewed look at the incidents of this span (and every open one)'),
    review_severity: z.number().int().min(1).max(4).default(3).describe('incidents of this severity or worse need a finished post-mortem (incidents.reviewed)'),
    paging_tool: z.string().optional().describe('e.g. PagerDuty, Opsgenie'),
    status_page: z.string().optional().describe('the public status page URL'),
    concurrency: z.number().int().min(1).max(32).default(6).describe('checks run at the same time'),
  })
  .default({ architecture: {}, staging: 'staging', tls_min_days: 14, ci_workflows: ['.github/workflows', '.gitlab-ci.yml'], secret_max_age: '90d', gates_max_age: '24h', rehearsal_max_age: '14d', rto: '5m', rpo: '24h', incident_window: '7d', review_severity: 3, concurrency: 6 })
  .describe('ltc golive check settings');

export type GoliveConfig = z.output<typeof goliveSchema>;
export type DatabaseConfig = z.output<typeof databaseSchema>;
