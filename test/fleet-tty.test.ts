/**
 * A fleet deploy in a pseudo-terminal (`script`): a listr2 list with one line per host, its
 * outcome and time; notes said while the list is live come after it. Without a terminal: plain
 * lines per host (the other fleet tests).
 */
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LTC, cleanupTempDirs } from './helpers/cli.ts';
import { makeStage, type Stage } from './helpers/deploy.ts';
import { sshTarget, startFleet, stopFleet, writeTarget, type Fleet } from './helpers/fleet.ts';

const SCRIPT = '/usr/bin/script';
const strip = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '\n');
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

let fleet: Fleet;
let stage: Stage;

beforeAll(async () => {
  fleet = await startFleet(['api1', 'api2']);
  stage = await makeStage();
  await writeTarget(stage, sshTarget(fleet, { batch: 1 }));
}, 120_000);

afterAll(async () => {
  await stopFleet(fleet);
  await cleanupTempDirs();
});

async function inTerminal(args: string[]): Promise<{ code: number; raw: string; text: string }> {
  expect(existsSync(SCRIPT), 'the `script` command (Debian package bsdutils) is needed to run ltc in a pseudo-terminal').toBe(true);
  const env: Record<string, string | undefined> = { ...process.env, ...stage.env, TERM: 'xterm-256color', NO_COLOR: undefined, CI: undefined, FORCE_COLOR: undefined };
  const command = `stty cols 140 rows 40; exec ${[process.execPath, LTC, ...args].map(quote).join(' ')}`;
  const r = await execa(SCRIPT, ['-qec', command, '/dev/null'], { cwd: stage.ops, env, extendEnv: false, reject: false, timeout: 120_000 });
  return { code: r.exitCode ?? -1, raw: r.stdout, text: strip(r.stdout) };
}

describe('fleet progress in a terminal', () => {
  it('a deploy shows a listr2 line per host with its outcome and time', async () => {
    const r = await inTerminal(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(r.code, r.text).toBe(0);
    expect(r.raw).toMatch(/\u001b\[/);
    expect(r.text).toMatch(/deploy rc-2026-02-15 as rc-2026-02-15-\S+ to 2 host\(s\) of staging/);
    for (const h of ['api1', 'api2']) expect(r.text).toMatch(new RegExp(`✔ ${h}: deploy rc-2026-02-15-\\S+ healthy \\(http://127\\.0\\.0\\.1:\\d+/api/health\\) [\\d.]+m?s`));
    expect(r.text).toMatch(/deployed: rc-2026-02-15-\S+ on 2 host\(s\) of staging/);
  }, 180_000);

  it('a failing deploy: the host line fails, the rollback note comes after the list, exit 3', async () => {
    const r = await inTerminal(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    expect(r.code, r.text).toBe(3);
    expect(r.text).toMatch(/api1: rolled back to rc-2026-02-15-\S+/);
    expect(r.text).toMatch(/deploy failed on api1: rolling back api1/);
    expect(r.text).toMatch(/api2: not switched/);
  }, 180_000);
});
