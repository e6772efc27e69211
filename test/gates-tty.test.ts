/**
 * `ltc gates run` in a pseudo-terminal (`script`): a listr2 list with live status and durations;
 * a terminal that reports no width gets the plain lines instead of a list wrapped after every
 * character.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoApp, type DemoApp } from '../src/demo/generate-app.ts';
import { LTC, cleanupTempDirs, tempDir } from './helpers/cli.ts';

const SCRIPT = '/usr/bin/script';
const strip = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '\n');
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

let app: DemoApp;
beforeAll(async () => {
  app = await generateDemoApp({ dir: join(await tempDir('ltc-gates-tty-'), 'app') });
});
afterAll(cleanupTempDirs);

async function ops(): Promise<string> {
  const dir = await tempDir('ltc-gates-tty-ops-');
  const gates = [
    { name: 'build', run: ['npm', 'run', 'build'] },
    { name: 'ist-check', run: ['node', 'tools/ist_check.mjs'], parallel: true },
    { name: 'slow-one', run: ['sleep', '0.3'], parallel: true },
    { name: 'breaks', shell: 'bash', run: ['echo "broken on purpose"; exit 3'], required: false },
  ];
  await writeFile(join(dir, 'ltc.config.yaml'), stringify({ version: 1, app: { name: 'demo', repo: app.repoDir }, gates }));
  return dir;
}

async function inTerminal(cwd: string, size: string): Promise<{ code: number; raw: string; text: string }> {
  expect(existsSync(SCRIPT), 'the `script` command (Debian package bsdutils) is needed to run ltc in a pseudo-terminal').toBe(true);
  const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color', NO_COLOR: undefined, CI: undefined, FORCE_COLOR: undefined };
  const command = `stty ${size}; exec ${quote(process.execPath)} ${quote(LTC)} gates run --rc rc-2026-03-01 --no-install`;
  const r = await execa(SCRIPT, ['-qec', command, '/dev/null'], { cwd, env, extendEnv: false, reject: false, timeout: 60_000 });
  return { code: r.exitCode ?? -1, raw: r.stdout, text: strip(r.stdout) };
}

describe('ltc gates run in a terminal', () => {
  it('renders a listr2 list: a mark, the name and the duration of each gate, then the status table', async () => {
    const r = await inTerminal(await ops(), 'cols 120 rows 40');
    expect(r.code, r.text).toBe(0); // `breaks` is not required
    expect(r.raw).toMatch(/\u001b\[/);
    expect(r.text).toMatch(/✔ checkout \d+ms/);
    expect(r.text).toMatch(/↓ setup skipped \(--no-install\)/);
    expect(r.text).toMatch(/✔ build [\d.]+m?s/);
    expect(r.text).toMatch(/✔ ist-check [\d.]+m?s/);
    expect(r.text).toMatch(/✔ slow-one [\d.]+m?s/);
    expect(r.text).toMatch(/✖ breaks failed [\d.]+m?s: exited 3 \(not required\)/);
    expect(r.text).toMatch(/^ {2}build\s+passed\s+[\d.]+m?s\s+exit 0$/m); // the table at the end
    expect(r.text).toContain('── breaks: last');
    expect(r.text).toContain('broken on purpose');
    expect(r.text).toMatch(/gates passed: 3 of 4 for rc-2026-03-01/);
    expect(r.text).not.toMatch(/^build\s+started/m); // not the plain lines
  });

  it('a terminal that reports no width gets the plain lines, not a list wrapped after every character', async () => {
    const r = await inTerminal(await ops(), 'cols 0 rows 0');
    expect(r.code, r.text).toBe(0);
    expect(r.text).toMatch(/^checkout\s+passed\s+\d+ms$/m);
    expect(r.text).toMatch(/^build\s+passed\s+[\d.]+m?s$/m);
    expect(r.text).toMatch(/^breaks\s+failed\s+[\d.]+m?s\s+exited 3 \(not required\)$/m);
    expect(r.text).not.toMatch(/^\s*c\n\s*h\n\s*e\n/m);
  });
});
