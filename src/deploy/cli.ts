/**
 * `ltc deploy`, `ltc rollback`, `ltc releases`, `ltc lock status|release`: thin wrappers. deploy
 * and rollback run the shipped (or the ops repo's) runbooks/deploy.yaml and rollback.yaml.
 */
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { join } from 'node:path';
import { formatDuration, parseDuration } from '../core/duration.js';
import { ConfigError, LtcError, UsageError, toLtcError } from '../core/errors.js';
import type { RunSummary } from '../runbook/api.js';
import type { DeploySession } from './session.js';
import { refuseHostFilters } from './host-filters.js';

export interface DeployCliOptions {
  rc?: string;
  skipGates?: boolean;
  lockWait?: string;
  /** ssh targets: only these hosts (comma-separated names). */
  hosts?: string;
  /** ssh targets: only hosts with one of these roles (comma-separated). */
  roles?: string;
  /** `--incident <id>` / `--no-incident`: where an automatic rollback (exit 3) goes (src/incident/handoff.ts). */
  incident?: string | false;
}

export interface RollbackCliOptions {
  to?: string;
  lockWait?: string;
  hosts?: string;
  roles?: string;
  /** `--incident <id>` / `--no-incident` (src/incident/handoff.ts). */
  incident?: string | false;
}

function lockWaitOf(value: string | undefined): string {
  if (value === undefined) return '0s';
  const ms = parseDuration(value, '--lock-wait');
  return `${ms}ms`;
}

/** What is done when a run ends with an error nobody recorded: record it and release the lock. */
async function backstop(err: unknown, failedStep?: string): Promise<void> {
  const { latestSession } = await import('./session.js');
  const s = latestSession();
  if (!s) return;
  if (!s.recorded && s.lock) {
    const e = toLtcError(err);
    const { recordOutcome } = await import('./record.js');
    if (s.staged) await s.target.discardRelease(s.staged).catch(() => undefined);
    if (e.exitCode !== 2) {
      // A step of another type failed (e.g. the gates): name it; a release that was never made is not named.
      await recordOutcome(s, e.exitCode === 130 ? 'interrupted' : 'failed', {
        failedPhase: s.lastFailure?.phase ?? failedStep ?? 'runbook',
        error: e.message,
        ...(s.finalized || s.switched ? {} : { release: null }),
      }).catch(() => undefined);
    }
  }
  await s.lock?.release().catch(() => undefined);
  const { releaseAllHeld } = await import('../targets/local/lock.js');
  await releaseAllHeld();
}

/** A deploy or rollback is not resumed (start a new one): replace the engine's resume hint. */
function withoutResumeHint(err: unknown, again: string, s?: DeploySession): unknown {
  const e = toLtcError(err);
  if (!e.hint?.includes('runbook resume')) return err;
  // A rollback interrupted after its switch: current already is the release it was going to.
  const hint =
    s?.action === 'rollback' && s.switched && s.release
      ? `current → releases/${s.release} (switched before the interrupt; its health was not confirmed). ` +
        `Finish it: \`${again}\`${s.before.current && s.before.current !== s.release ? `; or go back: \`ltc rollback --env ${s.environment} --to ${s.before.current}\`` : ''}`
      : `nothing is left half-done: run \`${again}\` again when ready`;
  return new LtcError(e.code, e.exitCode, e.message, { hint, ...(e.details ? { details: e.details } : {}) });
}

/** Gates not green for a protected environment: say how to go on without them (audited). */
function withSkipGatesHint(err: unknown, failedStep: string | undefined): unknown {
  const e = toLtcError(err);
  if (failedStep !== 'gates' || e.exitCode !== 1) return err;
  const hint = `${e.hint ? `${e.hint}\n` : ''}or deploy without them (recorded in the audit log): add --skip-gates`;
  return new LtcError(e.code, e.exitCode, e.message, { hint, ...(e.details ? { details: e.details } : {}) });
}

function failureResult(raw: unknown, summary: RunSummary | undefined, ctx: Context, again: string, s?: DeploySession): CommandResult {
  const err = withoutResumeHint(raw, again, s);
  const e = toLtcError(err);
  if (!ctx.options.json || !summary) throw err;
  return {
    data: { runId: summary.runId, journal: summary.journal ?? null, failedStep: summary.failedStep ?? null, error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), ...(e.details ?? {}) } },
    exitCode: e.exitCode,
  };
}

