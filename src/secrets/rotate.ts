/**
 * Rotation in the four steps AWS Secrets Manager uses:
 *   1. create — a new value becomes the *pending* version (idempotent by request token);
 *   2. set    — it is put where it is used (PostgreSQL: ALTER ROLE … PASSWORD; otherwise the
 *               configured runbook, e.g. re-render the env file and restart);
 *   3. test   — it is tried there (log in to PostgreSQL with it; the runbook's health check);
 *   4. finish — pending becomes current, the old current becomes previous.
 * A failure at any step puts the current value back where it is used, removes pending and
 * leaves current untouched. Each rotation is journaled (request token, version, phase — never a
 * value) under `.ltc/rotations/<env>/<NAME>.json`, so a rotation killed half-way (SIGKILL) is
 * finished — or, when that fails, undone — by the next `ltc secrets rotate <NAME>`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckFailedError, ConfigError, InterruptedError, LtcError, RollbackFailedError, UsageError } from '../core/errors.js';
import type { SecretPolicy } from '../config/schema/secrets.js';
import { NotAppliedError, versionWith, type SecretDescription } from './backend.js';
import { generateSecret } from './generate.js';
import { withLock, writeFileAtomic } from '../core/fs-atomic.js';
import { audited, type SecretsScope } from './service.js';

export type RotationPhase = 'started' | 'created' | 'set' | 'tested' | 'finished';
const ORDER: RotationPhase[] = ['started', 'created', 'set', 'tested', 'finished'];

/** The journal of one rotation: no value, ever. */
export interface RotationJournal {
  secret: string;
  environment: string;
  token: string;
  phase: RotationPhase;
  versionId?: string;
  /** The current version when the rotation started. */
  fromVersion: string;
  target: string;
  started: string;
  updated: string;
  pid: number;
}

/** Where a value is used: put it there, try it, put the old one back. */
export interface RotationTarget {
  description: string;
  /**
   * Puts `value` — the version with `stage` (pending in a rotation, previous in a rollback) —
   * where it is used. `known`: other values the target may hold now (to log in with).
   */
  set(value: string, known: string[], stage: 'pending' | 'previous'): Promise<void>;
  test(value: string): Promise<void>;
  revert(value: string, known: string[]): Promise<void>;
}

export interface RotationResult {
  dryRun: boolean;
  plan: string[];
  resumed: boolean;
  current?: string;
  previous?: string;
  target?: string;
  token?: string;
}

export function journalPath(stateDir: string, environment: string, name: string): string {
  return join(stateDir, 'rotations', environment, `${name}.json`);
}

function readJournal(file: string): RotationJournal | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RotationJournal;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`rotation journal ${file} is unreadable: ${(err as Error).message}`, {
      hint: 'inspect it; remove it only when you know the state of the secret and where it is used',
    });
  }
}

/** Test hook: `LTC_TEST_KILL_AT=rotate:<phase>` ends the process with SIGKILL right after that phase. */
function killPoint(scope: SecretsScope, phase: RotationPhase): void {
  if (scope.ctx.env.LTC_TEST_KILL_AT === `rotate:${phase}`) process.kill(process.pid, 'SIGKILL');
}

/** The target configured for a secret (undefined: the value lives only in the backend). */
export interface RotateOptions {
  /** Restart the environment's app with the new value (default true; `--no-restart`). */
  restart?: boolean;
}

export async function targetFor(scope: SecretsScope, name: string, policy: SecretPolicy | undefined, opts: RotateOptions = {}): Promise<RotationTarget | undefined> {
  const own = await configuredTarget(scope, name, policy);
  if (opts.restart === false || (own && policy?.rotate?.runbook)) return own;
  // The app of the environment uses the secret too (shared/.env): restart it with the new value.
  const { appTargetFor } = await import('./app-target.js');
  const app = await appTargetFor(scope, name);
  if (!app) return own;
  if (!own) return app;
  return {
    description: `${own.description}, then ${app.description}`,
    set: async (value, known, stage) => {
      await own.set(value, known, stage);
      await app.set(value, known, stage);
    },
    test: async (value) => {
      await own.test(value);
      await app.test(value);
    },
    revert: async (value, known) => {
      await own.revert(value, known);
      await app.revert(value, known);
    },
  };
}

