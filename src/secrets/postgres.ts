/**
 * Puts a database password where it is used: `ALTER ROLE … PASSWORD` on PostgreSQL through the
 * `pg` package, and tests it by logging in. ALTER ROLE takes no bind parameters, so the role is
 * quoted with escapeIdentifier and the password is sent as a SCRAM-SHA-256 verifier computed here
 * (quoted with escapeLiteral): the plain password never reaches the server or its statement log.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { Client as PgClient, ClientConfig } from 'pg';
import { CheckFailedError, ConfigError } from '../core/errors.js';
import type { PostgresRotation } from '../config/schema/secrets.js';
import { NotAppliedError } from './backend.js';

type Pg = typeof import('pg');

const SCRAM_ITERATIONS = 4096;

/** The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (what `\password` in psql sends). */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const salted = pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

export interface PgLogin {
  user: string;
  password: string;
  host: string;
  port: number;
  database: string;
  ssl: boolean;
}

/** How `set` connects: as an admin (from secrets) or, by default, as the role itself. */
export type AdminLogin = { kind: 'admin'; login: PgLogin } | { kind: 'self' };

function where(l: Pick<PgLogin, 'host' | 'port' | 'database'>): string {
  return `${l.host}:${l.port}/${l.database}`;
}

export function pgErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Wrong password / role may not log in. */
export function isAuthFailure(err: unknown): boolean {
  const code = pgErrorCode(err);
  return code === '28P01' || code === '28000';
}

async function connect(login: PgLogin): Promise<PgClient> {
  const pg = ((await import('pg')) as unknown as { default: Pg }).default;
  const config: ClientConfig = {
    host: login.host,
    port: login.port,
    user: login.user,
    password: login.password,
    database: login.database,
    connectionTimeoutMillis: 10_000,
    ...(login.ssl ? { ssl: { rejectUnauthorized: true } } : {}),
  };
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

function describeError(err: unknown): string {
  const code = pgErrorCode(err);
  const msg = err instanceof Error ? err.message : String(err);
  return code ? `${msg} (${code})` : msg;
}

export function loginFromUrl(url: string, fallback: PostgresRotation): PgLogin {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('the admin URL secret is not a valid postgres:// URL', { hint: 'store it as postgres://user:password@host:port/database' });
  }
  if (!/^postgres(ql)?:$/.test(u.protocol)) throw new ConfigError('the admin URL secret is not a postgres:// URL', { hint: 'store it as postgres://user:password@host:port/database' });
  return {
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    host: u.hostname || fallback.host,
    port: u.port ? Number(u.port) : fallback.port,
    database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : fallback.database,
    ssl: fallback.ssl,
  };
}

export class PostgresTarget {
  constructor(
    private readonly cfg: PostgresRotation,
    private readonly admin: () => Promise<AdminLogin>,
  ) {}

  get description(): string {
    return `PostgreSQL role ${this.cfg.role} at ${where(this.cfg)}`;
  }

  private roleLogin(password: string): PgLogin {
    return { user: this.cfg.role, password, host: this.cfg.host, port: this.cfg.port, database: this.cfg.database, ssl: this.cfg.ssl };
  }

  /**
   * Sets the role's password to `value`. Connecting as the role itself, the password it has now
   * is either `known[0]` or (after an interrupted rotation) one of the others: each is tried.
   */
  async set(value: string, known: readonly string[]): Promise<void> {
    const admin = await this.admin();
    let client: PgClient | undefined;
    let lastErr: unknown;
    const logins = admin.kind === 'admin' ? [admin.login] : [...known, value].map((p) => this.roleLogin(p));
    for (const login of logins) {
      try {
        client = await connect(login);
        break;
      } catch (err) {
        lastErr = err;
        if (!isAuthFailure(err)) break;
      }
    }
    if (!client) {
      const who = admin.kind === 'admin' ? `admin ${admin.login.user}` : `role ${this.cfg.role} (with the current, pending and previous password)`;
      // Nothing reached the database: the password is unchanged.
      throw new NotAppliedError(`cannot connect to PostgreSQL at ${where(this.cfg)} as ${who}: ${describeError(lastErr)}`, {
        hint: isAuthFailure(lastErr)
          ? 'the stored password does not match the database: set rotate.postgres.admin_user and admin_password_secret (or url_secret) so ltc can reset it'
          : 'check host, port and database under rotate.postgres and that PostgreSQL is up',
        cause: lastErr,
      });
    }
    try {
      const sql = `ALTER ROLE ${client.escapeIdentifier(this.cfg.role)} PASSWORD ${client.escapeLiteral(scramVerifier(value))}`;
      await client.query(sql);
    } catch (err) {
      // The server refused the statement (an SQLSTATE): the password is unchanged. Without one
      // (the connection dropped) nobody knows, and the caller puts the old password back.
      const Failure = pgErrorCode(err) ? NotAppliedError : CheckFailedError;
      throw new Failure(`ALTER ROLE ${this.cfg.role} PASSWORD failed on ${where(this.cfg)}: ${describeError(err)}`, {
        hint: pgErrorCode(err) === '42501' ? 'the connecting role may not change this password: configure an admin_user' : 'check the role exists',
        cause: err,
      });
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Logs in as the role with `value` and runs a query. */
  async test(value: string): Promise<void> {
    let client: PgClient;
    try {
      client = await connect(this.roleLogin(value));
    } catch (err) {
      throw new CheckFailedError(`logging in to PostgreSQL at ${where(this.cfg)} as ${this.cfg.role} with the new password failed: ${describeError(err)}`, {
        hint: pgErrorCode(err) === '28000' ? `the role may not log in (ALTER ROLE ${this.cfg.role} LOGIN) or pg_hba.conf rejects it` : 'check pg_hba.conf allows password logins for this role',
        cause: err,
      });
    }
    try {
      const r = await client.query<{ user: string }>('SELECT current_user AS user');
      if (r.rows[0]?.user !== this.cfg.role) throw new CheckFailedError(`logged in, but as ${r.rows[0]?.user ?? 'nobody'} instead of ${this.cfg.role}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