/** --dry-run: the plan, and which release would become current. */
async function planResult(plan: NonNullable<RunSummary['plan']>, formatPlan: (p: NonNullable<RunSummary['plan']>, c: Context['out']['c']) => string, ctx: Context): Promise<CommandResult> {
  const { plannedFacts } = await import('./plan.js');
  const f = plannedFacts();
  const line = f?.release ? `\nwould make releases/${f.release} current in ${f.target.root} (now ${f.current ? `releases/${f.current}` : 'none'}); nothing was changed` : '';
  return { data: { plan, ...(f?.release ? { release: f.release, current: f.current ?? null } : {}) }, text: formatPlan(plan, ctx.out.c) + line };
}

/**
 * Runs runbooks/<name>.yaml: a failure is recorded (if nobody did), the lock released and the
 * error rendered; --dry-run gives the plan; else the summary and the session of the run.
 */
async function runShipped(
  name: 'deploy' | 'rollback',
  inputs: Record<string, string | boolean>,
  ctx: Context,
  again: string,
): Promise<CommandResult | { summary: RunSummary; session: DeploySession | undefined }> {
  const { runRunbook, summaryOf, formatPlan } = await import('../runbook/api.js');
  const { latestSession, resetLatest } = await import('./session.js');
  resetLatest();
  let summary: RunSummary;
  try {
    summary = await runRunbook(name, inputs, ctx);
  } catch (err) {
    const failedStep = summaryOf(err)?.failedStep;
    await backstop(err, failedStep);
    return failureResult(name === 'deploy' ? withSkipGatesHint(err, failedStep) : err, summaryOf(err), ctx, again, latestSession());
  }
  if (summary.plan) return planResult(summary.plan, formatPlan, ctx);
  const session = latestSession();
  await backstop(undefined);
  return { summary, session };
}

function overheadOf(s: DeploySession, totalMs: number): number {
  return Math.max(0, totalMs - s.buildMs - (s.startMs ?? 0) - (s.phases.pre_switch ?? 0) - (s.phases.smoke ?? 0));
}

export async function deployCommand(opts: DeployCliOptions, ctx: Context): Promise<CommandResult> {
  const t0 = performance.now();
  if (opts.rc !== undefined && !opts.rc.trim()) throw new UsageError('--rc was given an empty value', { hint: 'name the release candidate tag, e.g. ltc deploy --rc rc-2026-03-01 --env staging' });
  if (!opts.rc) throw new UsageError('--rc is required', { hint: 'e.g. ltc deploy --rc rc-2026-03-01 --env staging' });
  // The cheap checks first: nothing (not even git) runs for an --rc that could be read as an option or a path.
  const { checkRefSyntax } = await import('../git/refs.js');
  checkRefSyntax(opts.rc, '--rc');
  const { name, loaded } = await ctx.environment();
  const { userRegex } = await import('../core/user-regex.js');
  const pattern = userRegex(loaded.config.app.tag_pattern, 'app.tag_pattern');
  if (!pattern.test(opts.rc)) {
    throw new UsageError(`--rc ${JSON.stringify(opts.rc)} does not match the tag pattern ${pattern.source} (app.tag_pattern)`, {
      hint: 'release candidate tags look like rc-2026-03-01 (or rc-2026-03-01.1 for a hotfix)',
    });
  }
  const lockWait = lockWaitOf(opts.lockWait);
  const envConfig = loaded.config.environments[name];
  if (!envConfig?.target) {
    throw new ConfigError(`environment "${name}" has no target in ${loaded.file}`, { hint: `add environments.${name}.target (type: local, deploy_root, start)` });
  }
  if (envConfig.protected && !ctx.options.yes && !ctx.options.dryRun && !ctx.prompt.interactive) {
    throw new UsageError(`environment ${name} is protected: a deploy to it needs its name typed at a terminal, and there is none (or CI=true)`, {
      hint: `pass --yes to confirm: ltc deploy --rc ${opts.rc} --env ${name} --yes`,
    });
  }
  const handoff = await import('../incident/handoff.js');
  await handoff.checkIncidentChoice(opts.incident, ctx);
  if (envConfig.target.type === 'ssh') return (await import('../fleet/fleet.js')).fleetDeploy(ctx, opts.rc, opts.hosts, opts.roles);
  refuseHostFilters('deploy', name, opts);
  let ran: Awaited<ReturnType<typeof runShipped>>;
  try {
    ran = await runShipped('deploy', { rc: opts.rc, environment: name, skip_gates: Boolean(opts.skipGates), lock_wait: lockWait }, ctx, `ltc deploy --rc ${opts.rc} --env ${name}`);
  } catch (err) {
    throw await afterAutomaticRollback(err, opts, name, ctx);
  }
  if (!('summary' in ran)) {
    // --json: the failure is a result; an automatic rollback (exit 3) still goes to the incident.
    if (ran.exitCode === 3 && ran.data) {
      const error = (ran.data as { error?: Record<string, unknown> }).error ?? {};
      const h = await handoff.rollbackHandoff(opts.incident, rolledBackFacts(error, opts.rc, name), ctx);
      return { ...ran, data: { ...ran.data, incident: h.incident } };
    }
    return ran;
  }
  const { summary, session: s } = ran;
  const totalMs = performance.now() - t0;
  const data = {
    environment: name,
    rc: opts.rc,
    commit: s?.commit ?? null,
    release: s?.release ?? null,
    previous: s?.previousSet ?? null,
    pid: s?.app?.pid ?? null,
    durationMs: Math.round(totalMs),
    buildMs: s ? Math.round(s.buildMs) : null,
    startMs: s?.startMs !== undefined ? Math.round(s.startMs) : null,
    overheadMs: s ? Math.round(overheadOf(s, totalMs)) : null,
    phases: s?.phases ?? {},
    pruned: s?.pruned ?? [],
    runId: summary.runId,
    journal: summary.journal ?? null,
  };
  const text = [
    ctx.out.c.green(`deployed ${opts.rc} (${s?.commit?.slice(0, 12)}) to ${name} in ${formatDuration(totalMs)}`),
    `  current  → releases/${s?.release}${s?.app?.pid ? ` (pid ${s.app.pid}, healthy)` : ''}`,
    `  previous → ${s?.previousSet ? `releases/${s.previousSet}` : '(none)'}`,
    ctx.out.c.dim(`  build ${formatDuration(s?.buildMs ?? 0)}, start until healthy ${formatDuration(s?.startMs ?? 0)}, ltc ${formatDuration(data.overheadMs ?? 0)}; journal ${summary.journal}`),
  ].join('\n');
  return { data, text };
}

