import { z } from 'zod';
import { boundedDuration, command, envVars } from './common.js';

export const gateSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, { message: 'expected a short name such as build or e2e' }),
    run: command,
    shell: z.enum(['bash', 'pwsh']).optional().describe('run `run` through this shell (only when asked)'),
    cwd: z.string().optional().describe('relative to the checked-out work tree'),
    timeout: boundedDuration(1000, undefined, 'a gate timeout').default('15m').describe('the gate and its child processes are ended after this (default 15m)'),
    parallel: z.boolean().default(false).describe('runs together with the neighbouring gates marked parallel, at most one per CPU'),
    required: z.boolean().default(true).describe('a failure fails `ltc gates run` (exit 1); otherwise it is only reported'),
    env: envVars.optional(),
  })
  .describe('a gate that must pass before a release candidate goes live');

export type GateConfig = z.output<typeof gateSchema>;
