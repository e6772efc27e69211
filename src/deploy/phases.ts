/**
 * The phases of a deploy, as plain functions over a DeploySession. The step types (deploy,
 * switch, rollback) are thin wrappers; runbooks/deploy.yaml puts them in order:
 *
 *   resolve → lock → confirm (protected) → gates → fetch → build → env → pre_switch →
 *   switch → restart → health → smoke → log_scan → record
 *
 * Nothing changes before `lock`; a failure before `switch` removes the partial release, records
 * the failure and releases the lock (current is untouched); a failure after it is rolled back
 * by the runbook's on_failure steps (src/deploy/rollback.ts).
 */
import { join } from 'node:path';
import { appendAudit, checkAuditWritable } from '../audit/log.js';
import { currentActor } from '../audit/actor.js';
import type { Context } from '../core/context.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { CheckFailedError, ConfigError, InterruptedError, LtcError, UsageError } from '../core/errors.js';
import { displayCommand } from '../exec/command.js';
import { findOnPath } from '../exec/find-on-path.js';
import { describeHolder } from '../targets/local/lock.js';
import type { LockState } from '../targets/target.js';
import type { EnvironmentConfig } from '../config/schema/index.js';
import type { LocalTargetConfig } from '../config/schema/target.js';
import { liveReleases, recordOutcome } from './record.js';
import { appEnv, killPoint, openTargetScope, putSession, type Action, type DeploySession } from './session.js';
import { runSmoke, scanLog, waitHealthy, type PhaseIO } from './verify.js';
import { userRegex } from '../core/user-regex.js';

export interface StepIO extends PhaseIO {
  ctx: Context;
  runId: string;
  warn(line: string): void;
}

/** The phases before the switch: their failure leaves current untouched. */
export const PRE_SWITCH = new Set(['resolve', 'lock', 'confirm', 'skip_gates', 'fetch', 'build', 'env', 'pre_switch']);

/** Loads the environment, its target and the config it needs; checks start/service. */
export async function openSession(io: StepIO, action: Action, environment: string | undefined): Promise<DeploySession> {
  const ctx = io.ctx;
  const scope = await openTargetScope(ctx, environment);
  const { environment: name, env, loaded, config } = scope;
  if (!config.start && !config.service) {
    throw new ConfigError(`the target of environment "${name}" has neither start nor service in ${loaded.file}`, {
      hint: `add environments.${name}.target.start (e.g. [node, server.mjs]) or .service (e.g. [systemctl, restart, ltc-api])`,
    });
  }
  for (const [key, value] of [['stop_grace', config.stop_grace], ['health_deadline', config.health_deadline], ['command_timeout', config.command_timeout]] as const) {
    try {
      parseDuration(value, key);
    } catch (err) {
      throw new ConfigError(`environments.${name}.target.${key}: ${(err as Error).message}`);
    }
  }
  checkBeforeAnything(name, env, config, loaded.file, ctx.env, action);
  await checkAuditWritable(await ctx.stateDir());
  const target = scope.target;
  const s: DeploySession = {
    ...scope,
    id: io.runId,
    action,
    ctx,
    actor: await currentActor(),
    t0: performance.now(),
    startedAt: new Date().toISOString(),
    before: { current: await target.readCurrent(), previous: await target.readPrevious() },
    switched: false,
    buildMs: 0,
    phases: {},
    recorded: false,
  };
  return s;
}


/**
 * What would only fail after the switch is checked before anything changes: health endpoint
 * paths need the environment's url; the commands (bare names) must be on PATH.
 */