/** What an automatic rollback's RolledBackError details say (src/deploy/rollback.ts phaseUndo). */
function rolledBackFacts(details: Record<string, unknown> | undefined, rc: string, environment: string): import('../incident/handoff.js').RollbackFacts {
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    environment,
    from: str(details?.failedRelease),
    release: str(details?.rolledBackTo),
    durationMs: typeof details?.rollbackMs === 'number' ? details.rollbackMs : 0,
    failedRc: rc,
  };
}

/**
 * A deploy that rolled itself back (exit 3) hands the rollback to the incident like `ltc
 * rollback` does; the lines it says join the error's hint (shown after the error). Any other
 * error, and the exit code, are left as they are.
 */
async function afterAutomaticRollback(err: unknown, opts: DeployCliOptions, environment: string, ctx: Context): Promise<unknown> {
  const e = toLtcError(err);
  if (e.exitCode !== 3 || !opts.rc) return err;
  const lines: string[] = [];
  const { rollbackHandoff } = await import('../incident/handoff.js');
  const h = await rollbackHandoff(opts.incident, rolledBackFacts(e.details, opts.rc, environment), ctx, (l) => lines.push(l.replace(/^hint: /, '')));
  if (!lines.length) return err;
  return new LtcError(e.code, e.exitCode, e.message, {
    hint: [e.hint, ...lines].filter(Boolean).join('\n'),
    details: { ...(e.details ?? {}), incident: h.incident },
    cause: err,
  });
}

export async function rollbackCommand(opts: RollbackCliOptions, ctx: Context): Promise<CommandResult> {
  const t0 = performance.now();
  if (opts.to !== undefined) {
    const { checkTo } = await import('./rollback.js');
    checkTo(opts.to);
  }
  const lockWait = lockWaitOf(opts.lockWait);
  const { name, loaded } = await ctx.environment();
  if (!loaded.config.environments[name]?.target) {
    throw new ConfigError(`environment "${name}" has no target in ${loaded.file}`, { hint: `add environments.${name}.target (type: local, deploy_root, start)` });
  }
  const handoff = await import('../incident/handoff.js');
  await handoff.checkIncidentChoice(opts.incident, ctx);
  if (loaded.config.environments[name]?.target?.type === 'ssh') return (await import('../fleet/fleet.js')).fleetRollback(ctx, opts.to, opts.hosts, opts.roles);
  refuseHostFilters('rollback', name, opts);
  const ran = await runShipped('rollback', { environment: name, to: opts.to ?? '', lock_wait: lockWait }, ctx, `ltc rollback --env ${name}${opts.to ? ` --to ${opts.to}` : ''}`);
  if (!('summary' in ran)) return ran;
  const { summary, session: s } = ran;
  const totalMs = performance.now() - t0;
  const data = {
    environment: name,
    release: s?.release ?? null,
    from: s?.before.current ?? null,
    rc: s?.rc ?? null,
    commit: s?.commit ?? null,
    pid: s?.app?.pid ?? null,
    durationMs: Math.round(totalMs),
    startMs: s?.startMs !== undefined ? Math.round(s.startMs) : null,
    runId: summary.runId,
    journal: summary.journal ?? null,
    incident: (await handoff.rollbackHandoff(opts.incident, { environment: name, from: s?.before.current ?? null, release: s?.release ?? null, durationMs: totalMs }, ctx)).incident,
  };
  const text = [
    ctx.out.c.green(`rolled back ${name} to releases/${s?.release} in ${formatDuration(totalMs)} (healthy${s?.app?.pid ? `, pid ${s.app.pid}` : ''})`),
    s?.before.current && s.before.current === s.release
      ? `  was      : releases/${s.release} already (an interrupted rollback or deploy left current there): restarted and health-checked`
      : `  was      : ${s?.before.current ? `releases/${s.before.current}` : '(none)'}`,
  ].join('\n');
  return { data, text };
}

