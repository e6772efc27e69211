/**
 * A real OpenSSH server on loopback, run as the current user: /usr/sbin/sshd -D on
 * 127.0.0.1:<free port> with its own host key, a user key and an authorized_keys file in `dir`.
 * `ltc demo --hosts`, the fleet benchmarks and the tests use it as a "host".
 *
 * Sessions get their own empty home (`dir/home`), as a deploy user on a server has: otherwise
 * every session would run this machine's user's ~/.bashrc (bash sources it for ssh commands),
 * which here starts pyenv and costs about 75 ms per command.
 */
import { processes, type ChildProcess } from '../exec/process.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { CheckFailedError } from '../core/errors.js';
import { freeLoopbackPort } from '../core/net.js';

export interface LabSshd {
  port: number;
  dir: string;
  user: string;
  /** Private key of the user. */
  identity: string;
  /** known_hosts holding this server's key for [127.0.0.1]:port. */
  knownHosts: string;
  /** A known_hosts with another key for the same address (a changed host key). */
  wrongKnownHosts: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

function keygen(file: string): void {
  if (!existsSync('/usr/bin/ssh-keygen')) throw new CheckFailedError('ssh-keygen is missing', { hint: 'install the Debian package openssh-client' });
  const r = processes.runSync(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', file]);
  if (r.status !== 0) throw new CheckFailedError(`ssh-keygen failed: ${r.stderr}`);
}

export async function waitForPort(port: number, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((res) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => (s.end(), res(true)));
      s.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new CheckFailedError(`${what} did not listen on 127.0.0.1:${port} within ${ms} ms`);
}

const pubKey = (file: string) => readFileSync(file, 'utf8').trim().split(' ').slice(0, 2).join(' ');

export async function startLabSshd(dir: string): Promise<LabSshd> {
  if (!existsSync('/usr/sbin/sshd')) throw new CheckFailedError('/usr/sbin/sshd is missing', { hint: 'install the Debian package openssh-server' });
  // sshd started by root needs its privilege separation folder (the Debian service makes it at boot).
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
  const port = await freeLoopbackPort();
  const user = userInfo().username;
  for (const k of ['host_key', 'user_key', 'other_host_key']) keygen(join(dir, k));
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user_key.pub')));
  await writeFile(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${pubKey(join(dir, 'host_key.pub'))}\n`);
  await writeFile(join(dir, 'wrong_known_hosts'), `[127.0.0.1]:${port} ${pubKey(join(dir, 'other_host_key.pub'))}\n`);
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin prohibit-password',
    `AllowUsers ${user}`,
    'MaxSessions 50',
    'MaxStartups 50:30:100',
    'LogLevel ERROR',
    `SetEnv HOME=${JSON.stringify(home)}`,
  ].join('\n');
  await writeFile(join(dir, 'sshd_config'), config + '\n');
  const proc = processes.start(['/usr/sbin/sshd', '-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  try {
    await waitForPort(port, 5000, 'sshd');
  } catch (e) {
    proc.kill('SIGKILL');
    throw new CheckFailedError(`${(e as Error).message}: ${err}`);
  }
  return {
    port,
    dir,
    user,
    identity: join(dir, 'user_key'),
    knownHosts: join(dir, 'known_hosts'),
    wrongKnownHosts: join(dir, 'wrong_known_hosts'),
    proc,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const done = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await done;
    },
  };
}