async function configuredTarget(scope: SecretsScope, name: string, policy: SecretPolicy | undefined): Promise<RotationTarget | undefined> {
  const rotate = policy?.rotate;
  if (rotate?.postgres && rotate.runbook) {
    throw new ConfigError(`secret ${name} in ${scope.configFile} has both rotate.postgres and rotate.runbook`, { hint: 'keep one; a runbook can do both' });
  }
  if (rotate?.postgres) {
    const pgCfg = rotate.postgres;
    const { PostgresTarget, loginFromUrl } = await import('./postgres.js');
    const readAdmin = async (secret: string, purpose: string) =>
      (await audited(scope, { action: 'secret.read', secret, details: { purpose } }, () => scope.backend.getValue(secret, { stage: 'current' }), (v) => v.versionId)).value;
    const t = new PostgresTarget(pgCfg, async () => {
      if (pgCfg.url_secret) {
        const login = loginFromUrl(await readAdmin(pgCfg.url_secret, `admin url for rotating ${name}`), pgCfg);
        // The URL is masked in all its forms; its decoded password is one more.
        scope.ctx.masker.add(login.password);
        return { kind: 'admin', login };
      }
      if (pgCfg.admin_user) {
        if (!pgCfg.admin_password_secret) {
          throw new ConfigError(`rotate.postgres.admin_user of ${name} needs admin_password_secret`, { hint: 'name the secret that holds the admin password' });
        }
        const password = await readAdmin(pgCfg.admin_password_secret, `admin password for rotating ${name}`);
        return { kind: 'admin', login: { user: pgCfg.admin_user, password, host: pgCfg.host, port: pgCfg.port, database: pgCfg.database, ssl: pgCfg.ssl } };
      }
      return { kind: 'self' };
    });
    return {
      description: t.description,
      set: (value, known) => t.set(value, known),
      test: (value) => t.test(value),
      revert: (value, known) => t.set(value, known),
    };
  }
  if (rotate?.runbook) {
    const ref = rotate.runbook;
    const extra = rotate.inputs ?? {};
    const run = async (phase: 'set' | 'rollback' | 'test' | 'revert') => {
      const { runRunbook } = await import('../runbook/api.js');
      // Putting the current value back runs even after the Ctrl-C that caused it (its own signal;
      // a second Ctrl-C still ends ltc at once): cut short, it would leave the pending value in use.
      const signal = phase === 'revert' ? new AbortController().signal : scope.ctx.signal;
      await runRunbook(ref, { ...extra, secret: name, environment: scope.environment, phase }, { ...scope.ctx, signal, options: { ...scope.ctx.options, dryRun: false } });
    };
    return {
      description: `runbook ${ref}`,
      set: (_value, _known, stage) => run(stage === 'previous' ? 'rollback' : 'set'),
      test: () => run('test'),
      revert: () => run('revert'),
    };
  }
  return undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function rotateSecret(scope: SecretsScope, name: string, opts: RotateOptions = {}): Promise<RotationResult> {
  const { backend, ctx, environment } = scope;
  const policy = scope.policy(name);
  const target = await targetFor(scope, name, policy, opts);
  const file = journalPath(scope.stateDir, environment, name);

  if (ctx.options.dryRun) {
    const desc = await backend.describe(name);
    const journal = readJournal(file);
    const current = versionWith(desc, 'current');
    const pending = versionWith(desc, 'pending');
    const plan = [
      `dry run: rotation of ${name} (${environment}, ${backend.location})`,
      journal || pending ? `  resume the unfinished rotation${journal ? ` (journal phase ${journal.phase}, token ${journal.token})` : ''}${pending ? ` with pending version ${pending.id}` : ''}` : '',
      `  1 create  ${pending ? `reuse pending version ${pending.id}` : `generate a new value and store it as pending`}`,
      `  2 set     ${target ? `put it into ${target.description}` : 'nothing uses it (no rotate.postgres or rotate.runbook configured)'}`,
      `  3 test    ${target ? `try it on ${target.description}` : 'nothing to test'}`,
      `  4 finish  pending becomes current; version ${current?.id ?? '-'} becomes previous`,
    ].filter(Boolean);
    return { dryRun: true, plan, resumed: !!(journal || pending), target: target?.description };
  }

  return withLock(`${file}.lock`, `rotation of ${name} (${environment})`, async () => {
    const desc = await backend.describe(name);
    const current = versionWith(desc, 'current');
    if (!current) throw new UsageError(`${name} has no current version to rotate`, { hint: `create one with \`ltc secrets generate ${name}\`` });
    let journal = readJournal(file);
    const pending = versionWith(desc, 'pending');

    // Killed after finish but before the journal was removed: nothing left to do.
    if (journal && journal.versionId && journal.versionId === current.id && !pending) {
      await rm(file, { force: true });
      await scope.audit({ action: 'secret.rotate', outcome: 'ok', secret: name, version: current.id, details: { resumed: true, note: 'had finished before the interruption' } });
      return { dryRun: false, plan: [], resumed: true, current: current.id, previous: versionWith(desc, 'previous')?.id, target: target?.description, token: journal.token };
    }

    // What an undo needs is read before anything is written: a rotation that cannot read the
    // store (wrong key, no access) leaves no journal and nothing to resume.
    const read = (versionId: string, purpose: string) =>
      audited(scope, { action: 'secret.read', secret: name, details: { purpose } }, () => backend.getValue(name, { versionId }), (v) => v.versionId).then((v) => v.value);
    const currentValue = await read(current.id, 'rotation: current value (to put back on failure)');
    const previous = versionWith(desc, 'previous');
    const previousValue = previous && target ? await read(previous.id, 'rotation: previous value (to log in with)') : undefined;

    const resumed = !!(journal || pending);
    // The journal's token names its pending version; once that version is gone (an undo killed
    // before it removed the journal) the token is spent: AWS refuses a token for a second value.
    const tokenLive = !!journal && (!journal.versionId || journal.versionId === pending?.id);
    const token = (tokenLive ? journal!.token : undefined) ?? pending?.token ?? randomUUID();
    const now = new Date().toISOString();
    journal = {
      secret: name,
      environment,
      token,
      phase: journal?.phase ?? 'started',
      ...(pending ? { versionId: pending.id } : {}),
      fromVersion: journal?.fromVersion ?? current.id,
      target: target?.description ?? 'none',
      started: journal?.started ?? now,
      updated: now,
      pid: process.pid,
    };
    const save = async (phase: RotationPhase, versionId?: string) => {
      journal!.phase = phase;
      if (versionId) journal!.versionId = versionId;
      journal!.updated = new Date().toISOString();
      journal!.pid = process.pid;
      await writeFileAtomic(file, JSON.stringify(journal, null, 2) + '\n', 0o600);
    };
    // A target may already hold the pending value when an earlier run got as far as `set`.
    let targetTouched = resumed && ORDER.indexOf(journal.phase) >= ORDER.indexOf('created');
    const touchedBefore = targetTouched;
    await save(journal.phase);
    await scope.audit({ action: 'secret.rotate', outcome: 'started', secret: name, version: current.id, details: { token, resumed, target: journal.target, ...(resumed ? { resumedFrom: journal.phase } : {}) } });

    let pendingValue: string | undefined;
    let pendingId = pending?.id;
    // The same value under a new version id when the backend had to move it (Vault's max_versions window).
    let currentId = current.id;

    let at = 'create' as 'create' | 'set' | 'test' | 'finish';
    const step = <T>(phase: 'create' | 'set' | 'test' | 'finish', fn: () => Promise<T>): Promise<T> => {
      at = phase;
      return audited(scope, { action: `secret.rotate.${phase}`, secret: name, details: { token, ...(target ? { target: target.description } : {}) } }, fn, () => pendingId);
    };

    try {
      // 1. createSecret
      await step('create', async () => {
        if (pendingId) {
          pendingValue = await read(pendingId, 'rotation: pending value');
          return;
        }
        const generated = generateSecret(name, policy);
        scope.ctx.masker.add(generated.value);
        const r = await backend.createPending(name, generated.value, token);
        if (r.current) currentId = r.current;
        pendingId = r.versionId;
        pendingValue = r.created ? generated.value : await read(r.versionId, 'rotation: pending value');
      });
      await save('created', pendingId);
      killPoint(scope, 'created');
      const newValue = pendingValue!;
      const known = [currentValue, ...(previousValue ? [previousValue] : [])];

      // 2. setSecret
      if (target) {
        targetTouched = true;
        await step('set', () => target.set(newValue, known, 'pending'));
      }
      await save('set');
      killPoint(scope, 'set');

      // 3. testSecret
      if (target) await step('test', () => target.test(newValue));
      await save('tested');
      killPoint(scope, 'tested');

      // 4. finishSecret
      await step('finish', () => backend.promote(name, pendingId!));
      await rm(file, { force: true });
    } catch (err) {
      const failedAt = at;
      const reason = errorText(err);
      // `set` failed before it changed anything, and no earlier run got that far: nothing to put back.
      if (failedAt === 'set' && !touchedBefore && err instanceof NotAppliedError) targetTouched = false;
      try {
        if (target && targetTouched) await target.revert(currentValue, [...(pendingValue ? [pendingValue] : []), currentValue, ...(previousValue ? [previousValue] : [])]);
        await backend.discardPending(name);
        await rm(file, { force: true });
        await scope.audit({ action: 'secret.rotate.undo', outcome: 'ok', secret: name, version: current.id, details: { token, failedAt, ...(pendingId ? { discarded: pendingId } : {}) } });
      } catch (undoErr) {
        await scope.audit({ action: 'secret.rotate.undo', outcome: 'failed', secret: name, version: current.id, details: { token, failedAt, message: errorText(undoErr) } }).catch(() => undefined);
        throw new RollbackFailedError(`rotation of ${name} failed at ${failedAt} (${reason}), and undoing it failed too: ${errorText(undoErr)}`, {
          hint: `the journal ${file} is kept: fix the cause and run \`ltc secrets rotate ${name}\` again to finish or undo it`,
          cause: undoErr,
        });
      }
      await scope.audit({ action: 'secret.rotate', outcome: 'failed', secret: name, version: current.id, details: { token, failedAt } });
      const undone = `version ${currentId} is still current${target && targetTouched ? ` and was put back into ${target.description}` : ''}; the pending version was removed`;
      if (err instanceof LtcError && err.exitCode === 130) {
        throw new InterruptedError(`rotation of ${name} interrupted at ${failedAt}: ${reason}`, { hint: undone, cause: err });
      }
      const cause = err instanceof LtcError && err.hint ? `. ${err.hint}` : '';
      throw new CheckFailedError(`rotation of ${name} failed at ${failedAt}: ${reason}`, { hint: undone + cause, cause: err });
    }
    await scope.audit({ action: 'secret.rotate', outcome: 'ok', secret: name, version: pendingId, details: { token, resumed, previous: currentId } });
    return { dryRun: false, plan: [], resumed, current: pendingId, previous: currentId, target: target?.description, token };
  }, 0);
}

export interface RollbackResult {
  current: string;
  previous: string;
  applied?: string;
}

/** previous becomes current again — first where it is used (when a target is configured), then in the backend. */
export async function rollbackSecret(scope: SecretsScope, name: string, opts: RotateOptions = {}): Promise<RollbackResult> {
  const { backend, ctx } = scope;
  const desc: SecretDescription = await backend.describe(name);
  const pending = versionWith(desc, 'pending');
  const journal = readJournal(journalPath(scope.stateDir, scope.environment, name));
  if (pending || journal) {
    // A rotation killed after its finish step still has a journal (its token would turn a later
    // rotation into a replay of the version rolled back from): the next rotate clears it.
    const what = pending ? `pending version ${pending.id}` : `journal phase ${journal!.phase}`;
    throw new UsageError(`${name} has an unfinished rotation (${what})`, { hint: `finish or undo it first: \`ltc secrets rotate ${name}\`` });
  }
  const prev = versionWith(desc, 'previous');
  const cur = versionWith(desc, 'current');
  if (!prev || !cur) {
    throw new UsageError(`secret "${name}" has no previous version to roll back to`, { hint: `see its versions with \`ltc secrets get ${name}\`` });
  }
  const target = await targetFor(scope, name, scope.policy(name), opts);
  if (ctx.options.dryRun) {
    return { current: prev.id, previous: cur.id, applied: `dry run: nothing changed${target ? `; would put version ${prev.id} into ${target.description}` : ''}` };
  }
  return withLock(`${journalPath(scope.stateDir, scope.environment, name)}.lock`, `rotation of ${name} (${scope.environment})`, async () => {
    let applied: string | undefined;
    if (target) {
      const read = (versionId: string) =>
        audited(scope, { action: 'secret.read', secret: name, details: { purpose: 'rollback' } }, () => backend.getValue(name, { versionId }), (v) => v.versionId).then((v) => v.value);
      const prevValue = await read(prev.id);
      const curValue = await read(cur.id);
      try {
        await audited(scope, { action: 'secret.rollback.set', secret: name, version: prev.id, details: { target: target.description } }, async () => {
          await target.set(prevValue, [curValue, prevValue], 'previous');
          await target.test(prevValue);
        });
      } catch (err) {
        // The revert runs with its own signal (see targetFor), so a Ctrl-C during set/test does
        // not cut it short: the current value is back where it is used before ltc exits 130.
        const revertErr = await target.revert(curValue, [prevValue, curValue]).then(() => undefined, (e: unknown) => e ?? new Error('revert failed'));
        const hint = revertErr === undefined
          ? `version ${cur.id} stays current and was put back into ${target.description}`
          : `version ${cur.id} stays current in the store, but putting it back into ${target.description} failed too (${errorText(revertErr)}): check what it holds now`;
        if ((err instanceof LtcError && err.exitCode === 130) || ctx.signal.aborted) {
          throw new InterruptedError(`rollback of ${name} interrupted while putting version ${prev.id} into ${target.description}: ${errorText(err)}`, { hint, cause: err });
        }
        throw new CheckFailedError(`rollback of ${name} failed while putting version ${prev.id} into ${target.description}: ${errorText(err)}`, { hint, cause: err });
      }
      applied = `put into ${target.description}`;
    }
    const r = await audited(scope, { action: 'secret.rollback', secret: name, details: { from: cur.id } }, () => backend.rollback(name), (x) => x.current);
    return { ...r, ...(applied ? { applied } : {}) };
  }, 0);
}