export async function releasesCommand(ctx: Context, hosts?: string): Promise<CommandResult> {
  const { name, env, loaded } = await ctx.environment();
  if (env.target?.type === 'ssh') return (await import('../fleet/status.js')).fleetReleases(ctx, hosts);
  refuseHostFilters('releases', name, { hosts });
  return (await import('./releases-report.js')).releasesReport(name, env, loaded, ctx.out.c);
}

export async function lockStatusCommand(ctx: Context): Promise<CommandResult> {
  const { name, env, loaded } = await ctx.environment();
  if (env.target?.type === 'ssh') return (await import('../fleet/status.js')).fleetLockStatus(ctx);
  const { openTarget } = await import('../targets/index.js');
  const { describeHolder } = await import('../targets/local/lock.js');
  const target = openTarget(name, env, loaded);
  const state = await target.lockState();
  const { c } = ctx.out;
  if (state.state === 'free') return { data: { environment: name, lock: target.paths.lockFile, state: 'free' }, text: `${name}: not locked (${target.paths.lockFile})` };
  const text =
    state.state === 'held'
      ? `${name}: ${c.yellow('locked')} by ${describeHolder(state.info)}`
      : `${name}: ${c.red('stale lock')}: ${describeHolder(state.info)} — ${state.why}\n${c.dim(`the next ltc deploy or ltc rollback takes it over (and says so); or clear it now: ltc lock release --env ${name}`)}`;
  return { data: { environment: name, lock: state.file, state: state.state, holder: state.info, ...(state.state === 'stale' ? { why: state.why } : {}) }, text };
}

export async function lockReleaseCommand(opts: { force?: boolean }, ctx: Context): Promise<CommandResult> {
  const { name, env, loaded } = await ctx.environment();
  if (env.target?.type === 'ssh') return (await import('../fleet/status.js')).fleetLockRelease(ctx, Boolean(opts.force));
  const { openTarget } = await import('../targets/index.js');
  const { describeHolder } = await import('../targets/local/lock.js');
  const target = openTarget(name, env, loaded);
  const state = await target.lockState();
  if (state.state === 'free') return { data: { environment: name, released: false, state: 'free' }, text: `${name}: not locked; nothing to release` };
  if (state.state === 'held' && !opts.force) {
    throw new UsageError(`${name} is locked by a running process: ${describeHolder(state.info)}`, {
      hint: 'releasing it would let a second deploy run at the same time; wait for it, or pass --force if you are sure it is not running',
    });
  }
  if (ctx.options.dryRun) return { data: { environment: name, released: false, wouldRelease: state.info }, text: `would remove ${state.file} (${describeHolder(state.info)}); nothing was changed` };
  const info = await target.breakLock();
  const { appendAudit } = await import('../audit/log.js');
  await appendAudit(await ctx.stateDir(), {
    action: 'lock.release',
    outcome: 'ok',
    environment: name,
    ...(info?.rc ? { rc: info.rc } : {}),
    details: { lock: state.file, holder: info ? { ...info } : null, state: state.state, forced: state.state === 'held' },
  });
  return { data: { environment: name, released: true, holder: info ?? null, state: state.state }, text: `released the ${state.state} lock of ${name}: ${info ? describeHolder(info) : ''}` };
}

export interface StopCliOptions {
  lockWait?: string;
  /** ssh targets: only these hosts (comma-separated names). */
  hosts?: string;
  /** ssh targets: only hosts with one of these roles (comma-separated). */
  roles?: string;
}

