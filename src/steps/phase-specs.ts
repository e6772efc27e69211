/**
 * The zod schemas of the deploy and rollback phase steps (`deploy`, `switch`, `rollback`), in a
 * module of their own: a deploy or a rollback whose step values have their usual shapes
 * (quickParse in each step's module) never loads zod. Validating a runbook and the generated
 * JSON Schema and docs use these.
 */
import { z } from 'zod';
import { duration } from '../config/schema/common.js';
import { DEPLOY_PHASES, ROLLBACK_PHASES } from './phase-names.js';

export const deploySpec = z.union([
  z.enum(DEPLOY_PHASES),
  z.strictObject({
    phase: z.enum(DEPLOY_PHASES).describe('which phase of the deploy this step runs'),
    rc: z.string().min(1).optional().describe('resolve: the release candidate tag (must match app.tag_pattern and exist)'),
    environment: z.string().min(1).optional().describe('resolve: the environment (default --env)'),
    wait: z
      .union([duration, z.string().regex(/^\$\{\{.*\}\}$/s, { message: 'expected a duration such as 0s, 30s, 5m (or an expression)' })])
      .optional()
      .describe('lock: how long to wait for another deploy or rollback, e.g. 5m (default 0: exit 5 at once)'),
  }),
]);

export const switchSpec = z
  .strictObject({
    release: z.string().min(1).optional().describe('release folder name (default: the one this deploy made or this rollback chose)'),
  })
  .describe('switch current to a release');

export const rollbackSpec = z.union([
  z.enum(ROLLBACK_PHASES),
  z.strictObject({
    phase: z.enum(ROLLBACK_PHASES).describe('start/choose (ltc rollback), undo (after a failed deploy), failed (a rollback failed)'),
    to: z.string().optional().describe('start: a release folder name or an rc tag (default: the previous release); empty = previous'),
    environment: z.string().min(1).optional().describe('start: the environment (default --env)'),
  }),
]);
