import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { CheckFailedError, InterruptedError } from '../src/core/errors.js';
import { Prompter } from '../src/ui/prompt.js';
import { LTC, cleanupTempDirs } from './helpers/cli.js';
import { alive, journals, opsDir } from './helpers/runbooks.js';

const SCRIPT = '/usr/bin/script';
const strip = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '\n');
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const started: number[] = [];

afterAll(async () => {
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await cleanupTempDirs();
});

/**
 * Runs `ltc runbook run t` in a pseudo-terminal; once the question is on screen, calls `atPrompt`
 * with ltc's pid. Resolves when the terminal session ends (or its 30 s timeout kills it).
 */
async function runAtPrompt(dir: string, question: string, atPrompt: (pid: number) => void) {
  expect(existsSync(SCRIPT), 'the `script` command (Debian package bsdutils) is needed to run ltc in a pseudo-terminal').toBe(true);
  const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color', NO_COLOR: undefined, CI: undefined, FORCE_COLOR: undefined };
  // The shell writes its pid, then becomes ltc (exec): that pid is ltc's.
  const command = `stty cols 120 rows 40; echo $$ > ltc.pid; exec ${quote(process.execPath)} ${quote(LTC)} runbook run t`;
  const child = execa(SCRIPT, ['-qec', command, '/dev/null'], { cwd: dir, env, extendEnv: false, stdin: 'pipe', reject: false, timeout: 30_000 });
  let seen = '';
  let asked = false;
  child.stdout!.on('data', (d: Buffer) => {
    seen += d.toString();
    if (!asked && strip(seen).includes(question)) {
      asked = true;
      void readFile(join(dir, 'ltc.pid'), 'utf8').then((pid) => {
        started.push(Number(pid));
        atPrompt(Number(pid));
      });
    }
  });
  const r = await child;
  return { code: r.exitCode, timedOut: r.timedOut, out: strip(seen), asked };
}

describe('a prompt ends with the step\'s signal', () => {
  it('SIGINT sent to ltc while a confirm step asks: the prompt is aborted, the step ends interrupted, exit 130', async () => {
    const dir = await opsDir({ t: 'name: T\nsteps:\n  - id: ask\n    confirm: Ship it now?\n  - id: after\n    run: [echo, after]\n' });
    const r = await runAtPrompt(dir, 'Ship it now?', (pid) => process.kill(pid, 'SIGINT'));
    expect(r.asked, r.out).toBe(true);
    expect(r.timedOut, `ltc kept waiting at the prompt:\n${r.out}`).toBe(false);
    expect(r.code, r.out).toBe(130);
    expect(r.out).toContain('step "ask" interrupted');
    const events = [...(await journals(dir)).values()][0]!;
    expect(events.at(-1)).toMatchObject({ t: 'done', status: 'interrupted', failedStep: 'ask' });
    expect(events.some((e) => e.t === 'start' && e.id === 'after')).toBe(false);
  });

  it('a confirm step\'s timeout ends its prompt: the step times out (exit 1) instead of waiting on', async () => {
    const dir = await opsDir({ t: 'name: T\nsteps:\n  - id: ask\n    confirm: Approve within a second?\n    timeout: 1s\n' });
    const r = await runAtPrompt(dir, 'Approve within a second?', () => undefined);
    expect(r.asked, r.out).toBe(true);
    expect(r.timedOut, `ltc kept waiting at the prompt:\n${r.out}`).toBe(false);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/step "ask" timed out after 1(\.0)?s/);
  });
});

describe('Prompter and abort signals (module)', () => {
  const prompter = (signal?: AbortSignal) => new Prompter({ interactive: true, yes: false, approvals: new Set(), ...(signal ? { signal } : {}) });

  it('an aborted signal ends approve, typeToConfirm and secret with InterruptedError (exit 130)', async () => {
    const aborted = AbortSignal.abort(new Error('interrupted by SIGINT'));
    await expect(prompter().approve('Go?', 'go', aborted)).rejects.toMatchObject({ exitCode: 130, message: 'prompt cancelled' });
    await expect(prompter(aborted).approve('Go?')).rejects.toBeInstanceOf(InterruptedError);
    await expect(prompter(aborted).typeToConfirm('Deploy?', 'prod')).rejects.toBeInstanceOf(InterruptedError);
    await expect(prompter().secret('Value?', '--stdin', aborted)).rejects.toBeInstanceOf(InterruptedError);
  });

  it('a signal aborted with an ltc error (a step timeout) ends the prompt with that error', async () => {
    const timeout = new CheckFailedError('step "ask" timed out');
    await expect(prompter().approve('Go?', 'go', AbortSignal.abort(timeout))).rejects.toBe(timeout);
  });
});