function checkBeforeAnything(name: string, env: EnvironmentConfig, config: LocalTargetConfig, file: string, procEnv: NodeJS.ProcessEnv, action: Action): void {
  const paths = (env.health?.endpoints ?? []).filter((e) => e.url.startsWith('/'));
  if (paths.length && !env.url) {
    throw new ConfigError(`environments.${name}.health: endpoint "${paths[0]!.name}" is the path ${paths[0]!.url}, but the environment has no url (${file})`, {
      hint: `set environments.${name}.url (e.g. http://127.0.0.1:8080), or give the endpoint an absolute URL`,
    });
  }
  const pathEnv = config.env.PATH ?? procEnv.PATH ?? '';
  const lists: Array<[string, readonly (readonly string[])[]]> = [
    ...(action === 'deploy'
      ? ([
          ['build', config.build],
          ['pre_switch', config.pre_switch],
          ['smoke', config.smoke],
        ] as Array<[string, readonly (readonly string[])[]]>)
      : []),
    ['start', config.start ? [config.start] : []],
    ['service', config.service ? [config.service] : []],
  ];
  for (const [key, commands] of lists) {
    for (const argv of commands) {
      const cmd = argv[0]!;
      if (cmd.includes('/')) continue; // a path (maybe inside the release): known only after the export
      if (!findOnPath(cmd, pathEnv)) {
        throw new ConfigError(`environments.${name}.target.${key}: command not found on PATH: ${cmd}`, {
          hint: `install ${cmd}, or give its full path in ${file}`,
        });
      }
    }
  }
}

/**
 * Checks `rc` (syntax and app.tag_pattern: no git before that; then git's ref rule) and that the
 * tag exists (`git ls-remote --tags`), and resolves its commit. Changes nothing.
 */
export async function resolveRc(ctx: Context, rc: string, signal: AbortSignal): Promise<{ commit: string; repo: string }> {
  const loaded = await ctx.config();
  const { checkRefSyntax, validateRcName } = await import('../git/refs.js');
  checkRefSyntax(rc, '--rc');
  const pattern = userRegex(loaded.config.app.tag_pattern, 'app.tag_pattern');
  await validateRcName(rc, pattern, { signal });
  const { checkRepoString, isRemoteUrl, resolveTag } = await import('../git/repo.js');
  const raw = loaded.config.app.repo;
  const repo = checkRepoString(isRemoteUrl(raw) ? raw : loaded.resolvePath(raw));
  const commit = await resolveTag(repo, rc, { pattern, signal });
  return { commit, repo };
}

export async function phaseResolve(io: StepIO, spec: { rc: string; environment?: string }): Promise<DeploySession> {
  const s = await openSession(io, 'deploy', spec.environment);
  const { commit, repo } = await resolveRc(io.ctx, spec.rc, io.signal);
  s.rc = spec.rc;
  s.commit = commit;
  s.repo = repo;
  s.release = s.target.newReleaseName(spec.rc);
  putSession(s);
  io.log(`${spec.rc} → commit ${commit}; new release ${s.release}; current ${s.before.current ?? '(none)'}`);
  return s;
}

/** Takes the environment's lock (waits up to `waitMs`); a stale lock is reported, audited and taken over. */
export async function phaseLock(s: DeploySession, io: StepIO, waitMs: number): Promise<void> {
  const onWait = (state: LockState) => {
    if (state.state === 'held') io.warn(`environment ${s.environment} is locked: ${describeHolder(state.info)}; waiting up to ${formatDuration(waitMs)}`);
  };
  s.lock = await s.target.lock({ action: s.action, ...(s.rc ? { rc: s.rc } : {}), runId: s.id }, { waitMs, signal: io.signal, onWait });
  if (s.lock.tookOver) {
    const { info, why } = s.lock.tookOver;
    io.warn(`stale lock in ${s.lock.file}: ${describeHolder(info)} — ${why}; taken over`);
    await appendAudit(s.stateDir, {
      action: 'lock.takeover',
      outcome: 'ok',
      environment: s.environment,
      ...(s.rc ? { rc: s.rc } : {}),
      details: { lock: s.lock.file, stale: { ...info }, why, by: s.action, runId: s.id },
    });
  }
  if (s.lock.endedBuilds?.length) io.warn(`ended ${s.lock.endedBuilds.length} process(es) an interrupted deploy left building in ${s.target.paths.releases}/.partial-… (pid ${s.lock.endedBuilds.join(', ')})`);
  if (s.lock.swept?.length) io.log(`removed what an interrupted run left: ${s.lock.swept.join(', ')}`);
  // What is live may have changed while we waited: read it again under the lock.
  s.before = { current: await s.target.readCurrent(), previous: await s.target.readPrevious() };
  io.log(`locked ${s.lock.file}`);
}

