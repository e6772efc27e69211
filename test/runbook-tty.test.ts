import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { LTC, cleanupTempDirs } from './helpers/cli.js';
import { journals, opsDir } from './helpers/runbooks.js';

afterAll(cleanupTempDirs);

const SCRIPT = '/usr/bin/script';
const strip = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '\n');
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const SECRET = 'tty-Secret-4711';

describe('in a terminal', () => {
  it('renders the step list with listr2 (durations, retries) and asks a confirm step at the prompt', async () => {
    expect(existsSync(SCRIPT), 'the `script` command (Debian package bsdutils) is needed to run ltc in a pseudo-terminal').toBe(true);
    const dir = await opsDir({
      t: `name: TTY
inputs:
  token: { secret: true, required: true }
steps:
  - id: one
    name: First step
    run: [sleep, "0.2"]
  - id: talk
    run: [echo, only-once-marker]
  - id: leaky
    assert: { that: false, message: 'bad token=\${{ inputs.token }}' }
    continue_on_error: true
  - id: flaky
    run: [bash, -c, 'n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; [ $n -ge 1 ]']
    retries: { count: 2, delay: 50ms }
  - id: ask
    confirm: Proceed with the release?
`,
    });
    const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color', NO_COLOR: undefined, CI: undefined, FORCE_COLOR: undefined };
    const command = `stty cols 120 rows 40; exec ${quote(process.execPath)} ${quote(LTC)} runbook run t --input token=${SECRET}`;
    const child = execa(SCRIPT, ['-qec', command, '/dev/null'], { cwd: dir, env, extendEnv: false, stdin: 'pipe', reject: false, timeout: 60_000 });
    let seen = '';
    let answered = false;
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (!answered && strip(seen).includes('Proceed with the release?')) {
        answered = true;
        child.stdin!.write('y\r');
      }
    });
    const r = await child;
    const out = strip(seen);
    expect(answered, out).toBe(true);
    expect(r.exitCode, out).toBe(0);
    expect(out).toMatch(/✔ one First step/);
    expect(out).toMatch(/✔ flaky \(2 attempts\)/);
    // A failure's reason holding a secret (a run step may not put one in its arguments): masked on the terminal too.
    expect(out).toMatch(/✔ leaky \(failed, continued: bad token=\*\*\*\)/);
    expect(seen).not.toContain(SECRET);
    // Each line a step prints is shown once in the final step list (listr2 appends every output
    // it is handed; the stream holds many frames, the last one is the list as it stays).
    const final = out.slice(out.lastIndexOf('✔ one First step'));
    expect(final.match(/only-once-marker/g), final).toHaveLength(1);
    expect(out).toMatch(/✔ ask approved by \S+ \(prompt\)/);
    expect(out).toMatch(/\[\d+(\.\d+)?m?s\]/);
    expect(seen).toMatch(/\u001b\[/);
    const events = [...(await journals(dir)).values()][0]!;
    expect(events.find((e) => e.t === 'end' && e.id === 'ask')).toMatchObject({ status: 'ok', outputs: { via: 'prompt' } });
  });

  it('falls back to plain lines in a terminal that reports no size (listr2 would wrap every character)', async () => {
    const dir = await opsDir({ t: 'name: T\nsteps:\n  - id: one\n    name: First step\n    run: [echo, hi]\n' });
    const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color', NO_COLOR: undefined, CI: undefined, FORCE_COLOR: undefined };
    const command = `stty cols 0 rows 0; exec ${quote(process.execPath)} ${quote(LTC)} runbook run t`;
    const r = await execa(SCRIPT, ['-qec', command, '/dev/null'], { cwd: dir, env, extendEnv: false, reject: false, timeout: 60_000 });
    const out = strip(r.stdout);
    expect(r.exitCode, out).toBe(0);
    expect(out).toMatch(/✓ one First step \d+ms/);
    expect(out).not.toMatch(/^\s*F\s*$/m);
  });

  it('Ctrl-C at a confirm prompt ends the step interrupted, runs its on_failure, exits 130 and can be resumed', async () => {
    const dir = await opsDir({
      t: `name: T
steps:
  - id: ask
    confirm: Ship it?
    on_failure:
      - id: undo
        run: [node, -e, 'require("fs").writeFileSync("undone", "yes")']
  - id: after
    run: [echo, after]
`,
    });
    const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color', NO_COLOR: undefined, CI: undefined, FORCE_COLOR: undefined };
    const answer = async (args: string, key: string) => {
      const child = execa(SCRIPT, ['-qec', `stty cols 120 rows 40; exec ${quote(process.execPath)} ${quote(LTC)} runbook ${args}`, '/dev/null'], { cwd: dir, env, extendEnv: false, stdin: 'pipe', reject: false, timeout: 60_000 });
      let seen = '';
      let asked = false;
      child.stdout!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (!asked && strip(seen).includes('Ship it?')) {
          asked = true;
          child.stdin!.write(key);
        }
      });
      const r = await child;
      return { code: r.exitCode, out: strip(seen), asked };
    };
    const first = await answer('run t', '\u0003');
    expect(first.asked, first.out).toBe(true);
    expect(first.code, first.out).toBe(130);
    expect(first.out).toContain('step "ask" interrupted: prompt cancelled');
    expect(existsSync(join(dir, 'undone'))).toBe(true);
    const [[runId, events]] = [...(await journals(dir))];
    expect(first.out).toContain(`ltc runbook resume ${runId}`);
    expect(events!.find((e) => e.t === 'end' && e.id === 'ask')).toMatchObject({ status: 'interrupted' });
    expect(events!.at(-1)).toMatchObject({ t: 'done', status: 'interrupted', failedStep: 'ask' });
    expect(events!.some((e) => e.t === 'start' && e.id === 'after')).toBe(false);

    const resumed = await answer(`resume ${runId}`, 'y\r');
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toMatch(/✔ after/);
    const after = (await journals(dir)).get(runId!)!;
    expect(after.at(-1)).toMatchObject({ t: 'done', status: 'ok' });
  });
});
