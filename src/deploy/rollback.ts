/**
 * Rollback: the automatic one after a failed deploy (`rollback: { phase: undo }` in the deploy
 * runbook's on_failure steps) and `ltc rollback` (runbooks/rollback.yaml: start → lock → choose →
 * switch → restart → health → record). Both work while the current release is crashed or hangs:
 * the old process is found by its pid file and stopped by process group, whatever state it is in.
 */
import { join } from 'node:path';
import { parseDuration } from '../core/duration.js';
import { CheckFailedError, LockedError, RollbackFailedError, RolledBackError, UsageError, type LtcError } from '../core/errors.js';
import { readMeta } from '../targets/local/releases.js';
import type { ReleaseInfo } from '../targets/target.js';
import { olderLiveRelease, openSession, phaseHealth, phaseRestart, type StepIO } from './phases.js';
import { liveBeforeOf, liveReleases, recordOutcome } from './record.js';
import { killPoint, putSession, type DeploySession } from './session.js';
import { staleNote } from './stale-note.js';
import { waitHealthy } from './verify.js';

const RELEASE_OR_RC = /^[A-Za-z0-9_][A-Za-z0-9._+@-]*$/;

/** Checks `--to` before anything (a release name or an rc; no paths, no options). */
export function checkTo(to: string): void {
  if (!RELEASE_OR_RC.test(to) || to.includes('..') || to.length > 200) {
    throw new UsageError(`--to ${JSON.stringify(to)} is not a release name or rc tag`, {
      hint: 'give a release folder name from `ltc releases` (e.g. rc-2026-02-15-20260215T090000.000Z) or an rc tag (e.g. rc-2026-02-15)',
    });
  }
}

/** The release `to` names: a release folder, else the newest release of that rc. */
export function findRelease(releases: readonly ReleaseInfo[], to: string): ReleaseInfo | undefined {
  return releases.find((r) => r.name === to) ?? releases.find((r) => r.meta?.rc === to);
}

export interface ChooseWhere {
  environment: string;
  releasesDir: string;
  previousLink: string;
}

/**
 * The release a rollback returns to: `to` (a release folder name, else the newest release of that
 * rc), else the one `previous` points at. Pure: the run and its --dry-run fail alike (exit 2 for
 * an unknown --to or no previous; 1 when previous points at a release that is gone).
 */
export function pickRelease(releases: readonly ReleaseInfo[], previous: string | undefined, to: string | undefined, w: ChooseWhere): ReleaseInfo {
  const names = releases.slice(0, 5).map((x) => x.name);
  const listed = (pick: string) =>
    names.length ? `${pick} with --to <release|rc>: ${names.join(', ')} (newest first; \`ltc releases --env ${w.environment}\` lists all)` : 'there are no releases yet: deploy one first';
  if (to) {
    const r = findRelease(releases, to);
    if (!r) throw new UsageError(`no release "${to}" in ${w.releasesDir}`, { hint: listed('pick one') });
    return r;
  }
  if (!previous) {
    throw new UsageError(`environment ${w.environment} has no previous release to roll back to (${w.previousLink} is not set)`, { hint: listed('pick one') });
  }
  const r = releases.find((x) => x.name === previous);
  if (!r) throw new CheckFailedError(`the previous release ${previous} is missing from ${w.releasesDir}`, { hint: listed('pick another') });
  return r;
}

/** Chooses the release to return to: `--to`, else previous. Read-only. */
export async function chooseTarget(s: DeploySession): Promise<ReleaseInfo> {
  const releases = await s.target.listReleases();
  const previous = s.to ? undefined : await s.target.readPrevious();
  return pickRelease(releases, previous, s.to, { environment: s.environment, releasesDir: s.target.paths.releases, previousLink: s.target.paths.previous });
}

/** `ltc rollback`: the session, and the chosen release checked (read-only: nothing is locked yet). */
export async function phaseRollbackStart(io: StepIO, spec: { to?: string; environment?: string }): Promise<DeploySession> {
  if (spec.to) checkTo(spec.to);
  const s = await openSession(io, 'rollback', spec.environment);
  if (spec.to) s.to = spec.to;
  let r: ReleaseInfo;
  try {
    r = await chooseTarget(s);
  } catch (err) {
    // While a deploy holds the lock (its release not there yet), say that rather than "no release".
    const lock = await s.target.lockState();
    if (lock.state === 'held') {
      const { describeHolder } = await import('../targets/local/lock.js');
      throw new LockedError(`environment ${s.environment} (${s.target.root}) is locked: ${describeHolder(lock.info)}`, {
        hint: `wait for it to finish (or pass --lock-wait 5m); see \`ltc lock status --env ${s.environment}\``,
        details: { lock: lock.file, holder: lock.info },
      });
    }
    throw err;
  }
  s.release = r.name;
  putSession(s);
  io.log(`rollback of ${s.environment}: current ${s.before.current ?? '(none)'} → ${r.name}`);
  return s;
}

