/**
 * `ltc deploy` / `ltc rollback` / `ltc releases` on the local target with the real demo app:
 * real git tags, real builds, the app as a real process answering real HTTP on 127.0.0.1.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from './helpers/cli.ts';
import {
  alive,
  appPid,
  audit,
  currentRelease,
  getJson,
  isCompleteRelease,
  liveVersion,
  makeStage,
  previousRelease,
  processesUnder,
  releaseMeta,
  revisions,
  snapshot,
  stopStage,
  type Stage,
} from './helpers/deploy.ts';

let s: Stage;
let secret = '';
const outputs: string[] = [];
const releases: Record<string, string> = {};

async function ltc(args: string[], env?: Record<string, string | undefined>) {
  const r = await s.ltc(args, env ? { env } : {});
  outputs.push(r.stdout, r.stderr);
  return r;
}

beforeAll(async () => {
  s = await makeStage({ auditKey: true });
  const r = await s.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--reveal', '--yes', '--env', 'staging']);
  secret = r.stdout.trim();
  expect(secret.length).toBeGreaterThanOrEqual(32);
});

afterAll(async () => {
  if (s) await stopStage(s);
  await cleanupTempDirs();
});

describe('ltc deploy on the local target', () => {
  it('deploys rc-2026-02-15: a complete release, current, the app answering 1.0.0, the env file 0600', async () => {
    const r = await ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/deployed rc-2026-02-15 \([0-9a-f]{12}\) to staging in/);
    const cur = currentRelease(s)!;
    releases.first = cur;
    expect(cur).toMatch(/^rc-2026-02-15-\d{8}T\d{6}\.\d{3}Z$/);
    expect(isCompleteRelease(s, cur)).toBe(true);
    expect(releaseMeta(s, cur).rc).toBe('rc-2026-02-15');
    expect(await liveVersion(s)).toBe('1.0.0');
    expect(previousRelease(s)).toBeUndefined();

    const envFile = join(s.deployRoot, 'shared', '.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, 'utf8')).toContain(`LTC_SECRET_KEY=${secret}`);
    // the release links the shared env file
    expect(readFileSync(join(s.deployRoot, 'releases', cur, '.env'), 'utf8')).toContain('LTC_SECRET_KEY=');
    // the app got the secret (it reports only whether it is set)
    expect((await getJson(`${s.url}/api/info`)).body).toEqual({ secret_key_loaded: true });

    const pid = appPid(s)!;
    expect(alive(pid)).toBe(true);
    expect(processesUnder(s.dir)).toEqual([pid]);
    expect(readdirSync(join(s.deployRoot, 'releases')).filter((n) => n.startsWith('.'))).toEqual([]);
    const rev = revisions(s);
    expect(rev).toHaveLength(1);
    expect(rev[0]).toMatchObject({ action: 'deploy', outcome: 'ok', rc: 'rc-2026-02-15', release: cur, releaseDir: join(s.deployRoot, 'releases', cur), from: null });
    expect(rev[0]!.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(rev[0]!.actor).toMatch(/^\S+$/);
    expect(Date.parse(rev[0]!.time)).toBeGreaterThan(0);
    expect(rev[0]!.buildMs).toBeGreaterThan(0);
    expect(rev[0]!.startMs).toBeGreaterThan(0);
  });

  it('deploys rc-2026-03-01: real HTTP shows 1.1.0, the first release becomes previous, the old process is gone', async () => {
    const oldPid = appPid(s)!;
    const r = await ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const data = r.json as { ok: boolean; release: string; previous: string; pid: number; buildMs: number; startMs: number; overheadMs: number };
    expect(data.ok).toBe(true);
    releases.second = data.release;
    expect(currentRelease(s)).toBe(data.release);
    expect(previousRelease(s)).toBe(releases.first);
    expect(data.previous).toBe(releases.first);
    const health = await getJson(`${s.url}/api/health`);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', version: '1.1.0', rc: 'rc-2026-03-01' });
    expect(((await getJson(`${s.url}/`)).body as string)).toContain('Service reminders');
    expect(alive(oldPid)).toBe(false);
    expect(appPid(s)).toBe(data.pid);
    expect(processesUnder(s.dir)).toEqual([data.pid]);
  });

  it('--dry-run prints the whole plan and leaves the deploy root byte-identical', async () => {
    // The app logs the requests the test before sent after it answered them: wait until its log is quiet.
    const log = join(s.deployRoot, 'shared', 'logs', 'app.log');
    for (let size = -1; statSync(log).size !== size; await new Promise((r) => setTimeout(r, 150))) size = statSync(log).size;
    const before = snapshot(s.deployRoot);
    const r = await ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('dry run, nothing is changed');
    expect(r.stdout).toContain('npm run build');
    expect(r.stdout).toMatch(/current → releases\/rc-2026-03-01-\d{8}T/);
    expect(r.stdout).toContain(`(now releases/${releases.second})`);
    expect(r.stdout).toContain(`stop pid ${appPid(s)}`);
    expect(r.stdout).toContain(join(s.deployRoot, 'shared', '.env'));
    expect(r.stdout).toMatch(/would make releases\/rc-2026-03-01-\S+ current in /);
    expect(snapshot(s.deployRoot)).toBe(before);

    const rb = await ltc(['rollback', '--env', 'staging', '--dry-run']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stdout).toContain(`would make releases/${releases.first} current`);
    expect(snapshot(s.deployRoot)).toBe(before);

    // An unknown --to fails the dry run as it fails the run: exit 2, the releases named.
    const bad = await ltc(['rollback', '--env', 'staging', '--to', 'rc-2099-01-01', '--dry-run']);
    expect(bad.code, bad.stdout).toBe(2);
    expect(bad.stderr).toContain('no release "rc-2099-01-01"');
    expect(bad.stderr).toContain(releases.first);
    expect(snapshot(s.deployRoot)).toBe(before);
  });

  it('deploys the broken rc-2026-03-01.1: health fails, rolled back automatically, exit 3, 1.1.0 answers again', async () => {
    const r = await ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    expect(r.code, r.stderr + r.stdout).toBe(3);
    expect(r.stderr).toMatch(/failed at health/);
    expect(r.stderr).toContain(`rolled back to ${releases.second}`);
    expect(currentRelease(s)).toBe(releases.second);
    expect(previousRelease(s)).toBe(releases.first);
    expect(await liveVersion(s)).toBe('1.1.0');
    const last = revisions(s).at(-1)!;
    expect(last).toMatchObject({ action: 'deploy', outcome: 'rolled_back', rc: 'rc-2026-03-01.1', rolledBackTo: releases.second, failedPhase: 'health' });
    releases.broken = last.release!;
    expect(isCompleteRelease(s, releases.broken)).toBe(true); // kept for inspection
    expect(processesUnder(s.dir)).toEqual([appPid(s)]);
    expect(existsSync(join(s.deployRoot, '.ltc-lock'))).toBe(false);
  });

  it('ltc rollback returns to the previous release and says how long it took', async () => {
    const r = await ltc(['rollback', '--env', 'staging']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`rolled back staging to releases/${releases.first} in \\d+(\\.\\d)?m?s`));
    expect(currentRelease(s)).toBe(releases.first);
    expect(await liveVersion(s)).toBe('1.0.0');
    // nothing older was ever live: previous is cleared (a second rollback needs --to)
    expect(previousRelease(s)).toBeUndefined();
    expect(revisions(s).at(-1)).toMatchObject({ action: 'rollback', outcome: 'ok', release: releases.first, from: releases.second });
    const again = await ltc(['rollback', '--env', 'staging']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('no previous release');
    expect(again.stderr).toMatch(new RegExp(`pick one with --to <release\\|rc>: .*${releases.second}, ${releases.first} \\(newest first`));
  });

  it('ltc rollback --to <rc> picks the newest release of that rc', async () => {
    const r = await ltc(['rollback', '--env', 'staging', '--to', 'rc-2026-03-01', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, release: releases.second, from: releases.first });
    expect(await liveVersion(s)).toBe('1.1.0');
    expect(previousRelease(s)).toBe(releases.first);
    // Exit 2 changes nothing and leaves no run journal behind: an unknown --to, a tag that does not exist.
    const runs = join(s.ops, '.ltc', 'runs');
    const journals = readdirSync(runs).sort();
    const bad = await ltc(['rollback', '--env', 'staging', '--to', 'rc-2099-01-01']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no release "rc-2099-01-01"');
    const noTag = await ltc(['deploy', '--rc', 'rc-2099-01-01', '--env', 'staging']);
    expect(noTag.code).toBe(2);
    expect(noTag.stderr).toContain('tag "rc-2099-01-01" does not exist');
    expect(readdirSync(runs).sort()).toEqual(journals);
  });

  it('ltc releases marks current and previous', async () => {
    const r = await ltc(['releases', '--env', 'staging', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const data = r.json as { current: string; previous: string; releases: Array<{ name: string; mark: string; rc: string }>; app: { running: boolean; pid: number } };
    expect(data.current).toBe(releases.second);
    expect(data.previous).toBe(releases.first);
    expect(data.releases.map((x) => x.name)).toEqual([releases.broken, releases.second, releases.first]);
    expect(data.releases.find((x) => x.name === releases.second)!.mark).toBe('current');
    expect(data.app).toMatchObject({ running: true, pid: appPid(s) });
    const text = await ltc(['releases', '--env', 'staging']);
    expect(text.stdout).toMatch(new RegExp(`\\* current\\s+${releases.second}`));
    expect(text.stdout).toMatch(new RegExp(`previous\\s+${releases.first}`));
  });

  it('records every deploy and rollback in revisions.log and the audit log', async () => {
    const rev = revisions(s);
    expect(rev.map((r) => `${r.action}:${r.outcome}`)).toEqual(['deploy:ok', 'deploy:ok', 'deploy:rolled_back', 'rollback:ok', 'rollback:ok']);
    for (const r of rev) expect(r.durationMs).toBeGreaterThan(0);
    const entries = (await audit(s)).filter((e) => e.action === 'deploy' || e.action === 'rollback');
    expect(entries.map((e) => `${e.action}:${e.outcome}:${String(e.details?.result)}`)).toEqual([
      'deploy:ok:ok',
      'deploy:ok:ok',
      'deploy:rolled_back:rolled_back',
      'rollback:ok:ok',
      'rollback:ok:ok',
    ]);
    // Each record carries the audit head its entry produced (the anchor), and the entries are keyed.
    const raw = readFileSync(join(s.deployRoot, 'revisions.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { audit?: { entries: number; hmac?: string }; by?: unknown; runId?: string });
    const all = await audit(s);
    for (const r of raw) {
      const e = all[r.audit!.entries - 1]!;
      expect(e.details?.runId).toBe(r.runId);
      expect((e as { hmac?: string }).hmac).toBe(r.audit!.hmac);
      expect(r.by).toEqual((e as { by?: unknown }).by);
    }
    const v = await s.ltc(['audit', 'verify', '--json']);
    expect(v.code, v.stderr + v.stdout).toBe(0);
    expect(v.json).toMatchObject({ ok: true, keyed: true, anchorsChecked: 5 });
    expect((await s.ltc(['audit', 'verify'], { env: { LTC_AUDIT_KEY_FILE: undefined } })).code).toBe(2);
    // A deploy without the key of a keyed log is refused before it changes anything (exit 2).
    const before = { current: currentRelease(s), revisions: revisions(s).length, audit: all.length };
    const refused = await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'], { env: { LTC_AUDIT_KEY_FILE: undefined } });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('LTC_AUDIT_KEY_FILE');
    expect({ current: currentRelease(s), revisions: revisions(s).length, audit: (await audit(s)).length }).toEqual(before);
  });

  it('keeps the newest N releases, never the current or previous', async () => {
    const st = await makeStage({ target: { keep_releases: 2 } });
    try {
      for (const rc of ['rc-2026-02-15', 'rc-2026-03-01', 'rc-2026-02-15']) {
        const r = await st.ltc(['deploy', '--rc', rc, '--env', 'staging']);
        expect(r.code, r.stderr).toBe(0);
      }
      const names = readdirSync(join(st.deployRoot, 'releases'));
      expect(names).toHaveLength(2);
      expect(names).toContain(currentRelease(st));
      expect(names).toContain(previousRelease(st));
      expect(releaseMeta(st, previousRelease(st)!).rc).toBe('rc-2026-03-01');
      // Failed (rolled back) deploys count too: the newest failed one stays for inspection, older ones go.
      const kept = [currentRelease(st), previousRelease(st)];
      for (let i = 0; i < 2; i++) expect((await st.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging'])).code).toBe(3);
      const after = readdirSync(join(st.deployRoot, 'releases'));
      expect(after).toHaveLength(3);
      expect(after).toEqual(expect.arrayContaining(kept));
      const failed = after.filter((n) => !kept.includes(n));
      expect(failed).toHaveLength(1);
      expect(failed[0]).toBe(revisions(st).at(-1)!.release);
    } finally {
      await stopStage(st);
      expect(processesUnder(st.dir)).toEqual([]);
    }
  });

  it('never shows a secret value in any output, journal, history or log', async () => {
    expect(secret).not.toBe('');
    for (const o of outputs) expect(o).not.toContain(secret);
    const runs = join(s.ops, '.ltc', 'runs');
    for (const f of readdirSync(runs)) expect(readFileSync(join(runs, f), 'utf8'), f).not.toContain(secret);
    expect(readFileSync(join(s.deployRoot, 'revisions.log'), 'utf8')).not.toContain(secret);
    expect(readFileSync(join(s.ops, '.ltc', 'audit.jsonl'), 'utf8')).not.toContain(secret);
    expect(readFileSync(join(s.deployRoot, 'shared', 'logs', 'app.log'), 'utf8')).not.toContain(secret);
    // ltc's own credential never reaches the app
    const pid = appPid(s)!;
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ.some((l) => l.startsWith('LTC_MASTER_KEY='))).toBe(false);
    expect(environ).toContain(`LTC_SECRET_KEY=${secret}`);
  });

  it('leaves exactly the app of the current release running; nothing after stopping it', async () => {
    const pid = appPid(s)!;
    expect(processesUnder(s.dir)).toEqual([pid]);
    const stopped = await stopStage(s);
    expect(stopped).toEqual([pid]);
    expect(processesUnder(s.dir)).toEqual([]);
  });
});
