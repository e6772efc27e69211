import { z } from 'zod';
import { duration } from './common.js';

export const endpointSchema = z
  .strictObject({
    name: z.string().min(1).describe('name shown in reports, e.g. api or frontend'),
    url: z
      .string()
      .min(1)
      .describe('absolute URL, or a path (e.g. /api/health) relative to the environment url'),
    method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
    headers: z.record(z.string(), z.string()).optional(),
    conditions: z
      .array(z.string())
      .default(['status == 200'])
      .describe('Gatus-style conditions: status == 200, response_time < 500, body.status == "ok", body contains "x", certificate_expiration > 14d'),
    timeout: duration.optional(),
    retries: z.number().int().min(0).optional(),
    backoff: duration.optional(),
    failure_threshold: z.number().int().min(1).optional(),
  })
  .describe('one HTTP endpoint to probe');

export const healthSchema = z
  .strictObject({
    timeout: duration.default('5s').describe('per-attempt timeout'),
    retries: z.number().int().min(0).default(2).describe('extra attempts after a failed probe'),
    backoff: duration.default('250ms').describe('delay before the first retry; doubles each retry'),
    failure_threshold: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('consecutive failed attempts that mark an endpoint down (default: all attempts)'),
    endpoints: z.array(endpointSchema).default([]),
  })
  .describe('health endpoints and their conditions');

export type EndpointConfig = z.output<typeof endpointSchema>;
export type HealthConfig = z.output<typeof healthSchema>;
