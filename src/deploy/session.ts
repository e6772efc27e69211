/**
 * The state of one deploy or rollback while its runbook runs: the step types of one run share
 * it in this process (keyed by the run id). A deploy run cannot be resumed in another process
 * (start a new `ltc deploy`: its lock takeover and the complete-or-absent releases make that safe).
 */
import { childEnv } from '../exec/child-env.js';
import type { LoadedConfig } from '../config/load.js';
import type { EnvironmentConfig } from '../config/schema/index.js';
import type { LocalTargetConfig } from '../config/schema/target.js';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import type { LockHandle, StagedRelease, StartedApp, Target } from '../targets/target.js';

export type Action = 'deploy' | 'rollback' | 'restart';

/** An environment with its target, as a deploy, a rollback or their plan see it. */
export interface TargetScope {
  environment: string;
  env: EnvironmentConfig;
  loaded: LoadedConfig;
  target: Target;
  config: LocalTargetConfig;
  stateDir: string;
}

export async function openTargetScope(ctx: Context, environment: string | undefined): Promise<TargetScope> {
  const { openEnvironmentTarget } = await import('../targets/index.js');
  const { name, env, loaded, config, target } = await openEnvironmentTarget(ctx, environment);
  // openTarget refused a non-local target already.
  return { environment: name, env, loaded, config: config as LocalTargetConfig, target, stateDir: await ctx.stateDir() };
}

export interface DeploySession extends TargetScope {
  id: string;
  action: Action;
  ctx: Context;
  actor: string;
  /** performance.now() at the start; Date ISO for records. */
  t0: number;
  startedAt: string;
  rc?: string;
  commit?: string;
  repo?: string;
  /** deploy: the new release; rollback: the release to return to. */
  release?: string;
  staged?: StagedRelease;
  /** The new release is complete and in place (releases/<name>). */
  finalized?: boolean;
  /** `--to` as given (rollback). */
  to?: string;
  /** current and previous when the lock was taken. */
  before: { current?: string; previous?: string };
  /** deploy: what its switch pointed `previous` at. */
  previousSet?: string;
  lock?: LockHandle;
  switched: boolean;
  app?: StartedApp;
  buildMs: number;
  startMs?: number;
  /** Bytes the app logged from its start until its health went green (the log scan leaves out its answers to ltc's probes in them). */
  greenLogBytes?: number;
  phases: Record<string, number>;
  /** What the smoke and log_scan phases found (recorded in revisions.log: evidence for ltc golive check). */
  verified?: { smoke?: number; logScan?: { scanned: number; patterns: number } };
  lastFailure?: { phase: string; message: string; hint?: string };
  recorded: boolean;
  skippedGates?: boolean;
  pruned?: string[];
}

const sessions = new Map<string, DeploySession>();
let latest: DeploySession | undefined;

export function putSession(s: DeploySession): void {
  sessions.set(s.id, s);
  latest = s;
}

export function getSession(runId: string, phase: string): DeploySession {
  const s = sessions.get(runId);
  if (!s) {
    throw new UsageError(`step "${phase}" has no deploy or rollback in progress in this run`, {
      hint: 'a deploy runbook starts with `deploy: { phase: resolve }` (a rollback with `rollback: { phase: start }`); a killed or failed deploy is not resumed: start a new `ltc deploy` / `ltc rollback`',
    });
  }
  return s;
}

export function findSession(runId: string): DeploySession | undefined {
  return sessions.get(runId);
}

/** The session the last run of this process used (for the CLI wrapper after the run ended). */
export function latestSession(): DeploySession | undefined {
  return latest;
}

export function resetLatest(): void {
  latest = undefined;
}

/**
 * Test-only: `LTC_TEST_KILL_AT=<point>` makes ltc SIGKILL itself at that point (after-fetch,
 * after-build, after-switch, mid-rollback), so the tests of what a kill leaves behind are
 * deterministic. Never set it outside tests.
 */
export function killPoint(ctx: Context, point: string): void {
  if (ctx.env.LTC_TEST_KILL_AT === point) process.kill(process.pid, 'SIGKILL');
}

/**
 * The app's environment: the allow-listed basics of ltc's own (src/exec/child-env.ts: PATH, HOME,
 * LANG, …, never its credentials),
 * the target's `env`, the secrets of shared/.env (registered with the masker) and LTC_ENV,
 * LTC_RELEASE, LTC_RC, LTC_COMMIT.
 */
export async function appEnv(s: DeploySession, release: { name: string; rc?: string; commit?: string }): Promise<Record<string, string>> {
  const env = childEnv(s.ctx.env, s.config.env);
  for (const [k, v] of await s.target.readEnv()) {
    s.ctx.masker.add(v);
    env[k] = v;
  }
  env.LTC_ENV = s.environment;
  env.LTC_RELEASE = release.name;
  if (release.rc) env.LTC_RC = release.rc;
  if (release.commit) env.LTC_COMMIT = release.commit;
  return env;
}
