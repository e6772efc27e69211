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

/** A file or folder ltc needs cannot be read or written (permissions, a full or read-only disk). Exit 1. */
export class FileAccessError extends LtcError {
  constructor(message: string, opts?: ErrorOptions) {
    super('file_access', ExitCode.checkFailed, message, opts);
  }
}

const FILE_ERRORS: Readonly<Record<string, { what: string; hint: (path: string) => string }>> = {
  EACCES: { what: 'permission denied', hint: (p) => `ltc runs as ${whoRuns()}: give it access (ls -ld ${parentOf(p)} ${p}), or run ltc as the user that owns it` },
  EPERM: { what: 'operation not permitted', hint: (p) => `ltc runs as ${whoRuns()}: check the owner and the attributes of ${p} (ls -ld, lsattr -d)` },
  EROFS: { what: 'the file system is read-only', hint: () => 'remount it writable, or point ltc at a writable place' },
  ENOSPC: { what: 'no space left on the device', hint: (p) => `free space where ${p} is (df -h ${p})` },
  EDQUOT: { what: 'the disk quota is used up', hint: (p) => `free space in your quota where ${p} is` },
  EISDIR: { what: 'it is a folder where a file was expected', hint: (p) => `move the folder ${p} away` },
  ENOTDIR: { what: 'a part of the path is a file where a folder was expected', hint: (p) => `check each part of ${p}` },
  EIO: { what: 'an I/O error (a failing disk or a lost network mount)', hint: (p) => `check the disk or the mount that holds ${p} (dmesg)` },
  ELOOP: { what: 'too many levels of symbolic links', hint: (p) => `a symlink in ${p} points at itself` },
};

const parentOf = (p: string): string => process.getBuiltinModule('node:path').dirname(p);

function whoRuns(): string {
  try {
    return process.getBuiltinModule('node:os').userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

const SYSCALL_VERBS: Readonly<Record<string, string>> = {
  open: 'open',
  read: 'read',
  write: 'write',
  scandir: 'list the folder',
  readlink: 'read the link',
  mkdir: 'create the folder',
  rmdir: 'remove the folder',
  unlink: 'remove',
  rm: 'remove',
  rename: 'rename',
  link: 'link',
  symlink: 'create the link',
  stat: 'look at',
  lstat: 'look at',
  access: 'access',
  copyfile: 'copy',
  chmod: 'change the mode of',
  fsync: 'flush',
  utime: 'touch',
};

/** A Node file-system error (code, syscall, path) that escaped as what it is, with the path and what to do. */
function fileAccessError(err: NodeJS.ErrnoException): FileAccessError | undefined {
  const known = err.code ? FILE_ERRORS[err.code] : undefined;
  if (!known || typeof err.path !== 'string') return undefined;
  const verb = (err.syscall && SYSCALL_VERBS[err.syscall]) ?? 'use';
  return new FileAccessError(`cannot ${verb} ${err.path}: ${known.what} (${err.code})`, { hint: known.hint(err.path), cause: err });
}

/** What to do about a file-system error (EACCES: who ltc runs as and what to check, …), when it is one. */
export function fileErrorHint(err: unknown, path?: string): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as NodeJS.ErrnoException;
  // A read error (EISDIR from readFileSync) names no path: the caller knows it.
  const where = e.path ?? path;
  return e.code && where !== undefined ? FILE_ERRORS[e.code]?.hint(where) : undefined;
}

export function toLtcError(err: unknown): LtcError {
  if (err instanceof LtcError) return err;
  const access = err instanceof Error ? fileAccessError(err as NodeJS.ErrnoException) : undefined;
  if (access) return access;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(message, { cause: err });
}

export const EXIT_CODE_TABLE: ReadonlyArray<{ code: number; meaning: string }> = [
  { code: 0, meaning: 'ok' },
  { code: 1, meaning: 'a check failed (health, gate, verification, scan findings); a file ltc needs cannot be read or written; also an internal error' },
  { code: 2, meaning: 'usage or config error; nothing changed' },
  { code: 3, meaning: 'deploy failed and was rolled back' },
  { code: 4, meaning: 'deploy failed and the rollback failed too' },
  { code: 5, meaning: 'locked by another operation' },
  { code: 130, meaning: 'interrupted (Ctrl-C / SIGTERM)' },
];
