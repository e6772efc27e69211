/**
 * Secret values from node:crypto's CSPRNG, and the policy checks `set`, `generate` and `verify`
 * share. Nothing here prints or logs a value.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { UsageError } from '../core/errors.js';
import { MIN_LENGTH as MIN_MASKABLE_LENGTH } from '../core/masker.js';
import type { SecretPolicy } from '../config/schema/secrets.js';

export type SecretKind = NonNullable<SecretPolicy['kind']>;

export const DEFAULT_KEY_BYTES = 48;
export const MIN_KEY_BYTES = 32;
export const DEFAULT_PASSWORD_LENGTH = 32;
export const MIN_PASSWORD_LENGTH = 16;
export const DEFAULT_TOKEN_BYTES = 32;

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
/**
 * Symbols safe unquoted in a postgres:// URL's password, an .env file and a shell word:
 * no `/ @ " ' \` (the handbook's rule), no `: ? # % [ ]` (URL delimiters), no `$ & ; | < > ( ) { } ` and no space.
 */
export const PASSWORD_SYMBOLS = '!*+,-.=^_~';
export const FORBIDDEN_IN_PASSWORDS = ['/', '@', '"', "'", '\\'];

/** How a secret's kind is decided: its policy, else its name. */
export function kindOf(name: string, policy: SecretPolicy | undefined): SecretKind {
  if (policy?.kind) return policy.kind;
  if (name === 'LTC_SECRET_KEY' || /(^|_)(SECRET_KEY|MASTER_KEY|SIGNING_KEY)$/.test(name)) return 'secret_key';
  if (/PASSWORD|PASSWD|(^|_)PASS$/.test(name)) return 'password';
  if (/TOKEN|API_KEY/.test(name)) return 'token';
  return 'string';
}

export interface GenerateOptions {
  bytes?: number;
  length?: number;
}

export interface Generated {
  value: string;
  kind: SecretKind;
  /** e.g. "48 random bytes, base64url" — never the value. */
  description: string;
}

function pick(alphabet: string): string {
  return alphabet[randomInt(alphabet.length)]!;
}

/** A password of `length` with at least one upper, lower, digit and symbol, uniformly drawn. */
export function generatePassword(length: number): string {
  if (!Number.isInteger(length) || length < MIN_PASSWORD_LENGTH) {
    throw new UsageError(`a password of ${length} characters is too short`, { hint: `use --length ${MIN_PASSWORD_LENGTH} or more (default ${DEFAULT_PASSWORD_LENGTH})` });
  }
  const all = UPPER + LOWER + DIGITS + PASSWORD_SYMBOLS;
  const chars = [pick(UPPER), pick(LOWER), pick(DIGITS), pick(PASSWORD_SYMBOLS)];
  while (chars.length < length) chars.push(pick(all));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

/** More random bytes (or password characters) than any key, token or password needs; larger values are refused. */
export const MAX_GENERATED = 1024;

export function generateSecret(name: string, policy: SecretPolicy | undefined, opts: GenerateOptions = {}): Generated {
  const kind = kindOf(name, policy);
  for (const [flag, n] of [['--bytes', opts.bytes], ['--length', opts.length]] as const) {
    if (n !== undefined && !(Number.isSafeInteger(n) && n <= MAX_GENERATED)) {
      throw new UsageError(`${flag} ${n} is more than ${MAX_GENERATED}`, { hint: `use ${flag} ${MAX_GENERATED} or less (the default is enough for ${name}); nothing was changed` });
    }
  }
  switch (kind) {
    case 'secret_key': {
      const min = Math.max(MIN_KEY_BYTES, policy?.min_bytes ?? MIN_KEY_BYTES);
      const bytes = opts.bytes ?? Math.max(DEFAULT_KEY_BYTES, min);
      if (!Number.isInteger(bytes) || bytes < min) {
        throw new UsageError(`${name} needs at least ${min} random bytes; --bytes ${opts.bytes} is too few`, {
          hint: `use --bytes ${min} or more (default ${DEFAULT_KEY_BYTES}); nothing was changed`,
        });
      }
      if (opts.length !== undefined) throw new UsageError(`--length is for passwords; ${name} is a secret key`, { hint: 'use --bytes' });
      return { value: randomBytes(bytes).toString('base64url'), kind, description: `${bytes} random bytes, base64url` };
    }
    case 'password': {
      const length = opts.length ?? Math.max(DEFAULT_PASSWORD_LENGTH, policy?.length ?? 0);
      if (policy?.length !== undefined && length < policy.length) {
        throw new UsageError(`${name} must be at least ${policy.length} characters (its policy); --length ${length} is too short`, {
          hint: `use --length ${policy.length} or more`,
        });
      }
      if (opts.bytes !== undefined) throw new UsageError(`--bytes is for keys and tokens; ${name} is a password`, { hint: 'use --length' });
      return { value: generatePassword(length), kind, description: `${length}-character password (upper, lower, digits, symbols ${PASSWORD_SYMBOLS})` };
    }
    case 'token':
    case 'string': {
      const bytes = opts.bytes ?? Math.max(DEFAULT_TOKEN_BYTES, policy?.min_bytes ?? 0);
      if (!Number.isInteger(bytes) || bytes < 16) throw new UsageError(`--bytes ${opts.bytes} is too few for a token`, { hint: 'use 16 or more (default 32)' });
      return { value: randomBytes(bytes).toString('base64url'), kind, description: `${bytes} random bytes, base64url` };
    }
  }
}

/** Bytes of entropy carried by a secret key value: base64/base64url/hex decoded, else its UTF-8 length. */
export function keyBytes(value: string): number {
  if (/^[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0 && value.length >= 64) return value.length / 2;
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').length;
  return Buffer.byteLength(value, 'utf8');
}

/** Why a value does not meet its policy (empty when it does). Never includes the value. */
export function policyProblems(name: string, value: string, policy: SecretPolicy | undefined): string[] {
  const problems: string[] = [];
  if (value.length === 0) return ['it is empty'];
  if (value.length < MIN_MASKABLE_LENGTH) {
    return [`it has ${value.length} character${value.length === 1 ? '' : 's'}: a value shorter than ${MIN_MASKABLE_LENGTH} cannot be masked in output, so it would be printed in the clear`];
  }
  const kind = kindOf(name, policy);
  if (kind === 'secret_key') {
    const min = Math.max(MIN_KEY_BYTES, policy?.min_bytes ?? MIN_KEY_BYTES);
    const bytes = keyBytes(value);
    if (bytes < min) problems.push(`it carries ${bytes} bytes; at least ${min} are required`);
  }
  if (kind === 'password') {
    const min = policy?.length ?? MIN_PASSWORD_LENGTH;
    if (value.length < min) problems.push(`it has ${value.length} characters; at least ${min} are required`);
    const bad = FORBIDDEN_IN_PASSWORDS.filter((c) => value.includes(c));
    if (bad.length) problems.push(`it contains ${bad.map((c) => JSON.stringify(c)).join(' ')}, which break URLs and env files`);
  }
  if (kind === 'token' && value.length < 16) problems.push(`it has ${value.length} characters; at least 16 are expected`);
  if (/[\r\n]/.test(value)) problems.push('it contains a line break');
  return problems;
}