/** A protected environment: the person types its name (or --yes). */
export async function phaseConfirm(s: DeploySession, io: StepIO): Promise<string> {
  if (!s.env.protected) return 'not protected';
  const question = `Deploy ${s.rc} (${s.commit?.slice(0, 12)}) to the protected environment ${s.environment}?`;
  const answer = await io.ctx.prompt.typeToConfirm(question, s.environment);
  if (!answer.approved) {
    throw new UsageError(`the name typed does not match "${s.environment}": deploy cancelled, nothing changed`, { hint: `type ${s.environment} exactly, or pass --yes` });
  }
  io.log(`confirmed (${answer.via})`);
  return answer.via;
}

/** `--skip-gates` on a protected environment: allowed, loudly, and audited. */
export async function phaseSkipGates(s: DeploySession, io: StepIO): Promise<void> {
  s.skippedGates = true;
  io.warn(`--skip-gates: deploying ${s.rc} to the protected environment ${s.environment} without green gates (recorded in the audit log)`);
  await appendAudit(s.stateDir, {
    action: 'deploy.skip_gates',
    outcome: 'ok',
    environment: s.environment,
    ...(s.rc ? { rc: s.rc } : {}),
    details: { commit: s.commit, runId: s.id },
  });
}

/** The app repo into the mirror cache (clone once, fetch after), the tag's tree into releases/.partial-<name>. */
export async function phaseFetch(s: DeploySession, io: StepIO): Promise<string> {
  const { ensureMirror } = await import('../git/repo.js');
  // While git fetches: are the required secrets there? (Rather than finding out after the build.)
  const [fetched, secrets] = await Promise.allSettled([ensureMirror(s.repo!, join(s.stateDir, 'cache'), { commit: s.commit!, signal: io.signal }), checkSecretsPresent(s, io)]);
  if (secrets.status === 'rejected') throw secrets.reason;
  if (fetched.status === 'rejected') throw fetched.reason;
  const mirror = fetched.value;
  s.staged = await s.target.prepareRelease(s.release!);
  await s.target.exportTree(mirror, s.commit!, s.staged, io.signal);
  io.log(`exported ${s.commit!.slice(0, 12)} from ${mirror} into ${s.staged.staging}`);
  killPoint(s.ctx, 'after-fetch');
  return s.staged.staging;
}

function buildEnv(s: DeploySession): Record<string, string> {
  return { ...s.config.env, LTC_ENV: s.environment, LTC_RELEASE: s.release ?? '', ...(s.rc ? { LTC_RC: s.rc } : {}), ...(s.commit ? { LTC_COMMIT: s.commit } : {}) };
}

async function runCommands(
  s: DeploySession,
  io: StepIO,
  what: string,
  dir: string,
  list: readonly string[][],
  env: Record<string, string>,
  onRan?: (ms: number) => void,
): Promise<number> {
  const timeoutMs = parseDuration(s.config.command_timeout, 'command_timeout');
  let total = 0;
  for (const argv of list) {
    io.log(`$ ${displayCommand(argv)}`);
    const r = await s.target.runIn(dir, argv, { env, signal: io.signal, timeoutMs, onLine: io.log }, s.ctx.masker);
    total += r.durationMs;
    onRan?.(r.durationMs);
    if (r.cancelled) throw new InterruptedError(`interrupted during the ${what} command ${displayCommand(argv)}`);
    if (r.exitCode !== 0) {
      // A build runs in the partial release, which is removed when it fails.
      const where = what === 'build' ? `(ran in ${dir}, removed since: a failed build is not kept)` : `(ran in ${dir})`;
      const log = await keepCommandLog(s, what, argv, r.output);
      throw new CheckFailedError(`${what} command ${displayCommand(argv)} ${r.timedOut ? `timed out after ${formatDuration(timeoutMs)}` : `exited with ${r.exitCode}`}`, {
        hint: `${whyLines(r.output) || 'it printed nothing'}\n${where}${log ? `\nits whole output: ${log}` : ''}`,
      });
    }
  }
  return total;
}

