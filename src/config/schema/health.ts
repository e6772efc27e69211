import { z } from 'zod';
import { conditionProblem } from '../../http/conditions.js';
import { boundedDuration } from './common.js';

const timeout = boundedDuration(1, 3_600_000, 'a timeout');
const backoff = boundedDuration(0, 3_600_000, 'a backoff');

/** HTTP header names are tokens; values carry no line breaks. */
const headers = z.record(
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { message: 'expected an HTTP header name (letters, digits, -)' }),
  z.string().regex(/^[^\r\n\0]*$/, { message: 'a header value cannot contain line breaks' }),
);

/** One Gatus-style condition, checked when the config is read (so a typo is a config error). */
export const conditionSchema = z.string().superRefine((value, ctx) => {
  const problem = conditionProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** An absolute http(s) URL. */
export const httpUrlSchema = z.string().refine(isHttpUrl, { message: 'expected an http(s) URL such as https://lifetimecircle.example' });

/** An absolute http(s) URL or a path starting with / (relative to the environment's url). */
export const endpointUrlSchema = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    if (value.startsWith('/')) return;
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(value).protocol);
    } catch {
      ok = false;
    }
    if (!ok) ctx.addIssue({ code: 'custom', message: `"${value}" is neither an http(s) URL nor a path starting with /` });
  });

export const endpointSchema = z
  .strictObject({
    name: z.string().min(1).describe('name shown in reports, e.g. api or frontend'),
    url: endpointUrlSchema.describe('absolute URL, or a path (e.g. /api/health) relative to the environment url'),
    method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
    headers: headers.optional(),
    body: z.string().optional().describe('request body (for POST)'),
    conditions: z
      .array(conditionSchema)
      .min(1, { message: 'expected at least one condition, e.g. "status == 200" (leave the key out for that default)' })
      .default(['status == 200'])
      .describe('Gatus-style conditions: status == 200, response_time < 500, body.status == "ok", body contains "x", certificate_expiration > 14d'),
    timeout: timeout.optional(),
    retries: z.number().int().min(0).optional(),
    backoff: backoff.optional(),
    failure_threshold: z.number().int().min(1).optional(),
    insecure: z
      .boolean()
      .default(false)
      .describe('accept any TLS certificate (self-signed, other host); certificate_expiration is still read'),
    ca: z.string().min(1).optional().describe('PEM file of a CA (or the self-signed certificate) to trust, relative to the config file'),
  })
  .describe('one HTTP endpoint to probe');

export const healthSchema = z
  .strictObject({
    timeout: timeout.default('5s').describe('per-attempt timeout'),
    retries: z.number().int().min(0).default(2).describe('extra attempts after a failed probe'),
    backoff: backoff.default('250ms').describe('delay before the first retry; doubles each retry'),
    failure_threshold: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('consecutive failed attempts that mark an endpoint down (default: all attempts)'),
    endpoints: z
      .array(endpointSchema)
      .default([])
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((e, i) => {
          if (seen.has(e.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `endpoint name "${e.name}" is used twice` });
          seen.add(e.name);
        });
      }),
  })
  .describe('health endpoints and their conditions');

export type EndpointConfig = z.output<typeof endpointSchema>;
export type HealthConfig = z.output<typeof healthSchema>;
