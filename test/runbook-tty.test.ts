import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { LTC, cleanupTempDirs } from './helpers/cli.js';
import { journals, opsDir } from './helpers/runbooks.js';

afterAll(cleanupTempDirs);

const SCRIPT = '/usr/bin/script';
const strip = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '\n');
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('in a terminal', () => {
  it('renders the step list with listr2 (durations, retries) and asks a confirm step at the prompt', async () => {
    expect(existsSync(SCRIPT), 'the `script` command (Debian package bsdutils) is needed to run ltc in a pseudo-terminal').toBe(true);
    const dir = await opsDir({
      t: `name: TTY
steps:
  - id: one
    name: First step
    run: [sleep, "0.2"]
  - id: flaky
    run: [bash, -c, 'n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; [ $n -ge 1 ]']
    retries: { count: 2, delay: 50ms }
  - id: ask
    confirm: Proceed with the release?
`,
    });
    const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color', NO_COLOR: undefined, CI: undefined, FORCE_COLOR: undefined };
    const command = `stty cols 120 rows 40; exec ${quote(process.execPath)} ${quote(LTC)} runbook run t`;
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
    expect(out).toMatch(/✔ ask approved by \S+ \(prompt\)/);
    expect(out).toMatch(/\[\d+(\.\d+)?m?s\]/);
    expect(seen).toMatch(/\u001b\[/);
    const events = [...(await journals(dir)).values()][0]!;
    expect(events.find((e) => e.t === 'end' && e.id === 'ask')).toMatchObject({ status: 'ok', outputs: { via: 'prompt' } });
  });
});
