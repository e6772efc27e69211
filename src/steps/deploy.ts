/**
 * `deploy`: one phase of a deploy on the environment's target (src/deploy/phases.ts).
 *
 *   - id: resolve
 *     deploy: { phase: resolve, rc: '${{ inputs.rc }}', environment: '${{ inputs.environment }}' }
 *   - id: lock
 *     deploy: { phase: lock, wait: '${{ inputs.lock_wait }}' }
 *   - id: build
 *     deploy: build                      # the phase alone
 *
 * Phases: resolve (check the tag, resolve the commit), lock, confirm (a protected environment:
 * type its name or --yes), skip_gates (audited), fetch (mirror + export into a partial release),
 * build, env (shared/.env from the secret backend; the release is put in place), pre_switch
 * (hooks), restart, health, smoke, log_scan, record (revisions.log + audit, prune, unlock).
 * The switch is the `switch` step; the rollback the `rollback` step. A failure before the switch
 * removes the partial release, records it and releases the lock; after the switch the runbook's
 * on_failure rollback takes over.
 */
import type { z } from 'zod';
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { defineStep, type PlanItem, type StepContext, type StepResult } from '../runbook/step-type.js';
import { DEPLOY_PHASES, type DeployPhase } from './phase-names.js';
import type { deploySpec } from './phase-specs.js';
import { isDuration, oneOf, optionalText, plainCopy } from './quick-parse.js';

export { DEPLOY_PHASES, type DeployPhase };

type Spec = z.output<typeof deploySpec>;

function normalize(s: Spec): { phase: DeployPhase; rc?: string; environment?: string; wait?: string | number } {
  return typeof s === 'string' ? { phase: s } : s;
}

const EXPRESSION = /^\$\{\{.*\}\}$/s;

/** `build`, or `{ phase: lock, wait: 30s }`: what deploySpec gives for these, without zod. */
export function quickDeploySpec(value: unknown): Spec | undefined {
  if (oneOf(value, DEPLOY_PHASES)) return value;
  const v = plainCopy(value, ['phase', 'rc', 'environment', 'wait']);
  if (!v || !oneOf(v.phase, DEPLOY_PHASES) || !optionalText(v.rc) || !optionalText(v.environment)) return undefined;
  if (v.wait !== undefined && !isDuration(v.wait) && !(typeof v.wait === 'string' && EXPRESSION.test(v.wait))) return undefined;
  return v as Spec;
}

export function stepIO(step: StepContext) {
  return {
    ctx: step.ctx,
    runId: step.runId,
    signal: step.signal,
    log: (line: string) => step.log(line),
    warn: (line: string) => {
      step.log(`warning: ${line}`);
      step.ctx.out.warn(line); // Output.warn adds the "warning: " itself
    },
  };
}

/** Runs a phase; records its failure for the rollback step and, before the switch, aborts the deploy cleanly. */
export async function guarded<T>(step: StepContext, phase: string, fn: () => Promise<T>): Promise<T> {
  const { findSession } = await import('../deploy/session.js');
  const started = performance.now();
  try {
    const r = await fn();
    const s = findSession(step.runId);
    if (s) s.phases[phase] = Math.round(performance.now() - started);
    return r;
  } catch (err) {
    const s = findSession(step.runId);
    if (s) {
      const hint = (err as { hint?: unknown }).hint;
      s.lastFailure = { phase, message: err instanceof Error ? err.message : String(err), ...(typeof hint === 'string' ? { hint } : {}) };
      const { PRE_SWITCH, abortBeforeSwitch } = await import('../deploy/phases.js');
      if (!s.switched && (s.action === 'deploy' ? PRE_SWITCH.has(phase) : true) && !['restart', 'health'].includes(phase)) {
        await abortBeforeSwitch(s, phase, err);
      }
    }
    throw err;
  }
}

