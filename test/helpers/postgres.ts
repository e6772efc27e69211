/**
 * A real PostgreSQL (Debian's `postgresql` package) for tests: a fresh cluster in a temp dir,
 * listening on a free loopback port, password logins (scram-sha-256) over TCP.
 *
 * PostgreSQL refuses to run as root: when the tests run as root (CI), the data dir is given to
 * the `postgres` user and initdb/pg_ctl run through `runuser -u postgres --`. When the server
 * binaries are missing, startPostgres() throws naming the Debian package: the test fails.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from './cli.js';

export interface PostgresServer {
  host: string;
  port: number;
  /** The superuser. */
  user: string;
  password: string;
  /** The cluster's folder (data, socket, log). */
  dir: string;
  /** Runs SQL as the superuser (through psql over TCP); returns stdout. */
  sql(statement: string, database?: string): Promise<string>;
  close(): Promise<void>;
}

const PG_ROOT = '/usr/lib/postgresql';

/** The bin folder of the newest installed PostgreSQL server, or an error naming the package. */
export function postgresBin(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT)
        .filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'initdb')) && existsSync(join(PG_ROOT, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      `PostgreSQL server binaries not found (${PG_ROOT}/<version>/bin/initdb): install the Debian package "postgresql" (apt-get install -y postgresql)`,
    );
  }
  return join(PG_ROOT, versions[0]!, 'bin');
}

function run(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env: opts.env ?? process.env, cwd: opts.cwd, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
    // A process that exits without reading its stdin must not fail the test with EPIPE (its exit code tells).
    child.stdin?.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

function idOf(flag: '-u' | '-g', user: string): Promise<number> {
  return run('id', [flag, user]).then((s) => Number(s.trim()));
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin();
  const asRoot = process.getuid?.() === 0;
  if (asRoot && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) {
    throw new Error('runuser not found: install the Debian package "util-linux" (PostgreSQL cannot run as root)');
  }
  const dir = await mkdtemp(join(tmpdir(), 'ltc-pg-'));
  const data = join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pw');
  await writeFile(pwfile, password + '\n', { mode: 0o600 });
  if (asRoot) {
    const [uid, gid] = await Promise.all([idOf('-u', 'postgres'), idOf('-g', 'postgres')]);
    await chown(dir, uid, gid);
    await chown(pwfile, uid, gid);
  }
  // Through runuser when root; `--` keeps the command's own flags away from runuser.
  const as = (file: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args], { cwd: dir }) : run(file, args, { cwd: dir }));
  await as(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--no-locale', '--no-sync', '--no-instructions']);
  const port = await freePort();
  await as(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  const psql = join(bin, 'psql');
  let closed = false;
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    dir,
    // The statement goes in on stdin (it may hold a password: never in argv, where `ps` shows it);
    // the superuser's password in the environment.
    sql: (statement, database = 'postgres') =>
      run(psql, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-f', '-'], {
        env: { ...process.env, PGPASSWORD: password },
        input: statement,
      }),
    async close() {
      if (closed) return;
      closed = true;
      await as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
