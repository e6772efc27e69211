/**
 * The system OpenSSH client: one multiplexed connection per host (ControlMaster/ControlPersist,
 * socket in a private 0700 folder), BatchMode=yes (never a prompt), host keys checked against
 * known_hosts (strict unless `accept-new` is configured), no user ssh_config (-F /dev/null).
 */
import { processes } from '../exec/process.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckFailedError, ConfigError } from '../core/errors.js';
import type { Masker } from '../core/masker.js';
import { execCommand } from '../exec/exec.js';
import { shCommand, shScript } from './quote.js';

export interface SshEndpoint {
  name: string;
  address: string;
  port: number;
  user: string;
}

export interface SshSettings {
  identityFile?: string;
  knownHosts?: string;
  hostKeyCheck: 'strict' | 'accept-new';
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export interface RemoteResult {
  exitCode: number;
  output: string;
  stdout: string;
}

/** A private folder for the control sockets (mode 0700), removed by `close()`. */
export class SshPool {
  private constructor(
    readonly controlDir: string,
    private readonly settings: SshSettings,
    private readonly masker: Masker,
  ) {}

  static async open(settings: SshSettings, masker: Masker): Promise<SshPool> {
    // Short path: a unix socket path is limited to ~104 bytes.
    const dir = await mkdtemp(join(tmpdir(), 'ltc-ssh-'));
    return new SshPool(dir, settings, masker);
  }

  private readonly used = new Map<string, SshEndpoint>();

  /** ssh options for a host (without the destination). */
  options(h: SshEndpoint): string[] {
    const s = this.settings;
    return [
      '-F', '/dev/null',
      '-o', 'BatchMode=yes',
      '-o', `StrictHostKeyChecking=${s.hostKeyCheck === 'accept-new' ? 'accept-new' : 'yes'}`,
      ...(s.knownHosts ? ['-o', `UserKnownHostsFile=${s.knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null'] : []),
      ...(s.identityFile ? ['-i', s.identityFile, '-o', 'IdentitiesOnly=yes'] : []),
      '-o', `ConnectTimeout=${Math.max(1, Math.round(s.connectTimeoutMs / 1000))}`,
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${join(this.controlDir, '%C')}`,
      '-o', 'ControlPersist=120',
      '-o', 'LogLevel=ERROR',
      '-o', 'ServerAliveInterval=15',
      '-p', String(h.port),
      '-l', h.user,
    ];
  }

  private argv(h: SshEndpoint, remote: string): string[] {
    this.used.set(`${h.user}@${h.address}:${h.port}`, h);
    return ['ssh', ...this.options(h), '--', h.address, remote];
  }

  /** Runs an argument vector on the host (quoted by shCommand); exit 255 → a connection error. */
  async run(h: SshEndpoint, argv: readonly string[], opts: { input?: string; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<RemoteResult> {
    return this.exec(h, shCommand(argv), opts);
  }

  /** Runs a fixed sh script with its values as positional arguments ($1, $2…). */
  async script(h: SshEndpoint, script: string, args: readonly string[], opts: { input?: string; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<RemoteResult> {
    return this.exec(h, shScript(script, args), opts);
  }

  private async exec(h: SshEndpoint, remote: string, opts: { input?: string; signal?: AbortSignal; timeoutMs?: number }): Promise<RemoteResult> {
    const r = await execCommand(
      this.argv(h, remote),
      {
        timeout: opts.timeoutMs ?? this.settings.commandTimeoutMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
        input: opts.input ?? '',
      },
      this.masker,
    );
    if (r.exitCode === 255) throw connectionError(h, r.output);
    return { exitCode: r.exitCode, output: r.output, stdout: r.stdout };
  }

  /** `producer` (argv, run locally) piped into a remote command: e.g. git archive | ssh … tar -x. */
  async pipe(h: SshEndpoint, producer: readonly string[], producerCwd: string, script: string, args: readonly string[], signal?: AbortSignal): Promise<RemoteResult> {
    const sshArgv = this.argv(h, shScript(script, args));
    return new Promise((resolve, reject) => {
      const src = processes.start(producer, { cwd: producerCwd, stdio: ['ignore', 'pipe', 'pipe'], signal });
      const dst = processes.start(sshArgv, { stdio: ['pipe', 'pipe', 'pipe'], signal });
      let srcErr = '';
      let out = '';
      src.stderr!.on('data', (d: Buffer) => (srcErr += d.toString()));
      dst.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      dst.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      src.stdout!.pipe(dst.stdin!);
      dst.stdin!.on('error', () => undefined);
      let srcCode: number | null = null;
      const srcDone = new Promise<void>((r) => src.on('close', (c) => ((srcCode = c), r())));
      src.on('error', reject);
      dst.on('error', reject);
      dst.on('close', (code) => {
        void srcDone.then(() => {
          if (code === 255) return reject(connectionError(h, out));
          if (srcCode !== 0) return reject(new CheckFailedError(`${producer.join(' ')} failed (exit ${srcCode}): ${this.masker.mask(srcErr.trim())}`));
          resolve({ exitCode: code ?? 1, output: this.masker.mask(out), stdout: this.masker.mask(out) });
        });
      });
    });
  }

  /** Ends the master connections and removes the socket folder. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.used.values()].map((h) =>
        execCommand(['ssh', ...this.options(h), '-O', 'exit', '--', h.address], { timeout: 5000 }, this.masker).catch(() => undefined),
      ),
    );
    await rm(this.controlDir, { recursive: true, force: true });
  }
}

export function connectionError(h: SshEndpoint, output: string): Error {
  const where = `host ${h.name} (${h.user}@${h.address}:${h.port})`;
  const text = output.trim();
  const keyDetails = { host: h.name, ssh: text.split('\n').slice(-3).join('\n') };
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(text)) {
    return new ConfigError(`${where}: its host key does not match the one in known_hosts (REMOTE HOST IDENTIFICATION HAS CHANGED): refused, nothing was run`, {
      hint: `this is what a man-in-the-middle looks like. Only if the host was reinstalled or its key rotated: confirm the new key's fingerprint out of band (ssh-keyscan shows what is offered, not whether it is genuine), then replace its line (ssh-keygen -R '[${h.address}]:${h.port}' -f <known_hosts>). accept-new never accepts a changed key`,
      details: keyDetails,
    });
  }
  if (/Host key verification failed|No .* host key is known/i.test(text)) {
    return new ConfigError(`${where}: no key for it in known_hosts: refused, nothing was run`, {
      hint: `check the key (ssh-keyscan -p ${h.port} ${h.address}) and add it to the known_hosts file; or set host_key_check: accept-new to accept an unknown (never a changed) key on first contact`,
      details: keyDetails,
    });
  }
  if (/Permission denied/i.test(text)) {
    return new ConfigError(`${where}: ssh authentication failed (publickey refused)`, {
      hint: 'check identity_file and the authorized_keys of that user on the host',
      details: { host: h.name },
    });
  }
  return new CheckFailedError(`${where} is unreachable: ${text.split('\n').filter(Boolean).slice(-1)[0] ?? 'ssh exited with 255'}`, {
    hint: 'is the host up and sshd listening on that port? nothing was changed on it',
    details: { host: h.name },
  });
}