/**
 * The lines of a failed command's output that say why: npm's `npm ERR!` / `npm error` lines (and
 * other error lines) first, then the last lines; a usage text printed after the cause is not
 * what a person needs to read first.
 */
export function whyLines(output: string, max = 12): string {
  const lines = output.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim());
  const npmErr = /^npm (ERR!|error)\s/;
  const errorLine = /\b(error|ERR!|fatal|failed|cannot|can only|not found|ENOENT|EACCES)\b/i;
  let cause = lines.filter((l) => npmErr.test(l));
  // npm prints its usage text as `npm error` lines too: keep the lines before "Usage:".
  const usage = cause.findIndex((l) => /^npm (ERR!|error)\s+(Usage:|npm \w+\s*$)/.test(l) || /^npm (ERR!|error)\s+Usage:/.test(l));
  if (usage > 0) cause = cause.slice(0, usage);
  const logLine = lines.find((l) => /complete log of this run can be found in/i.test(l));
  if (cause.length === 0) cause = lines.filter((l) => errorLine.test(l));
  const chosen = cause.length ? [...new Set([...cause.slice(0, max), ...(logLine && !cause.includes(logLine) ? [logLine] : [])])] : lines.slice(-10);
  if (cause.length && cause.length < lines.length) {
    const last = lines.slice(-3).filter((l) => !chosen.includes(l) && !npmErr.test(l));
    if (last.length) chosen.push('…', ...last);
  }
  return chosen.join('\n');
}

/** The whole output of a failed build or hook, kept next to the app log (the partial release is removed). */
async function keepCommandLog(s: DeploySession, what: string, argv: readonly string[], output: string): Promise<string | undefined> {
  try {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    const dir = dirname(s.target.paths.logFile);
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${what.replace(/[^a-z0-9]+/gi, '-')}-${s.release ?? 'release'}.log`);
    await writeFile(file, `$ ${displayCommand(argv)}\n${s.ctx.masker.mask(output)}`, { mode: 0o600 });
    return file;
  } catch {
    return undefined;
  }
}

/** The configured build commands in the partial release (they get the target's env, not secrets). */
export async function phaseBuild(s: DeploySession, io: StepIO): Promise<number> {
  // Counted per command, so a failed build's record says how long it ran too.
  s.buildMs = 0;
  await runCommands(s, io, 'build', s.staged!.staging, s.config.build, buildEnv(s), (ms) => (s.buildMs += ms));
  killPoint(s.ctx, 'after-build');
  return s.buildMs;
}

/**
 * The environment's required secrets all have a current value (names and stages only: no value
 * is read, so nothing is audited); a missing one is exit 2 before anything is built.
 */
async function checkSecretsPresent(s: DeploySession, io: StepIO): Promise<void> {
  const required = s.env.secrets?.required ?? [];
  if (required.length === 0) return;
  const { openScope } = await import('../secrets/service.js');
  const scope = await openScope({ ...io.ctx, options: { ...io.ctx.options, env: s.environment } });
  try {
    const have = new Set((await scope.backend.list()).filter((d) => d.versions.some((v) => v.stages.includes('current'))).map((d) => d.name));
    const missing = required.map((r) => r.name).filter((n) => !have.has(n));
    if (missing.length) {
      throw new ConfigError(`environment ${s.environment} lacks required secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')} in ${scope.backend.location}: nothing was deployed`, {
        hint: missing.map((n) => `ltc secrets generate ${n} --env ${s.environment}   (or: ltc secrets set ${n} --env ${s.environment})`).join('\n'),
      });
    }
  } finally {
    await scope.backend.close?.();
  }
}

