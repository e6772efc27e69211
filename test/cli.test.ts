import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { join } from 'node:path';
import { LTC, ROOT, cleanupTempDirs, runLtc, tempDir } from './helpers/cli.js';

afterAll(cleanupTempDirs);

describe('ltc binary: framework, exit codes, --json', () => {
  it('--version prints the package version and exits 0', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runLtc(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('--help lists the command groups and the exit-code table', async () => {
    const r = await runLtc(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/config/);
    expect(r.stdout).toMatch(/130\s+interrupted/);
  });

  it('ltc help exit-codes prints the table', async () => {
    const r = await runLtc(['help', 'exit-codes']);
    expect(r.code).toBe(0);
    for (const code of ['0', '1', '2', '3', '4', '5', '130']) expect(r.stdout).toMatch(new RegExp(`^\\s*${code}\\s`, 'm'));
  });

  it('an unknown command exits 2 with a did-you-mean hint and no stack trace', async () => {
    const r = await runLtc(['confgi', 'validate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'confgi'/);
    expect(r.stderr).toMatch(/did you mean config/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown flag exits 2 with a did-you-mean hint', async () => {
    const r = await runLtc(['config', 'validate', '--jsn']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--jsn'/);
    expect(r.stderr).toMatch(/did you mean --json/);
  });

  it('--json errors are one JSON document on stdout with code, message and hint', async () => {
    const dir = await tempDir();
    const r = await runLtc(['config', 'validate', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ ok: false, error: { code: 'config', message: expect.stringMatching(/no ltc.config.yaml found/), hint: expect.stringMatching(/ltc init/) } });
  });

  it('--debug adds a stack trace; without it there is none', async () => {
    const dir = await tempDir();
    const plain = await runLtc(['config', 'validate'], { cwd: dir });
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await runLtc(['config', 'validate', '--debug'], { cwd: dir });
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('NO_COLOR and a non-TTY give output without escape codes', async () => {
    const r = await runLtc(['confgi'], { env: { NO_COLOR: '1' } });
    expect(r.stderr).not.toMatch(/\u001b\[/);
  });

  it('in a terminal, errors are red, and NO_COLOR turns the colour off there too', async () => {
    expect(existsSync('/usr/bin/script'), 'the `script` command (Debian package bsdutils) runs ltc in a pseudo-terminal').toBe(true);
    const cwd = await tempDir('ltc-color-');
    const inTerminal = async (extra: Record<string, string>) => {
      const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm-256color', ...extra };
      const r = await execa('/usr/bin/script', ['-qec', `exec '${process.execPath}' '${LTC}' releases --env staging`, '/dev/null'], { cwd, env, extendEnv: false, reject: false, timeout: 30_000 });
      return r.stdout;
    };
    const coloured = await inTerminal({});
    expect(coloured).toContain('no ltc.config.yaml found');
    expect(coloured).toMatch(/\u001b\[31merror:/);
    const plain = await inTerminal({ NO_COLOR: '1' });
    expect(plain).toContain('no ltc.config.yaml found');
    expect(plain).not.toMatch(/\u001b\[/);
  });

  it('a group without its command exits 2 naming the commands, also as one JSON document', async () => {
    const r = await runLtc(['config']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ltc config needs a command: validate, show/);
    const j = await runLtc(['--json']);
    expect(j.code).toBe(2);
    expect(j.json).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringMatching(/^ltc needs a command/) } });
  });

  it('--version comes from package.json (not npm_package_version) and answers --json', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runLtc(['--version', '--json'], { env: { npm_package_version: '9.9.9' } });
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ ok: true, version: pkg.version });
    const help = await runLtc(['help', 'exit-codes', '--json']);
    expect(help.json).toMatchObject({ ok: true, exitCodes: expect.arrayContaining([{ code: 5, meaning: 'locked by another operation' }]) });
  });

  it('an unknown help topic gets did-you-mean; command help lists the global options', async () => {
    const r = await runLtc(['help', 'confg']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/did you mean "config"/);
    const sub = await runLtc(['config', 'validate', '--help']);
    expect(sub.stdout).toMatch(/Global Options:[\s\S]*--env <name>/);
  });

  it('a password in a health URL never appears in the output', async () => {
    const r = await runLtc(['health', '--url', 'http://bob:s3cr3tpw@127.0.0.1:1/x', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('bob:***@127.0.0.1');
    expect(r.stdout + r.stderr).not.toContain('s3cr3tpw');
  });

  it('the pre-rendered --help (dist/help.txt) is exactly what commander renders', async () => {
    const cached = await runLtc(['--help']);
    const live = await runLtc(['--help'], { env: { LTC_NO_HELP_CACHE: '1' } });
    const bare = await runLtc([]);
    expect(cached.code).toBe(0);
    expect(cached.stdout).toBe(live.stdout);
    expect(bare.stdout).toBe(live.stdout);
  });
});

