/**
 * `ltc restart --env <env>`, and the app step of a secret rotation: under the environment's lock,
 * render shared/.env from the secret backend again (a rotation passes the value it puts in place),
 * restart the current release and health-check it; recorded in revisions.log and the audit log.
 * When the health check fails, the env file as it was is written back and the app restarted with
 * it (exit 3, or exit 4 when that fails too) — unless the caller undoes it itself (a rotation).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { CheckFailedError, InterruptedError, LtcError, RollbackFailedError, RolledBackError, UsageError, toLtcError } from '../core/errors.js';
import { openSession, phaseLock, phaseRestart, secretValues, type StepIO } from './phases.js';
import { recordOutcome } from './record.js';
import type { DeploySession } from './session.js';
import { waitHealthy } from './verify.js';

export interface RestartOptions {
  environment?: string;
  /** Values that replace the backend's current ones in shared/.env (a rotation's pending value). */
  overrides?: Record<string, string>;
  /** Why (recorded): e.g. "rotation of LTC_SECRET_KEY (pending version 3)". */
  reason?: string;
  lockWaitMs?: number;
  /** On a failed health check: write the old env file back and restart again (default true). */
  undo?: boolean;
  log?: (line: string) => void;
}

export interface RestartResult {
  environment: string;
  release: string;
  pid?: number;
  envFile: string;
  secrets: string[];
  startMs: number;
  durationMs: number;
}

const changedNothing = new WeakSet<object>();

/** The restart failed before it wrote the env file or stopped anything (e.g. locked): nothing to undo. */
export function restartChangedNothing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && changedNothing.has(err);
}

function ioFor(ctx: Context, log?: (line: string) => void): StepIO {
  return { ctx, runId: `restart-${randomUUID()}`, signal: ctx.signal, log: log ?? ((l) => ctx.out.detail(l)), warn: (l) => ctx.out.warn(l) };
}

async function startAndCheck(s: DeploySession, io: StepIO): Promise<number> {
  await phaseRestart(s, io);
  const h = await waitHealthy(s, s.app, io);
  s.startMs = h.ms;
  return h.ms;
}

