/** Exit codes, exactly as the README's table. */
export const ExitCode = {
  ok: 0,
  checkFailed: 1,
  usage: 2,
  rolledBack: 3,
  rollbackFailed: 4,
  locked: 5,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorOptions {
  hint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** Base of every error ltc reports on purpose: a code, an exit code and an optional hint. */
export class LtcError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: string, exitCode: ExitCodeValue, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = opts.hint;
    this.details = opts.details;
  }
}

/** Wrong flags, arguments or input values. Nothing was changed. Exit 2. */
export class UsageError extends LtcError {
  constructor(message: string, opts?: ErrorOptions) {
    super('usage', ExitCode.usage, message, opts);
  }
}

/** A config file or runbook that does not parse or validate. Nothing was changed. Exit 2. */
export class ConfigError extends LtcError {
  constructor(message: string, opts?: ErrorOptions) {
    super('config', ExitCode.usage, message, opts);
  }
}

/** A check ran and failed (health, gate, verification). Exit 1. */
export class CheckFailedError extends LtcError {
  constructor(message: string, opts?: ErrorOptions) {
    super('check_failed', ExitCode.checkFailed, message, opts);
  }
}

/** A deploy failed after the switch and was rolled back. Exit 3. */
export class RolledBackError extends LtcError {
  constructor(message: string, opts?: ErrorOptions) {
    super('rolled_back', ExitCode.rolledBack, message, opts);
  }
}

/** A deploy failed and so did its rollback. Exit 4. */
export class RollbackFailedError extends LtcError {
  constructor(message: string, opts?: ErrorOptions) {
    super('rollback_failed', ExitCode.rollbackFailed, message, opts);
  }
}

/** Another operation holds the lock. Exit 5. */
export class LockedError extends LtcError {
  constructor(message: string, opts?: ErrorOptions) {
    super('locked', ExitCode.locked, message, opts);
  }
}

/** Ctrl-C or SIGTERM. Exit 130. */
export class InterruptedError extends LtcError {
  constructor(message = 'interrupted', opts?: ErrorOptions) {
    super('interrupted', ExitCode.interrupted, message, opts);
  }
}

/** A bug in ltc. Exit 1, with how to report it. */
export class InternalError extends LtcError {
  constructor(message: string, opts?: ErrorOptions) {
    super('internal', ExitCode.checkFailed, message, {
      hint: 'this is a bug in ltc: run again with --debug and report the output',
      ...opts,
    });
  }
}

export function toLtcError(err: unknown): LtcError {
  if (err instanceof LtcError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(message, { cause: err });
}

export const EXIT_CODE_TABLE: ReadonlyArray<{ code: number; meaning: string }> = [
  { code: 0, meaning: 'ok' },
  { code: 1, meaning: 'a check failed (health, gate, verification, scan findings); also an internal error' },
  { code: 2, meaning: 'usage or config error; nothing changed' },
  { code: 3, meaning: 'deploy failed and was rolled back' },
  { code: 4, meaning: 'deploy failed and the rollback failed too' },
  { code: 5, meaning: 'locked by another operation' },
  { code: 130, meaning: 'interrupted (Ctrl-C / SIGTERM)' },
];
