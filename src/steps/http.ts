/**
 * `http`: one probe with the conditions of `ltc health` (src/health/run.ts probeEndpoints):
 * `http: https://app.example/api/health`, or `{ url, method, headers, body, conditions, timeout,
 * retries, backoff, failure_threshold, insecure, ca }`. A path such as /api/health is joined to the
 * environment's url (--env). Outputs: status, latency_ms, attempts.
 */
import { z } from 'zod';
import { duration, timeoutDuration } from '../config/schema/common.js';
import { CheckFailedError, ConfigError } from '../core/errors.js';
import { conditionProblem } from '../http/conditions.js';
import { defineStep, type StepContext } from '../runbook/step-type.js';

const conditionText = z.string().superRefine((s, c) => {
  if (s.includes('${{')) return;
  const problem = conditionProblem(s);
  if (problem) c.addIssue({ code: 'custom', message: problem });
});

export const endpointSpec = z.strictObject({
  url: z.string().min(1).describe('absolute http(s) URL, or a path joined to the environment url'),
  method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  conditions: z.array(conditionText).min(1).optional().describe('default ["status == 200"]; e.g. body.status == "ok", response_time < 500'),
  timeout: timeoutDuration.optional().describe('per attempt (default 5s)'),
  retries: z.number().int().min(0).optional().describe('extra probe attempts after a failed one (default 0: use the step\'s retries:)'),
  backoff: duration.optional(),
  failure_threshold: z.number().int().min(1).optional(),
  insecure: z.boolean().optional(),
  ca: z.string().optional().describe('PEM file of a CA to trust'),
});

export const httpSpec = z.union([z.string().min(1), endpointSpec]);
export type EndpointSpec = z.output<typeof endpointSpec>;

export function normalizeEndpoint(spec: z.output<typeof httpSpec>): EndpointSpec {
  return typeof spec === 'string' ? { url: spec, method: 'GET' } : spec;
}

/**
 * Before anything runs: an absolute URL must parse as http(s), and a path needs an environment
 * (--env) with a url to join it to. Values known only at run time are checked then.
 */
export async function checkEndpointUrl(url: string, step: StepContext): Promise<void> {
  if (url.includes('${{')) return;
  if (url.startsWith('/')) {
    const { name, env } = await step.ctx.environment();
    if (!env.url) {
      throw new ConfigError(`"${url}" is a path, and environment "${name}" has no url to join it to`, {
        hint: `add url: https://… to environments.${name} in the config, or give an absolute URL`,
      });
    }
    return;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`"${url}" is not a valid URL`, { hint: 'use e.g. https://app.example/api/health, or a path like /api/health with --env' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError(`"${url}" is not an http or https URL`, { hint: 'use e.g. https://app.example/api/health' });
  }
}

/** The environment's url when the endpoint is a path (needs --env). */
export async function baseUrlFor(url: string, step: StepContext): Promise<string | undefined> {
  if (!url.startsWith('/')) return undefined;
  return (await step.ctx.environment()).env.url;
}

export default defineStep({
  name: 'http',
  description: 'probe an HTTP endpoint and check conditions (as ltc health)',
  schema: httpSpec,
  outputs: ['status', 'latency_ms', 'attempts'],
  async preflight(spec, step) {
    await checkEndpointUrl(normalizeEndpoint(spec).url, step);
  },
  plan(spec) {
    const e = normalizeEndpoint(spec);
    return [{ action: e.method, detail: `${e.url} expecting ${(e.conditions ?? ['status == 200']).join(' && ')}`, writes: e.method === 'POST' }];
  },
  async run(spec, step) {
    const e = normalizeEndpoint(spec);
    const { probeEndpoints, failureReason } = await import('../health/run.js');
    const baseUrl = await baseUrlFor(e.url, step);
    const [result] = await probeEndpoints(
      [{ ...e, name: step.stepId, retries: e.retries ?? 0 }],
      {
        ...(baseUrl ? { baseUrl } : {}),
        where: `step "${step.stepId}"`,
        resolvePath: (p) => (p.startsWith('/') ? p : `${step.runbook.dir}/${p}`),
        onAttempt: (a) => step.log(`attempt ${a.attempt}: ${a.status ?? a.error ?? 'no response'}${a.latencyMs !== null ? ` in ${a.latencyMs}ms` : ''}${a.ok ? '' : a.failed ? ` (${a.failed.condition}: ${a.failed.message})` : ''}`),
      },
      step.signal,
    );
    if (!result!.ok) {
      throw new CheckFailedError(`${e.method} ${result!.url}: ${failureReason(result!)}`, {
        hint: `checked ${result!.attempts} time(s); conditions: ${(e.conditions ?? ['status == 200']).join(', ')}`,
      });
    }
    return {
      outputs: { status: result!.status, latency_ms: result!.latencyMs, attempts: result!.attempts },
      summary: `${result!.status} in ${result!.latencyMs}ms`,
    };
  },
});
