import { z } from 'zod';
import { command, duration, envVars, regexString } from './common.js';

export const localTargetSchema = z
  .strictObject({
    type: z.literal('local').describe('deploy on the machine ltc runs on'),
    deploy_root: z
      .string()
      .min(1)
      .describe('holds releases/, current, previous, shared/.env, shared/logs/app.log, revisions.log and the lock (relative to the config file)'),
    build: z
      .array(command)
      .default([['npm', 'ci'], ['npm', 'run', 'build']])
      .describe('commands run in the new release before it is put in place (e.g. npm ci, npm run build); they get `env`, not the secrets'),
    pre_switch: z
      .array(command)
      .default([])
      .describe('hooks run in the new release before the switch, e.g. migrations; they get `env` and the secrets'),
    start: command
      .optional()
      .describe("start command, run from <deploy_root>/current under ltc's supervisor (detached, pid file, log file), e.g. [node, server.mjs]"),
    service: command
      .optional()
      .describe('instead of start: a command that restarts the app as a service, e.g. [systemctl, restart, ltc-api]'),
    log_file: z
      .string()
      .optional()
      .describe('the app log to scan after a switch (default <deploy_root>/shared/logs/app.log, where `start` writes)'),
    env: envVars.default({}).describe('environment for build, hooks, start and smoke tests (not secrets: those come from the secret backend)'),
    stop_grace: duration.default('10s').describe('stop = SIGTERM to the process group, then SIGKILL after this'),
    health_deadline: duration
      .default('60s')
      .describe('how long the health checks may take to turn green after a start (retried until then)'),
    health_failures: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('an app that answers (HTTP) but fails its health conditions this many rounds in a row fails the health phase at once (no wait for health_deadline); connection refused and timeouts count as "not up yet"'),
    command_timeout: duration.default('15m').describe('each build, hook and smoke command is ended after this'),
    smoke: z.array(command).default([]).describe('smoke tests run in the release after health is green (LTC_URL is set to the environment url)'),
    log_scan: z
      .array(regexString)
      .default(['\\b5\\d\\d\\b', '\\bERROR\\b'])
      .describe('regular expressions that must not match the app log written since the start (5xx statuses and ERROR lines)'),
    keep_releases: z.number().int().min(2).default(5).describe('newest releases kept; the current and previous ones are never removed'),
  })
  .superRefine((t, ctx) => {
    if (t.start && t.service) {
      ctx.addIssue({ code: 'custom', path: ['service'], message: 'give either start (ltc supervises the app) or service (a service manager does), not both' });
    }
  })
  .describe('the local target');

export const targetSchema = z.discriminatedUnion('type', [localTargetSchema]);

export type LocalTargetConfig = z.output<typeof localTargetSchema>;
export type TargetConfig = z.output<typeof targetSchema>;
