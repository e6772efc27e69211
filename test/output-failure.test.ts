import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LTC } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ltc-output-failure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'ltc.config.yaml'), 'version: 1\napp: { repo: ./app }\nenvironments:\n  staging:\n    target: { type: local, deploy_root: ./deploy, start: [node, server.mjs] }\n');

/** ltc with stdout on /dev/full (every write fails with ENOSPC). */
function toFullDisk(args: string[]) {
  const full = openSync('/dev/full', 'w');
  try {
    const r = spawnSync(process.execPath, [LTC, ...args], { cwd: dir, stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 20_000, env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: dir } });
    return { status: r.status, stderr: r.stderr };
  } finally {
    closeSync(full);
  }
}

describe('stdout that cannot be written (a full disk) is one error line and exit 1, never a stack trace or exit 0', () => {
  // --version and --help are answered by bin/ltc.js, releases by its fast path, the rest by the full CLI.
  for (const args of [['--version'], ['--help'], ['releases'], ['releases', '--json'], ['lock', 'status'], ['help', 'exit-codes']]) {
    it(`ltc ${args.join(' ')}`, () => {
      const r = toFullDisk(args);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error: cannot write the output to stdout: ENOSPC/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('a reader that has left (EPIPE) is no error: exit 0, nothing on stderr', () => {
    // `true` exits at once: ltc's write finds the pipe closed.
    for (const args of ['--version', 'releases', 'lock status']) {
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${LTC}" ${args} | true; echo "\${PIPESTATUS[0]}"`], { cwd: dir, encoding: 'utf8', timeout: 20_000, env: { ...process.env, XDG_CACHE_HOME: dir } });
      expect(r.stdout.trim(), args).toBe('0');
      expect(r.stderr, args).toBe('');
    }
  });
});

describe('ltc config show (from the built bundle)', () => {
  it('prints the environment as YAML', () => {
    const r = spawnSync(process.execPath, [LTC, 'config', 'show', '--env', 'staging'], { cwd: dir, encoding: 'utf8', timeout: 20_000, env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: dir } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^environment:\n {2}name: staging\n/m);
    expect(r.stdout).toMatch(/deploy_root: \.\/deploy/);
  });
});
