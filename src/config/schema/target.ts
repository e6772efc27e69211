import { z } from 'zod';
import { command, duration, envVars } from './common.js';

export const localTargetSchema = z
  .strictObject({
    type: z.literal('local').describe('deploy on the machine ltc runs on'),
    deploy_root: z.string().min(1).describe('holds releases/, current, shared/.env, revisions.log and the lock'),
    build: z.array(command).default([['npm', 'ci'], ['npm', 'run', 'build']]).describe('commands run in the new release'),
    pre_switch: z.array(command).default([]).describe('hooks run before the switch, e.g. migrations'),
    start: command.optional().describe("start command, run under ltc's supervisor from <deploy_root>/current"),
    service: command.optional().describe('instead of start: a service command such as ["systemctl","restart","ltc-api"]'),
    env: envVars.default({}).describe('extra environment for build and start (not secrets)'),
    stop_grace: duration.default('10s').describe('SIGTERM, then SIGKILL after this'),
    health_deadline: duration.default('60s').describe('how long health checks may take to turn green after a start'),
    smoke: z.array(command).default([]).describe('smoke tests run after health is green'),
    log_scan: z
      .array(z.string())
      .default(['\\b5\\d\\d\\b', '\\bERROR\\b'])
      .describe('regular expressions that must not match the app log after the switch'),
    keep_releases: z.number().int().min(2).default(5),
  })
  .describe('the local target');

export const targetSchema = z.discriminatedUnion('type', [localTargetSchema]);

export type LocalTargetConfig = z.output<typeof localTargetSchema>;
export type TargetConfig = z.output<typeof targetSchema>;