export default defineStep({
  name: 'deploy',
  description: 'one phase of a deploy on the environment target: resolve, lock, confirm, skip_gates, fetch, build, env, pre_switch, restart, health, smoke, log_scan, record',
  schema: async () => (await import('./phase-specs.js')).deploySpec,
  quickParse: quickDeploySpec,
  outputs: ['commit', 'protected', 'environment', 'release', 'current', 'pid', 'duration_ms', 'build_ms', 'start_ms'],
  async preflight(raw, step) {
    const s = normalize(raw);
    if (s.wait !== undefined && !String(s.wait).includes('${{')) parseDuration(s.wait, 'deploy.wait');
    if (s.phase === 'confirm' && !step.ctx.prompt.interactive && !step.ctx.options.yes) {
      // Without a person to type the name, a protected environment needs --yes before anything runs.
      const loaded = await step.ctx.config();
      const name = typeof step.inputs.environment === 'string' && step.inputs.environment ? step.inputs.environment : undefined;
      const { env, name: envName } = loaded.environment(name ?? step.ctx.options.env ?? step.ctx.env.LTC_ENV);
      if (env.protected) {
        throw new UsageError(`environment ${envName} is protected: a deploy needs its name typed, and there is no terminal (or CI=true)`, {
          hint: 'pass --yes to confirm the deploy to a protected environment',
        });
      }
    }
  },
  async plan(raw, step): Promise<PlanItem[]> {
    const { planDeployPhase } = await import('../deploy/plan.js');
    return planDeployPhase(normalize(raw), step);
  },
  async run(raw, step): Promise<StepResult> {
    const s0 = normalize(raw);
    const io = stepIO(step);
    const P = await import('../deploy/phases.js');
    const { getSession } = await import('../deploy/session.js');
    if (s0.phase === 'resolve') {
      if (!s0.rc) throw new UsageError('deploy: phase resolve needs rc', { hint: "e.g. deploy: { phase: resolve, rc: '${{ inputs.rc }}' }" });
      const s = await guarded(step, 'resolve', () => P.phaseResolve(io, { rc: s0.rc!, ...(s0.environment ? { environment: s0.environment } : {}) }));
      return {
        outputs: { commit: s.commit ?? null, protected: s.env.protected, environment: s.environment, release: s.release ?? null, current: s.before.current ?? null },
        summary: `${s.rc} → ${s.commit?.slice(0, 12)}${s.env.protected ? ' (protected environment)' : ''}`,
      };
    }
    const s = getSession(step.runId, s0.phase);
    switch (s0.phase) {
      case 'lock': {
        await guarded(step, 'lock', () => P.phaseLock(s, io, s0.wait !== undefined ? parseDuration(s0.wait, 'deploy.wait') : 0));
        return { outputs: { current: s.before.current ?? null }, summary: `${s.lock!.file}${s.lock!.tookOver ? ' (stale lock taken over)' : ''}` };
      }
      case 'confirm': {
        const via = await guarded(step, 'confirm', () => P.phaseConfirm(s, io));
        return { summary: via };
      }
      case 'skip_gates':
        await guarded(step, 'skip_gates', () => P.phaseSkipGates(s, io));
        return { summary: 'gates skipped (audited)' };
      case 'fetch': {
        const dir = await guarded(step, 'fetch', () => P.phaseFetch(s, io));
        return { outputs: { release: s.release ?? null }, summary: dir };
      }
      case 'build': {
        const ms = await guarded(step, 'build', () => P.phaseBuild(s, io));
        return { outputs: { build_ms: Math.round(ms) }, summary: `${s.config.build.length} command(s) in ${(ms / 1000).toFixed(1)}s` };
      }
      case 'env': {
        const dir = await guarded(step, 'env', () => P.phaseEnv(s, io));
        return { outputs: { release: s.release ?? null }, summary: dir };
      }
      case 'pre_switch': {
        const ms = await guarded(step, 'pre_switch', () => P.phasePreSwitch(s, io));
        return { summary: s.config.pre_switch.length ? `${s.config.pre_switch.length} hook(s) in ${(ms / 1000).toFixed(1)}s` : 'no hooks configured' };
      }
      case 'restart': {
        const r = await guarded(step, 'restart', () => P.phaseRestart(s, io));
        return { outputs: { pid: r.pid ?? null }, summary: r.pid ? `pid ${r.pid}` : 'service command ran' };
      }
      case 'health': {
        const r = await guarded(step, 'health', () => P.phaseHealth(s, io));
        return { outputs: { start_ms: Math.round(r.ms) }, summary: `healthy ${(r.ms / 1000).toFixed(2)}s after the start` };
      }
      case 'smoke': {
        const n = await guarded(step, 'smoke', () => P.phaseSmoke(s, io));
        return { summary: n ? `${n} smoke test(s) passed` : 'no smoke tests configured' };
      }
      case 'log_scan': {
        const n = await guarded(step, 'log_scan', () => P.phaseLogScan(s, io));
        return { summary: `${n} line(s), nothing matched` };
      }
      case 'record': {
        const r = await guarded(step, 'record', () => P.phaseRecord(s, io));
        return {
          outputs: { release: s.release ?? null, duration_ms: r.durationMs, build_ms: Math.round(s.buildMs), start_ms: s.startMs !== undefined ? Math.round(s.startMs) : null, pid: s.app?.pid ?? null },
          summary: `recorded in ${s.target.paths.revisions}${r.pruned.length ? `; pruned ${r.pruned.length}` : ''}`,
        };
      }
    }
  },
});