/** After the lock: choose again (it may have changed while we waited). */
export async function phaseChoose(s: DeploySession, io: StepIO): Promise<{ release: string; from?: string }> {
  const r = await chooseTarget(s);
  s.release = r.name;
  s.rc = r.meta?.rc;
  s.commit = r.meta?.commit;
  const from = s.before.current;
  if (from === r.name) io.log(`current already is ${r.name} (an interrupted rollback?): it is restarted and health-checked`);
  else io.log(`rolling back ${s.environment} from ${from ?? '(none)'} to ${r.name}`);
  return { release: r.name, ...(from ? { from } : {}) };
}

export interface StateReport {
  text: string;
  next: string;
  data: Record<string, unknown>;
}

/**
 * The release to offer with `--to` after a failure: previous, or else the newest other release —
 * only one that once answered healthy (a deploy or rollback ended ok with it), never one of `avoid`
 * (current, the release that just failed). An interrupted deploy can leave previous on a release
 * that never ran.
 */
export function suggestRelease(releases: readonly { name: string }[], previous: string | undefined, avoid: ReadonlyArray<string | undefined>, live: ReadonlySet<string>): string | undefined {
  const skip = new Set(avoid.filter((x): x is string => Boolean(x)));
  if (previous && !skip.has(previous) && live.has(previous)) return previous;
  return releases.find((r) => !skip.has(r.name) && live.has(r.name))?.name;
}

/** The exact state after a failed rollback, and what to try next. */
export async function describeState(s: DeploySession): Promise<StateReport> {
  const current = await s.target.readCurrent().catch(() => undefined);
  const previous = await s.target.readPrevious().catch(() => undefined);
  const status = await s.target.status().catch(() => undefined);
  const releases = await s.target.listReleases().catch(() => [] as ReleaseInfo[]);
  // What to suggest with --to: a release that was live and healthy once, never the one that just
  // failed (the deploy's new release, or the release this rollback could not bring up).
  const live = await liveReleases(s).catch(() => new Set<string>());
  const suggestion = suggestRelease(releases, previous, [current, s.release], live);
  const journal = join(s.stateDir, 'runs', `${s.id}.jsonl`);
  const app = !status
    ? 'unknown'
    : status.mode === 'service'
      ? `managed by the service command ${(s.config.service ?? []).join(' ')}`
      : status.running
        ? status.unrecorded
          ? `pid ${status.unrecorded.join(', ')} run${status.unrecorded.length === 1 ? 's' : ''} release ${status.release} without a pid file`
          : `pid ${status.pid} runs release ${status.release} (since ${status.startedAt})`
        : `not running${staleNote(status)}`;
  const text = [
    'state now:',
    `  current  → ${current ? `releases/${current}` : '(none)'}`,
    `  previous → ${previous ? `releases/${previous}` : '(none)'}`,
    `  app      : ${app}`,
    `  app log  : ${s.target.paths.logFile}`,
    `  history  : ${s.target.paths.revisions}`,
    `  journal  : ${journal}`,
  ].join('\n');
  const next = [
    'next:',
    `  tail -n 50 ${s.target.paths.logFile}`,
    `  ltc releases --env ${s.environment}`,
    ...(suggestion ? [`  ltc rollback --env ${s.environment} --to ${suggestion}`] : []),
    `  ltc health --env ${s.environment}`,
  ].join('\n');
  return {
    text,
    next,
    data: {
      state: {
        current: current ?? null,
        previous: previous ?? null,
        app: status ? { running: status.running, pid: status.pid ?? null, release: status.release ?? null } : null,
        logFile: s.target.paths.logFile,
        revisions: s.target.paths.revisions,
        journal,
      },
    },
  };
}

/** The hint of the rollback's own failure (e.g. the app log's last lines), masked, as a hint paragraph. */
function rollbackHint(s: DeploySession, err: unknown): string {
  const hint = (err as { hint?: unknown } | undefined)?.hint;
  return typeof hint === 'string' && hint.trim() ? `(the rollback's failure: ${s.ctx.masker.mask(hint)})\n` : '';
}

/** `rollback: { phase: failed }`: a rollback's restart or health check failed → exit 4 with the state. */
export async function phaseRollbackFailed(s: DeploySession): Promise<never> {
  const failure = s.lastFailure ?? { phase: 'rollback', message: 'a rollback step failed' };
  const state = await describeState(s);
  if (!s.recorded) await recordOutcome(s, 'rollback_failed', { failedPhase: failure.phase, error: failure.message }).catch(() => undefined);
  await s.lock?.release().catch(() => undefined);
  throw new RollbackFailedError(`rollback of ${s.environment} to ${s.release} failed at ${failure.phase}: ${s.ctx.masker.mask(failure.message)}\n${state.text}`, {
    hint: `${failure.hint ? `(${s.ctx.masker.mask(failure.hint)})\n` : ''}${state.next}`,
    details: state.data,
  });
}

