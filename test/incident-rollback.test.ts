/**
 * `ltc rollback` hands off to the incident: without a terminal a hint line (naming the open
 * incident of the environment) and no wait; `--no-incident` no line; at a terminal (`script`,
 * a pseudo-terminal) the question, answered y: the rollback with its duration on the incident;
 * `--incident <closed id>` refused before anything is rolled back.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LTC, cleanupTempDirs } from './helpers/cli.ts';
import { currentRelease, makeStage, revisions, stopStage, type Stage } from './helpers/deploy.ts';

const SCRIPT = '/usr/bin/script';
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const strip = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

let stage: Stage;
let id: string;

interface Ev {
  kind: string;
  text?: string;
  durationMs?: number;
}
const events = (incident: string): Ev[] => (JSON.parse(readFileSync(join(stage.ops, '.ltc', 'incidents', `${incident}.json`), 'utf8')) as { events: Ev[] }).events;

async function deployBoth(): Promise<void> {
  for (const rc of ['rc-2026-02-15', 'rc-2026-03-01']) {
    const d = await stage.ltc(['deploy', '--rc', rc, '--env', 'staging']);
    expect(d.code, d.stderr).toBe(0);
  }
}

beforeAll(async () => {
  stage = await makeStage();
  const o = await stage.ltc(['incident', 'open', '--sev', '2', '--title', 'errors after the deploy', '--env', 'staging', '--json']);
  expect(o.code, o.stderr).toBe(0);
  id = (o.json as { id: string }).id;
}, 120_000);
afterAll(async () => {
  if (stage) await stopStage(stage);
  await cleanupTempDirs();
});

describe('ltc rollback and the incident', () => {
  it('without a terminal: one hint line naming the open incident, no wait, nothing added', async () => {
    await deployBoth();
    const r = await stage.ltc(['rollback', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`hint: ${id} is open on staging and was not told of this rollback: \`ltc incident note ${id} "rollback of staging`);
    expect(r.stderr).toContain(`next time pass --incident ${id} (or --no-incident)`);
    expect(events(id).map((e) => e.kind)).toEqual(['open']);
  }, 120_000);

  it('--no-incident: no question, no line', async () => {
    await deployBoth();
    const r = await stage.ltc(['rollback', '--env', 'staging', '--no-incident', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('incident');
    expect((r.json as { incident: string | null }).incident).toBeNull();
    expect(events(id).map((e) => e.kind)).toEqual(['open']);
  }, 120_000);

  it('at a terminal: asks, and y adds the rollback with its duration to the open incident', async () => {
    expect(existsSync(SCRIPT), 'the `script` command (Debian package bsdutils) is needed to run ltc in a pseudo-terminal').toBe(true);
    await deployBoth();
    const from = currentRelease(stage);
    const env: Record<string, string | undefined> = { ...process.env, ...stage.env, TERM: 'xterm-256color', NO_COLOR: '1', CI: undefined };
    const command = `stty cols 200 rows 40; exec ${quote(process.execPath)} ${quote(LTC)} rollback --env staging`;
    const child = execa(SCRIPT, ['-qec', command, '/dev/null'], { cwd: stage.ops, env, extendEnv: false, reject: false, timeout: 90_000, stdin: 'pipe' });
    let seen = '';
    let answered = false;
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (!answered && strip(seen).includes(`Add this rollback`)) {
        answered = true;
        child.stdin!.write('y\r');
      }
    });
    const r = await child;
    const text = strip(r.stdout as string);
    expect(r.exitCode, text).toBe(0);
    expect(text).toMatch(new RegExp(`Add this rollback \\([\\d.]+m?s\\) to ${id} "errors after the deploy" \\(open on staging\\)\\?`));
    expect(text).toContain(`added the rollback to ${id}'s timeline`);
    const rb = revisions(stage).at(-1)!;
    expect(rb.action).toBe('rollback');
    const ev = events(id).at(-1)!;
    expect(ev.kind).toBe('rollback');
    expect(ev.text).toMatch(new RegExp(`^rollback of staging ${from} → ${rb.release} done in [\\d.]+m?s$`));
    expect(ev.durationMs).toBeGreaterThan(0);
  }, 150_000);

  it('--incident <id> of a closed incident: exit 2 before anything is rolled back', async () => {
    const o = await stage.ltc(['incident', 'open', '--sev', '4', '--title', 'old', '--json']);
    const closed = (o.json as { id: string }).id;
    expect((await stage.ltc(['incident', 'close', closed])).code).toBe(0);
    const before = revisions(stage).length;
    const current = currentRelease(stage);
    const r = await stage.ltc(['rollback', '--env', 'staging', '--incident', closed]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${closed} was closed at`);
    const u = await stage.ltc(['rollback', '--env', 'staging', '--incident', 'INC-20200101-9']);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('no incident "INC-20200101-9"');
    expect(revisions(stage)).toHaveLength(before);
    expect(currentRelease(stage)).toBe(current);
  }, 60_000);
});
