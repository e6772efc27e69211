/**
 * The remote-shell quoting: hostile values stay literal on a real host (a real sshd on loopback,
 * the values passed through ssh's login shell and `sh -c`), and in a local sh.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shCommand, shQuote, shScript } from '../src/fleet/quote.ts';
import { SshPool } from '../src/fleet/ssh.ts';
import { processMasker } from '../src/core/masker.ts';
import { cleanupTempDirs, tempDir } from './helpers/cli.ts';
import { startSshd, type Sshd } from './helpers/sshd.ts';

const HOSTILE = [
  "it's",
  '"double" quoted',
  '$(touch PWNED_subst)',
  '`touch PWNED_tick`',
  'a; touch PWNED_semi',
  'line1\nline2\ntouch PWNED_nl',
  '*',
  '?',
  '[a-z]*',
  '~',
  '$HOME',
  '${PATH}',
  '\\',
  "'",
  "''",
  '',
  ' leading and trailing ',
  '-n',
  '--',
  '| touch PWNED_pipe',
  '&& touch PWNED_and',
  '> PWNED_redir',
  '#comment',
  '\t tab',
  'ünïcödé ✓',
  "'$(touch PWNED_q)'",
];

let sshd: Sshd;
let pool: SshPool;
let work: string;

beforeAll(async () => {
  sshd = await startSshd();
  work = await tempDir('ltc-quote-');
  pool = await SshPool.open({ identityFile: sshd.identity, knownHosts: sshd.knownHosts, hostKeyCheck: 'strict', connectTimeoutMs: 5000, commandTimeoutMs: 20_000 }, processMasker);
});

afterAll(async () => {
  await pool?.close();
  await sshd?.stop();
  await cleanupTempDirs();
});

const host = () => ({ name: 'h1', address: '127.0.0.1', port: sshd.port, user: sshd.user });

describe('shQuote', () => {
  it('leaves plain words as they are and single-quotes the rest', () => {
    expect(shQuote('abc/def-1.2')).toBe('abc/def-1.2');
    expect(shQuote('')).toBe("''");
    expect(shQuote("it's")).toBe("'it'\\''s'");
    expect(shQuote('$(x)')).toBe("'$(x)'");
    expect(() => shQuote('a\0b')).toThrow(/NUL/);
    expect(() => shCommand([])).toThrow(/empty/);
  });

  it('every hostile value comes back byte for byte from a local sh', () => {
    for (const v of HOSTILE) {
      const r = spawnSync('sh', ['-c', `printf '%s' ${shQuote(v)}`], { cwd: work, encoding: 'utf8' });
      expect(r.stdout).toBe(v);
    }
    expect(readdirSync(work).filter((n) => n.startsWith('PWNED'))).toEqual([]);
  });
});

describe('hostile values over a real ssh connection', () => {
  it('each value is one literal argument on the host: printf, in the work folder, expands nothing', async () => {
    // One remote command with every value as its own argument; the host prints them NUL-separated.
    const r = await pool.run(host(), ['sh', '-c', 'cd "$1" && shift && for a in "$@"; do printf "%s\\0" "$a"; done', 'sh', work, ...HOSTILE]);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(HOSTILE);
    expect(readdirSync(work).filter((n) => n.startsWith('PWNED'))).toEqual([]);
  });

  it('as file names: the host makes files with exactly those names, nothing else', async () => {
    const names = HOSTILE.filter((v) => v !== '' && !v.includes('/') && v !== '.' && v !== '..' && v !== '-n' && v !== '--');
    const dir = join(work, 'files');
    const r = await pool.script(host(), 'mkdir -p "$1" && cd "$1" && shift && for a in "$@"; do : > "./$a"; done', [dir, ...names]);
    expect(r.exitCode, r.output).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([...names].sort());
    expect(readdirSync(work).filter((n) => n.startsWith('PWNED'))).toEqual([]);
  });

  it('shScript passes values as positional arguments, the script text is the only code', async () => {
    const r = await pool.script(host(), 'printf "%s|%s" "$1" "$2"', ['$(id)', 'a b;c']);
    expect(r.stdout).toBe('$(id)|a b;c');
    expect(shScript('echo "$1"', ['x y'])).toBe(`sh -c 'echo "$1"' sh 'x y'`);
  });

  it('a host whose key is not in known_hosts is refused before anything runs, with how to add it', async () => {
    const empty = join(work, 'empty_known_hosts');
    writeFileSync(empty, '');
    const strict = await SshPool.open({ identityFile: sshd.identity, knownHosts: empty, hostKeyCheck: 'strict', connectTimeoutMs: 5000, commandTimeoutMs: 20_000 }, processMasker);
    try {
      const err = (await strict.run(host(), ['touch', join(work, 'PWNED_unknown')]).catch((e: unknown) => e)) as Error & { hint?: string };
      expect(err.message).toMatch(/no key for it in known_hosts: refused, nothing was run/);
      expect(err.hint).toMatch(/ssh-keyscan -p \d+ 127\.0\.0\.1/);
      expect(existsSync(join(work, 'PWNED_unknown'))).toBe(false);
    } finally {
      await strict.close();
    }
  });

  it('a changed host key is refused before anything runs', async () => {
    const strict = await SshPool.open({ identityFile: sshd.identity, knownHosts: sshd.wrongKnownHosts, hostKeyCheck: 'strict', connectTimeoutMs: 5000, commandTimeoutMs: 20_000 }, processMasker);
    try {
      const err = (await strict.run(host(), ['touch', join(work, 'PWNED_hostkey')]).catch((e: unknown) => e)) as Error & { hint?: string };
      expect(err.message).toMatch(/its host key does not match the one in known_hosts \(REMOTE HOST IDENTIFICATION HAS CHANGED\): refused, nothing was run/);
      // Never "add it" nor accept-new for a changed key.
      expect(err.hint).toMatch(/man-in-the-middle/);
      expect(err.hint).toMatch(/accept-new never accepts a changed key/);
      expect(existsSync(join(work, 'PWNED_hostkey'))).toBe(false);
    } finally {
      await strict.close();
    }
  });
});