/**
 * `rollback: { phase: undo }`: a deploy failed after the switch. Switch back to the release that
 * was current before, restart it, health-check it; exit 3 (RolledBackError) — or exit 4
 * (RollbackFailedError) with the exact state when that fails too.
 */
export async function phaseUndo(s: DeploySession, io: StepIO): Promise<never> {
  const failure = s.lastFailure ?? { phase: 'after the switch', message: 'a step after the switch failed' };
  const failed = `deploy of ${s.rc} to ${s.environment} failed at ${failure.phase}: ${s.ctx.masker.mask(failure.message)}`;
  const back = liveBeforeOf(s.before.current, s.before.previous, await liveReleases(s).catch(() => new Set<string>()));
  const to = back && back !== s.release ? back : undefined;
  // previous as before the deploy; when the release returned to was previous itself (current had
  // never answered), the one before it.
  const previousAfter = to && to === s.before.previous ? await olderLiveRelease(s, to).catch(() => undefined) : s.before.previous;
  const t = performance.now();
  let err: LtcError | Error | undefined;
  try {
    if (!to) {
      // A first deploy: there is nothing to go back to. Leave things as they were before it.
      await s.target.stop({ graceMs: parseDuration(s.config.stop_grace, 'stop_grace'), log: io.log });
      await s.target.clearCurrent();
      await s.target.setPrevious(s.before.previous);
      io.log('there was no earlier release: the app is stopped and current removed, as before the deploy');
    } else {
      io.log(`rolling back to ${to}`);
      await s.target.switchCurrent(to);
      // Until it answers healthy, previous = current = the release returned to: the state an
      // interrupted `ltc rollback` leaves, so after a kill here the next `ltc rollback` finishes
      // this one (restarts and checks `to`) instead of going one release further back.
      await s.target.setPrevious(to);
      killPoint(s.ctx, 'mid-rollback');
      await phaseRestart(s, io);
      await waitHealthy(s, s.app, io);
      await s.target.setPrevious(previousAfter);
    }
  } catch (e) {
    err = e as Error;
    if (to) await s.target.setPrevious(previousAfter).catch(() => undefined);
  }
  const rollbackMs = performance.now() - t;
  if (err) {
    const state = await describeState(s);
    await recordOutcome(s, 'rollback_failed', { failedPhase: failure.phase, error: `${failure.message}; rollback: ${err.message}`, rolledBackTo: null }).catch(() => undefined);
    await s.lock?.release().catch(() => undefined);
    throw new RollbackFailedError(`${failed}; the rollback to ${to ?? '(nothing)'} failed too: ${s.ctx.masker.mask(err.message)}\n${state.text}`, {
      hint: `${rollbackHint(s, err)}${failure.hint ? `(the deploy's failure: ${s.ctx.masker.mask(failure.hint)})\n` : ''}${state.next}`,
      details: { ...state.data, failedPhase: failure.phase },
    });
  }
  await recordOutcome(s, 'rolled_back', { failedPhase: failure.phase, error: failure.message, rolledBackTo: to ?? null });
  // Failed deploys count towards keep_releases too (the failed one, the newest, stays for inspection).
  const previous = await s.target.readPrevious().catch(() => undefined);
  const protect = [to, previous, s.release].filter((x): x is string => Boolean(x));
  s.pruned = await s.target.prune(s.config.keep_releases, protect).catch(() => []);
  if (s.pruned.length) io.log(`removed old releases: ${s.pruned.join(', ')}`);
  await s.lock?.release().catch(() => undefined);
  const kept = join(s.target.paths.releases, s.release ?? '');
  throw new RolledBackError(
    to
      ? `${failed}; rolled back to ${to} in ${(rollbackMs / 1000).toFixed(1)}s, which answers healthy`
      : `${failed}; there was no earlier release: the app is stopped and current removed, as before the deploy`,
    {
      hint: `${failure.hint ? `${s.ctx.masker.mask(failure.hint)}\n` : ''}the failed release stays in ${kept} for inspection; its log since the start is in ${s.target.paths.logFile}`,
      details: { failedPhase: failure.phase, rolledBackTo: to ?? null, failedRelease: s.release ?? null, rollbackMs: Math.round(rollbackMs) },
    },
  );
}

/** The rc and commit a release was made from (for a rollback's record). */
export async function metaOf(s: DeploySession, name: string): Promise<{ rc?: string; commit?: string }> {
  const m = await readMeta(join(s.target.paths.releases, name));
  return { ...(m?.rc ? { rc: m.rc } : {}), ...(m?.commit ? { commit: m.commit } : {}) };
}

export { phaseHealth, phaseRestart };
