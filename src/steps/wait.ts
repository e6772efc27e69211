/**
 * `wait`: sleep (`wait: 30s`), or poll until a condition holds:
 * `{ until: { http: <endpoint> } | { command: [..] }, interval: 2s, timeout: 5m }`.
 * An http condition is one probe attempt per poll (as the http step); a command holds when it
 * exits 0. Outputs: waited_ms, attempts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { command, duration, timeoutDuration } from '../config/schema/common.js';
import { CheckFailedError, InterruptedError } from '../core/errors.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { displayCommand } from '../exec/command.js';
import { defineStep, type StepContext } from '../runbook/step-type.js';
import { baseUrlFor, checkEndpointUrl, endpointSpec, normalizeEndpoint } from './http.js';

const until = z
  .strictObject({
    http: z.union([z.string().min(1), endpointSpec]).optional().describe('holds when the endpoint passes its conditions'),
    command: command.optional().describe('holds when the command exits 0'),
  })
  .refine((u) => (u.http === undefined) !== (u.command === undefined), { message: 'until needs exactly one of http or command' });

const longForm = z.strictObject({
  duration: duration.optional().describe('sleep this long (without until)'),
  until: until.optional(),
  interval: duration.default('2s').describe('between polls'),
  timeout: timeoutDuration.default('5m').describe('give up after'),
});

export const waitSpec = z.union([duration, longForm]).refine((w) => typeof w !== 'object' || (w.duration === undefined) !== (w.until === undefined), {
  message: 'wait needs either duration or until',
});

type Until = z.output<typeof until>;

/** `leftMs`: what is left of the wait's timeout; a poll that runs longer is ended and fails. */
async function holds(u: Until, step: StepContext, leftMs: number): Promise<{ ok: boolean; reason: string }> {
  if (u.command) {
    const r = await step.exec(u.command, { timeout: Math.max(1, leftMs) });
    if (r.cancelled) throw new InterruptedError('wait stopped');
    if (r.timedOut) return { ok: false, reason: `${displayCommand(u.command)} did not finish within ${formatDuration(leftMs)} (ended)` };
    return { ok: r.exitCode === 0, reason: `${displayCommand(u.command)} exited with ${r.exitCode}` };
  }
  const e = normalizeEndpoint(u.http!);
  const { probeEndpoints, failureReason } = await import('../health/run.js');
  const baseUrl = await baseUrlFor(e.url, step);
  // One probe never outlasts the wait's own timeout.
  const probeTimeout = Math.max(1, Math.min(parseDuration(e.timeout ?? '5s'), leftMs));
  const [r] = await probeEndpoints([{ ...e, timeout: probeTimeout, name: step.stepId, retries: 0 }], { ...(baseUrl ? { baseUrl } : {}), where: `step "${step.stepId}"` }, step.signal);
  return { ok: r!.ok, reason: r!.ok ? `${r!.status}` : failureReason(r!) };
}

export default defineStep({
  name: 'wait',
  description: 'sleep, or poll until an http or command condition holds (with a timeout)',
  schema: waitSpec,
  outputs: ['waited_ms', 'attempts'],
  async preflight(spec, step) {
    if (typeof spec === 'object' && spec.until?.http !== undefined) await checkEndpointUrl(normalizeEndpoint(spec.until.http).url, step);
  },
  plan(spec) {
    if (typeof spec !== 'object') return [{ action: 'wait', detail: `sleep ${formatDuration(parseDuration(spec))}`, writes: false }];
    if (spec.duration !== undefined) return [{ action: 'wait', detail: `sleep ${formatDuration(parseDuration(spec.duration))}`, writes: false }];
    const what = spec.until!.command ? `${displayCommand(spec.until!.command)} exits 0` : `${normalizeEndpoint(spec.until!.http!).url} answers`;
    return [{ action: 'wait', detail: `until ${what} (every ${formatDuration(parseDuration(spec.interval))}, at most ${formatDuration(parseDuration(spec.timeout))})`, writes: false }];
  },
  async run(spec, step) {
    const started = Date.now();
    const nap = async (ms: number) => {
      try {
        await sleep(ms, undefined, { signal: step.signal });
      } catch {
        throw new InterruptedError('wait stopped');
      }
    };
    if (typeof spec !== 'object' || spec.duration !== undefined) {
      await nap(parseDuration(typeof spec === 'object' ? spec.duration! : spec));
      return { outputs: { waited_ms: Date.now() - started, attempts: 0 } };
    }
    const timeoutMs = parseDuration(spec.timeout);
    const intervalMs = parseDuration(spec.interval);
    for (let attempt = 1; ; attempt++) {
      const r = await holds(spec.until!, step, timeoutMs - (Date.now() - started));
      step.log(`poll ${attempt}: ${r.ok ? 'holds' : r.reason}`);
      const waited = Date.now() - started;
      if (r.ok) return { outputs: { waited_ms: waited, attempts: attempt }, summary: `after ${formatDuration(waited)}` };
      if (waited + intervalMs > timeoutMs) {
        throw new CheckFailedError(`still not ready after ${formatDuration(waited)}: ${r.reason}`, { hint: `polled ${attempt} time${attempt === 1 ? '' : 's'}; raise timeout: (now ${formatDuration(timeoutMs)}) or check the target` });
      }
      await nap(intervalMs);
    }
  },
});