export async function restartApp(ctx: Context, opts: RestartOptions = {}): Promise<RestartResult> {
  const io = ioFor(ctx, opts.log);
  let s: DeploySession;
  try {
    s = await openSession(io, 'restart', opts.environment);
    await phaseLock(s, io, opts.lockWaitMs ?? 0);
  } catch (err) {
    if (typeof err === 'object' && err !== null) changedNothing.add(err);
    throw err;
  }
  let envBefore: Map<string, string> | undefined;
  let rendered = false;
  let phase = 'env';
  try {
    const current = await s.target.readCurrent();
    if (!current) {
      throw new UsageError(`nothing is deployed to ${s.environment}: ${s.target.paths.current} points at no release`, {
        hint: `deploy one first: ltc deploy --rc <tag> --env ${s.environment}`,
      });
    }
    s.release = current;
    const { readMeta } = await import('../targets/local/releases.js');
    const meta = await readMeta(join(s.target.paths.releases, current));
    if (meta?.rc) s.rc = meta.rc;
    if (meta?.commit) s.commit = meta.commit;
    envBefore = await s.target.readEnv().catch(() => new Map<string, string>());
    for (const v of envBefore.values()) ctx.masker.add(v);
    const values = await secretValues(s, io);
    for (const [k, v] of Object.entries(opts.overrides ?? {})) {
      ctx.masker.add(v);
      values.set(k, v);
    }
    const envFile = await s.target.renderEnv(values);
    rendered = true;
    io.log(`wrote ${values.size} secret(s) (${[...values.keys()].join(', ') || 'none'}) into ${envFile} (mode 0600)${opts.reason ? ` for ${opts.reason}` : ''}`);
    phase = 'restart';
    await phaseRestart(s, io);
    phase = 'health';
    const h = await waitHealthy(s, s.app, io);
    s.startMs = h.ms;
    await recordOutcome(s, 'ok', { from: current });
    return {
      environment: s.environment,
      release: current,
      ...(s.app?.pid !== undefined ? { pid: s.app.pid } : {}),
      envFile,
      secrets: [...values.keys()],
      startMs: h.ms,
      durationMs: performance.now() - s.t0,
    };
  } catch (raw) {
    const err = toLtcError(raw);
    if (s.recorded) throw raw;
    if (raw instanceof InterruptedError || err.exitCode === 2 || !rendered || opts.undo === false) {
      const nothing = !rendered;
      if (nothing && typeof raw === 'object' && raw !== null) changedNothing.add(raw);
      if (!nothing || err.exitCode !== 2) {
        await recordOutcome(s, raw instanceof InterruptedError ? 'interrupted' : 'failed', { failedPhase: phase, error: err.message }).catch(() => undefined);
      }
      throw raw;
    }
    // The restart with the new env file failed: put the old one back and start the app with it.
    io.warn(`restart of ${s.environment} failed at ${phase}: ${err.message}; writing the env file back as it was and restarting`);
    try {
      await s.target.renderEnv(envBefore ?? new Map());
      await startAndCheck(s, io);
    } catch (undoRaw) {
      const undo = toLtcError(undoRaw);
      await recordOutcome(s, 'rollback_failed', { failedPhase: phase, error: `${err.message}; restoring: ${undo.message}` }).catch(() => undefined);
      throw new RollbackFailedError(`restart of ${s.environment} failed at ${phase} (${ctx.masker.mask(err.message)}), and restarting with the env file as it was failed too: ${ctx.masker.mask(undo.message)}`, {
        hint: `${undo.hint ? `${ctx.masker.mask(undo.hint)}\n` : ''}the app log: ${s.target.paths.logFile}; then: ltc releases --env ${s.environment}; ltc rollback --env ${s.environment}`,
      });
    }
    await recordOutcome(s, 'rolled_back', { failedPhase: phase, error: err.message, rolledBackTo: s.release ?? null }).catch(() => undefined);
    throw new RolledBackError(`restart of ${s.environment} failed at ${phase}: ${ctx.masker.mask(err.message)}; the env file as it was is back and the app answers healthy with it`, {
      ...(err.hint ? { hint: ctx.masker.mask(err.hint) } : {}),
    });
  } finally {
    await s.lock?.release().catch(() => undefined);
  }
}

export interface RestartCliOptions {
  lockWait?: string;
}

/** `ltc restart --env <env>`. */
export async function restartCommand(opts: RestartCliOptions, ctx: Context): Promise<CommandResult> {
  const lockWaitMs = opts.lockWait === undefined ? 0 : parseDuration(opts.lockWait, '--lock-wait');
  const { name, loaded } = await ctx.environment();
  const env = loaded.config.environments[name];
  if (!env?.target) {
    const { ConfigError } = await import('../core/errors.js');
    throw new ConfigError(`environment "${name}" has no target in ${loaded.file}`, { hint: `add environments.${name}.target (type: local, deploy_root, start)` });
  }
  if (ctx.options.dryRun) {
    const { openTarget } = await import('../targets/index.js');
    const target = openTarget(name, env, loaded);
    const current = await target.readCurrent();
    return {
      data: { environment: name, dryRun: true, release: current ?? null },
      text: current
        ? `would lock ${name}, write ${target.paths.envFile} (mode 0600) from the ${env.secrets?.backend ?? 'no'} secret backend, restart releases/${current} and health-check it; nothing was changed`
        : `nothing is deployed to ${name}: nothing to restart`,
    };
  }
  try {
    const r = await restartApp(ctx, { environment: name, lockWaitMs, reason: 'ltc restart' });
    return {
      data: { environment: name, release: r.release, pid: r.pid ?? null, envFile: r.envFile, secrets: r.secrets, startMs: Math.round(r.startMs), durationMs: Math.round(r.durationMs) },
      text: [
        ctx.out.c.green(`restarted ${name} in ${formatDuration(r.durationMs)}: releases/${r.release}${r.pid ? ` (pid ${r.pid}, healthy)` : ' (healthy)'}`),
        `  env file : ${r.envFile} (${r.secrets.length} secret(s) from the backend: ${r.secrets.join(', ') || 'none'})`,
      ].join('\n'),
    };
  } catch (err) {
    if (err instanceof LtcError) throw err;
    throw new CheckFailedError(`restart of ${name} failed: ${(err as Error).message}`);
  }
}