/**
 * `ltc stop --env <env>`: ends the app ltc's supervisor runs for the environment (SIGTERM to its
 * process group, SIGKILL after stop_grace), under the environment's lock, recorded in
 * revisions.log and the audit log. current stays: `ltc rollback --to <current>` starts it again.
 * Nothing running (or a stale pid file) is not an error.
 */
export async function stopCommand(opts: StopCliOptions, ctx: Context): Promise<CommandResult> {
  const t0 = performance.now();
  const lockWait = parseDuration(lockWaitOf(opts.lockWait), '--lock-wait');
  const { name, env, loaded } = await ctx.environment();
  if (env.target?.type === 'ssh') return (await import('../fleet/fleet.js')).fleetStop(ctx, opts.hosts);
  refuseHostFilters('stop', name, opts);
  const { openTarget, targetConfigOf } = await import('../targets/index.js');
  const config = targetConfigOf(name, env, loaded);
  if (config.service) {
    throw new ConfigError(`the app of environment ${name} is run by the service command ${config.service.join(' ')}, not by ltc: ltc cannot stop it`, {
      hint: 'stop it with the service manager (e.g. systemctl stop <unit>)',
    });
  }
  const target = openTarget(name, env, loaded);
  const graceMs = parseDuration(config.stop_grace, 'stop_grace');
  const status = await target.status();
  const current = await target.readCurrent();
  const { c } = ctx.out;
  if (ctx.options.dryRun) {
    const what = status.running
      ? `would stop pid ${status.pid} (${status.release}): SIGTERM to its process group, SIGKILL after ${formatDuration(graceMs)}`
      : `nothing runs${status.stale ? ` (would remove the stale pid file ${status.pidFile})` : ''}`;
    return { data: { environment: name, dryRun: true, running: status.running, pid: status.pid ?? null, release: status.release ?? null }, text: `${what}; nothing was changed` };
  }
  const { describeHolder } = await import('../targets/local/lock.js');
  const lock = await target.lock(
    { action: 'stop' },
    { waitMs: lockWait, signal: ctx.signal, onWait: (st) => st.state === 'held' && ctx.out.warn(`environment ${name} is locked: ${describeHolder(st.info)}; waiting up to ${formatDuration(lockWait)}`) },
  );
  try {
    if (lock.tookOver) ctx.out.warn(`stale lock in ${lock.file}: ${describeHolder(lock.tookOver.info)} — ${lock.tookOver.why}; taken over`);
    const lines: string[] = [];
    const r = await target.stop({ graceMs, log: (l) => (lines.push(l), ctx.out.detail(l)) });
    const durationMs = Math.round(performance.now() - t0);
    const release = r.pid !== undefined ? (status.release ?? null) : null;
    const { currentActorId, actorName } = await import('../audit/actor.js');
    const by = await currentActorId();
    // The audit entry first: the revision carries the head it produced (the anchor `ltc audit verify` checks).
    const { appendAuditAnchored } = await import('../audit/log.js');
    const { anchor } = await appendAuditAnchored(await ctx.stateDir(), {
      action: 'app.stop',
      outcome: 'ok',
      environment: name,
      details: { target: target.description, stopped: r.stopped, pid: r.pid ?? null, release, killed: r.killed ?? false, durationMs },
    });
    if (r.stopped) {
      const { readMeta } = await import('../targets/local/releases.js');
      const meta = release ? await readMeta(join(target.paths.releases, release)) : undefined;
      await target.appendRevision({
        time: new Date().toISOString(),
        actor: actorName(by),
        by,
        action: 'stop',
        environment: name,
        rc: meta?.rc ?? null,
        commit: meta?.commit ?? null,
        release,
        releaseDir: release ? join(target.paths.releases, release) : null,
        from: null,
        outcome: 'ok',
        durationMs,
        audit: anchor,
      });
    }
    const text = r.stopped
      ? [
          c.green(`stopped ${name}: pid ${r.pid} (${release ?? '?'}) ${r.killed ? `did not end on SIGTERM within ${formatDuration(graceMs)}: killed (SIGKILL)` : 'ended on SIGTERM'} in ${formatDuration(durationMs)}`),
          c.dim(`current still → ${current ? `releases/${current}` : '(none)'}; start it again with: ltc rollback --env ${name} --to ${current ?? '<release>'}`),
        ].join('\n')
      : `${name}: the app was not running${r.pid !== undefined ? ` (removed the stale pid file of pid ${r.pid})` : ''}; nothing to stop`;
    return {
      data: { environment: name, stopped: r.stopped, pid: r.pid ?? null, release, killed: r.killed ?? false, current: current ?? null, durationMs },
      text,
    };
  } finally {
    await lock.release();
  }
}