/** Secret values of the environment: its `required` secrets, or every secret it has. */
export async function secretValues(s: DeploySession, io: StepIO): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  if (!s.env.secrets) return values;
  const { openScope, audited } = await import('../secrets/service.js');
  const ctx = { ...io.ctx, options: { ...io.ctx.options, env: s.environment } };
  const scope = await openScope(ctx);
  try {
    const names = scope.config.required.length ? scope.config.required.map((r) => r.name) : (await scope.backend.list()).map((d) => d.name);
    for (const name of names) {
      const v = await audited(
        scope,
        { action: 'secret.read', secret: name, ...(s.rc ? { rc: s.rc } : {}), details: { purpose: s.action === 'restart' ? 'restart env file' : 'deploy env file', runId: s.id } },
        () => scope.backend.getValue(name, { stage: 'current' }),
        (x) => x.versionId,
      );
      s.ctx.masker.add(v.value);
      values.set(name, v.value);
    }
  } finally {
    await scope.backend.close?.();
  }
  return values;
}

/** shared/.env (mode 0600) from the secret backend, linked into the release; the release is put in place. */
export async function phaseEnv(s: DeploySession, io: StepIO): Promise<string> {
  const values = await secretValues(s, io);
  const file = await s.target.renderEnv(values);
  io.log(`wrote ${values.size} secret(s) (${[...values.keys()].join(', ') || 'none'}) into ${file} (mode 0600)`);
  const dir = await s.target.finalizeRelease(s.staged!, {
    name: s.release!,
    rc: s.rc!,
    commit: s.commit!,
    createdAt: new Date().toISOString(),
    actor: s.actor,
    buildMs: Math.round(s.buildMs),
  });
  s.staged = undefined;
  s.finalized = true;
  io.log(`release complete: ${dir}`);
  return dir;
}

/** The configured pre-switch hooks (migrations) in the new release, with the app's environment. */
export async function phasePreSwitch(s: DeploySession, io: StepIO): Promise<number> {
  if (s.config.pre_switch.length === 0) return 0;
  const env = await appEnv(s, { name: s.release!, ...(s.rc ? { rc: s.rc } : {}), ...(s.commit ? { commit: s.commit } : {}) });
  return runCommands(s, io, 'pre-switch hook', join(s.target.paths.releases, s.release!), s.config.pre_switch, env);
}

/**
 * Points current at the release (atomically). A deploy makes the old current the previous one;
 * a rollback changes previous only when it ended healthy (record).
 */
export async function phaseSwitch(s: DeploySession, io: StepIO, release?: string): Promise<{ from?: string; to: string }> {
  const to = release ?? s.release;
  if (!to) throw new UsageError('switch: no release to switch to');
  const from = await s.target.readCurrent();
  if (from === to) {
    io.log(`current already is ${to}`);
  } else {
    await s.target.switchCurrent(to);
    if (s.action === 'deploy' && from) {
      const { liveBeforeOf, liveReleases } = await import('./record.js');
      const previous = liveBeforeOf(from, await s.target.readPrevious(), await liveReleases(s));
      await s.target.setPrevious(previous);
      s.previousSet = previous;
      if (previous !== from) io.warn(`${from} never answered healthy (an interrupted deploy left current on it): previous stays ${previous}, the release that ran`);
    }
    io.log(`current → releases/${to}${from ? ` (was ${from})` : ''}`);
  }
  s.switched = true;
  killPoint(s.ctx, s.action === 'deploy' ? 'after-switch' : 'mid-rollback');
  return { ...(from ? { from } : {}), to };
}

