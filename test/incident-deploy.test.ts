/**
 * `ltc deploy` that rolls itself back (exit 3, rc-2026-03-01.1 answers 500 on /api/health after
 * a good rc-2026-03-01) hands the rollback to the incident like `ltc rollback`: without a
 * terminal a hint line after the error naming the open incident; `--incident <id>` adds the
 * automatic rollback with its duration to that incident (human and --json); `--no-incident` says
 * nothing; `--incident <closed id>` is refused (exit 2) before anything is deployed. Exit 3 stays.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from './helpers/cli.ts';
import { currentRelease, makeStage, revisions, stopStage, type Stage } from './helpers/deploy.ts';

let stage: Stage;
let id: string;
let good: string;

interface Ev {
  kind: string;
  text?: string;
  durationMs?: number;
}
const events = (incident: string): Ev[] => (JSON.parse(readFileSync(join(stage.ops, '.ltc', 'incidents', `${incident}.json`), 'utf8')) as { events: Ev[] }).events;

beforeAll(async () => {
  stage = await makeStage();
  for (const rc of ['rc-2026-02-15', 'rc-2026-03-01']) {
    const d = await stage.ltc(['deploy', '--rc', rc, '--env', 'staging']);
    expect(d.code, d.stderr).toBe(0);
  }
  good = currentRelease(stage)!;
  const o = await stage.ltc(['incident', 'open', '--sev', '2', '--title', 'checkout errors', '--env', 'staging', '--json']);
  expect(o.code, o.stderr).toBe(0);
  id = (o.json as { id: string }).id;
}, 180_000);
afterAll(async () => {
  if (stage) await stopStage(stage);
  await cleanupTempDirs();
});

describe('ltc deploy rolls back itself (exit 3) and the incident', () => {
  it('without a terminal: exit 3, the hint after the error names the open incident, nothing added', async () => {
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(3);
    expect(currentRelease(stage)).toBe(good);
    const error = r.stderr.indexOf('error: deploy of rc-2026-03-01.1 to staging failed');
    const hint = r.stderr.indexOf(`${id} is open on staging and was not told of this rollback: \`ltc incident note ${id} "automatic rollback of staging after the failed deploy of rc-2026-03-01.1:`);
    expect(error, r.stderr).toBeGreaterThanOrEqual(0);
    expect(hint, r.stderr).toBeGreaterThan(error);
    expect(r.stderr).toContain(`next time pass --incident ${id} (or --no-incident)`);
    expect(events(id).map((e) => e.kind)).toEqual(['open']);
  }, 120_000);

  it('--incident <id>: exit 3, the automatic rollback with its duration on the incident\'s timeline', async () => {
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging', '--incident', id]);
    expect(r.code, r.stderr).toBe(3);
    const rev = revisions(stage).at(-1)!;
    expect(rev.outcome).toBe('rolled_back');
    expect(rev.rolledBackTo).toBe(good);
    expect(r.stderr).toMatch(new RegExp(`added the rollback \\([\\d.]+m?s\\) to ${id}'s timeline`));
    const ev = events(id).at(-1)!;
    expect(ev.kind).toBe('rollback');
    expect(ev.text).toMatch(new RegExp(`^automatic rollback of staging after the failed deploy of rc-2026-03-01\\.1: ${rev.release} → ${good} done in [\\d.]+m?s$`));
    expect(ev.durationMs).toBeGreaterThan(0);
    const show = await stage.ltc(['incident', 'show', id]);
    expect(show.stdout).toContain('automatic rollback of staging after the failed deploy of rc-2026-03-01.1');
  }, 120_000);

  it('--json --incident <id>: exit 3, the result names the incident', async () => {
    const before = events(id).length;
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging', '--incident', id, '--json']);
    expect(r.code, r.stderr).toBe(3);
    const j = r.json as { ok: boolean; incident: string | null; error: { code: string; rolledBackTo: string } };
    expect(j.ok).toBe(false);
    expect(j.error.code).toBe('rolled_back');
    expect(j.error.rolledBackTo).toBe(good);
    expect(j.incident).toBe(id);
    expect(events(id)).toHaveLength(before + 1);
  }, 120_000);

  it('--no-incident: exit 3, no hint, nothing added', async () => {
    const before = events(id).length;
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging', '--no-incident']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).not.toContain(id);
    expect(r.stderr).not.toContain('ltc incident');
    expect(events(id)).toHaveLength(before);
  }, 120_000);

  it('--incident of a closed or unknown incident: exit 2 before anything is deployed', async () => {
    const o = await stage.ltc(['incident', 'open', '--sev', '4', '--title', 'old', '--json']);
    const closed = (o.json as { id: string }).id;
    expect((await stage.ltc(['incident', 'close', closed])).code).toBe(0);
    const n = revisions(stage).length;
    const r = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging', '--incident', closed]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${closed} was closed at`);
    const u = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging', '--incident', 'INC-20200101-9']);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('no incident "INC-20200101-9"');
    expect(revisions(stage)).toHaveLength(n);
    expect(currentRelease(stage)).toBe(good);
  }, 60_000);
});