async function releaseFacts(s: DeploySession, name: string): Promise<{ name: string; rc?: string; commit?: string }> {
  const { readMeta } = await import('../targets/local/releases.js');
  const meta = await readMeta(join(s.target.paths.releases, name));
  return { name, ...(meta?.rc ? { rc: meta.rc } : {}), ...(meta?.commit ? { commit: meta.commit } : {}) };
}

/** Stops the running app and starts the current release (or runs the service command). */
export async function phaseRestart(s: DeploySession, io: StepIO): Promise<{ pid?: number }> {
  // Load the health probe while the old app stops and the new one starts.
  const preload = s.env.health?.endpoints.length ? import('../health/run.js').catch(() => undefined) : undefined;
  const current = await s.target.readCurrent();
  if (!current) throw new CheckFailedError(`${s.target.paths.current} points at no release`);
  const env = await appEnv(s, await releaseFacts(s, current));
  s.app = await s.target.restart({ env, graceMs: parseDuration(s.config.stop_grace, 'stop_grace'), signal: io.signal, log: io.log });
  await preload;
  return { ...(s.app.pid !== undefined ? { pid: s.app.pid } : {}) };
}

export async function phaseHealth(s: DeploySession, io: StepIO): Promise<{ ms: number; attempts: number }> {
  const r = await waitHealthy(s, s.app, io);
  s.startMs = r.ms;
  return r;
}

export async function phaseSmoke(s: DeploySession, io: StepIO): Promise<number> {
  const n = await runSmoke(s, io);
  s.verified = { ...s.verified, smoke: n };
  return n;
}

export async function phaseLogScan(s: DeploySession, io: StepIO): Promise<number> {
  const { scanned } = await scanLog(s, s.app, io);
  s.verified = { ...s.verified, logScan: { scanned, patterns: s.config.log_scan.length } };
  return scanned;
}

/** The newest release older than `name` that was once live and healthy (what previous becomes after a rollback). */
export async function olderLiveRelease(s: DeploySession, name: string): Promise<string | undefined> {
  const releases = await s.target.listReleases();
  const live = await liveReleases(s);
  const idx = releases.findIndex((r) => r.name === name);
  return releases.slice(idx + 1).find((r) => r.name !== name && live.has(r.name))?.name;
}

/** Records success, prunes old releases (deploy), moves previous (rollback), releases the lock. */
export async function phaseRecord(s: DeploySession, io: StepIO): Promise<{ durationMs: number; pruned: string[] }> {
  let pruned: string[] = [];
  if (s.action === 'rollback' && s.release) {
    const older = await olderLiveRelease(s, s.release);
    await s.target.setPrevious(older);
    io.log(`previous → ${older ?? '(none)'}`);
  }
  const rec = await recordOutcome(s, 'ok', { from: s.before.current ?? null });
  if (s.action === 'deploy') {
    const previous = await s.target.readPrevious();
    pruned = await s.target.prune(s.config.keep_releases, [s.release!, ...(previous ? [previous] : [])]);
    if (pruned.length) io.log(`removed old releases: ${pruned.join(', ')}`);
  }
  s.pruned = pruned;
  await s.lock?.release();
  return { durationMs: rec.durationMs, pruned };
}

/** A failure before the switch: drop the partial release, record it, release the lock. */
export async function abortBeforeSwitch(s: DeploySession, phase: string, err: unknown): Promise<void> {
  if (s.recorded) return;
  const e = err instanceof LtcError ? err : undefined;
  const interrupted = err instanceof InterruptedError;
  const complete = s.finalized === true;
  if (s.staged) await s.target.discardRelease(s.staged).catch(() => undefined);
  s.staged = undefined;
  const nothingChanged = e?.exitCode === 2;
  if (s.lock && !nothingChanged) {
    await recordOutcome(s, interrupted ? 'interrupted' : 'failed', { failedPhase: phase, error: e?.message ?? String(err), release: complete ? (s.release ?? null) : null }).catch(() => undefined);
  }
  await s.lock?.release().catch(() => undefined);
}
