import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileAccessError, InternalError, toLtcError } from '../src/core/errors.ts';
import { readPidFile } from '../src/targets/local/pid-file.ts';
import { ltcInProcess } from './helpers/inproc.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** An ops dir with a local target whose deploy root is `<dir>/deploy`. */
function opsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ltc-unreadable-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'ltc.config.yaml'), 'version: 1\napp: { repo: ./app }\nenvironments:\n  staging:\n    target: { type: local, deploy_root: ./deploy, start: [node, server.mjs] }\n');
  mkdirSync(join(dir, 'deploy'));
  return dir;
}

describe('a deploy root that is there but cannot be read is an error naming the path, never "no releases yet"', () => {
  it('releases/ is a file: exit 1, the path and what is wrong (human and --json)', async () => {
    const dir = opsDir();
    writeFileSync(join(dir, 'deploy', 'releases'), 'not a folder');
    const r = await ltcInProcess(['releases'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot list the folder ${join(dir, 'deploy', 'releases')}`);
    expect(r.stderr).toMatch(/ENOTDIR/);
    expect(r.stdout).not.toMatch(/none yet/);
    const j = await ltcInProcess(['releases', '--json'], { cwd: dir });
    expect(j.code).toBe(1);
    expect(j.json).toMatchObject({ ok: false, error: { code: 'file_access' } });
  });

  it('revisions.log is a folder: exit 1 naming it', async () => {
    const dir = opsDir();
    mkdirSync(join(dir, 'deploy', 'releases', 'rc-2026-03-01-20261207T114153.993Z'), { recursive: true });
    mkdirSync(join(dir, 'deploy', 'revisions.log'));
    for (const args of [['releases'], ['status'], ['lock', 'status']]) {
      const r = await ltcInProcess(args, { cwd: dir });
      if (args[0] === 'lock') {
        expect(r.code, r.stderr).toBe(0);
        continue;
      }
      expect(r.stderr, args.join(' ')).toContain(join(dir, 'deploy', 'revisions.log'));
      expect(r.stderr).not.toMatch(/bug in ltc/);
      expect(r.code).toBe(1);
    }
    mkdirSync(join(dir, 'deploy', '.ltc-lock'));
    const lock = await ltcInProcess(['lock', 'status'], { cwd: dir });
    expect(lock.code).toBe(1);
    expect(lock.stderr).toContain(`cannot read ${join(dir, 'deploy', '.ltc-lock')}: it is a folder where a file was expected (EISDIR)`);
  });

  it('a current link that points at itself names no release (exit 0), like a missing one', async () => {
    const dir = opsDir();
    mkdirSync(join(dir, 'deploy', 'releases'));
    const ok = await ltcInProcess(['releases'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/none yet/);
    symlinkSync('current', join(dir, 'deploy', 'current'));
    const loop = await ltcInProcess(['releases'], { cwd: dir });
    expect(loop.code).toBe(0); // readlink does not follow: a link to itself names no release
  });

  it('current or previous naming a release that is gone: releases warns with the way out, status is not ok (exit 1)', async () => {
    const dir = opsDir();
    // The newest release failed its deploy (rolled back): the way out is the older one, which was live.
    const there = 'rc-2026-03-01-20261207T114153.993Z';
    const broken = 'rc-2026-03-01.1-20261207T120000.000Z';
    mkdirSync(join(dir, 'deploy', 'releases', there), { recursive: true });
    mkdirSync(join(dir, 'deploy', 'releases', broken), { recursive: true });
    const { utimesSync } = await import('node:fs');
    utimesSync(join(dir, 'deploy', 'releases', there), new Date('2026-12-07T11:41:53Z'), new Date('2026-12-07T11:41:53Z'));
    utimesSync(join(dir, 'deploy', 'releases', broken), new Date('2026-12-07T12:00:00Z'), new Date('2026-12-07T12:00:00Z'));
    writeFileSync(
      join(dir, 'deploy', 'revisions.log'),
      [
        { time: '2026-12-07T11:42:00.000Z', action: 'deploy', outcome: 'ok', release: there },
        { time: '2026-12-07T12:00:10.000Z', action: 'deploy', outcome: 'rolled_back', release: broken, rolledBackTo: there },
      ].map((r) => JSON.stringify(r) + '\n').join(''),
    );
    symlinkSync('releases/rc-2026-02-15-20261201T000000.000Z', join(dir, 'deploy', 'current'));
    symlinkSync('releases/rc-2026-01-15-20261101T000000.000Z', join(dir, 'deploy', 'previous'));
    const r = await ltcInProcess(['releases'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `current → releases/rc-2026-02-15-20261201T000000.000Z, which is missing: the app cannot start from it; point current at a release that exists: ltc rollback --env staging --to ${there} (the newest release that was live once)`,
    );
    expect(r.stdout).not.toContain(`--to ${broken}`);
    expect(r.stdout).toContain(`previous → releases/rc-2026-01-15-20261101T000000.000Z, which is missing: a rollback without --to cannot go there; name one with --to: ltc rollback --env staging --to ${there}`);
    const j = await ltcInProcess(['releases', '--json'], { cwd: dir });
    expect((j.json as { missing: unknown[] }).missing).toEqual([
      { link: 'current', release: 'rc-2026-02-15-20261201T000000.000Z' },
      { link: 'previous', release: 'rc-2026-01-15-20261101T000000.000Z' },
    ]);
    const st = await ltcInProcess(['status'], { cwd: dir });
    expect(st.code).toBe(1);
    expect(st.stdout).toMatch(/not ok: current → releases\/rc-2026-02-15-20261201T000000\.000Z, which is missing/);
  });

  it('a release whose actor is unknown shows "last: …" without a stray comma', async () => {
    const dir = opsDir();
    const name = 'rc-2026-03-01-20261207T114153.993Z';
    mkdirSync(join(dir, 'deploy', 'releases', name), { recursive: true });
    writeFileSync(join(dir, 'deploy', 'revisions.log'), `${JSON.stringify({ time: '2026-12-07T11:41:54.000Z', action: 'deploy', outcome: 'ok', release: name })}\n`);
    const r = await ltcInProcess(['releases'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${name.replace(/\./g, '\\.')}.*  last: deploy ok$`, 'm'));
    expect(r.stdout).not.toMatch(/, last:/);
  });

  it('EACCES and the other file errors that escape become a FileAccessError with the path and a hint; others stay internal', () => {
    const errno = (code: string, syscall: string, path?: string) => Object.assign(new Error(`${code}: x, ${syscall}`), { code, syscall, ...(path ? { path } : {}) });
    const denied = toLtcError(errno('EACCES', 'scandir', '/srv/deploy/releases'));
    expect(denied).toBeInstanceOf(FileAccessError);
    expect(denied.exitCode).toBe(1);
    expect(denied.message).toBe('cannot list the folder /srv/deploy/releases: permission denied (EACCES)');
    expect(denied.hint).toMatch(/ls -ld \/srv\/deploy \/srv\/deploy\/releases/);
    expect(toLtcError(errno('EROFS', 'open', '/srv/x')).message).toMatch(/read-only/);
    expect(toLtcError(errno('EACCES', 'scandir'))).toBeInstanceOf(InternalError);
    expect(toLtcError(new TypeError('x is not a function'))).toBeInstanceOf(InternalError);
  });

  it('a pid file that is not a record, or names pid 0/1 or a group 0/1, is no record (ltc never signals group 0 or 1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ltc-pidfile-'));
    dirs.push(dir);
    const file = join(dir, 'app.pid');
    for (const text of ['garbage', 'null', '[]', '{"pid":"12"}', '{"pid":1}', '{"pid":0}', '{"pid":-5}', '{"pid":1.5}']) {
      writeFileSync(file, text);
      expect(await readPidFile(file), text).toBeUndefined();
    }
    writeFileSync(file, '{"pid":4242,"pgid":1,"release":"r","startedAt":"x","command":[]}');
    expect((await readPidFile(file))?.pgid).toBe(4242);
    writeFileSync(file, '{"pid":4242,"pgid":0,"release":"r","startedAt":"x","command":[]}');
    expect((await readPidFile(file))?.pgid).toBe(4242);
    expect(await readPidFile(join(dir, 'none.pid'))).toBeUndefined();
    mkdirSync(join(dir, 'dir.pid'));
    await expect(readPidFile(join(dir, 'dir.pid'))).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('a secrets store that is damaged or in the way is exit 2 with what to do, never an internal error', () => {
  const setup = async () => {
    const { randomBytes } = await import('node:crypto');
    const dir = mkdtempSync(join(tmpdir(), 'ltc-store-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'ltc.config.yaml'), 'version: 1\napp: { repo: ./app }\nenvironments:\n  staging:\n    target: { type: local, deploy_root: ./deploy, start: [node, server.mjs] }\n    secrets: { backend: file }\n');
    return { dir, env: { LTC_MASTER_KEY: randomBytes(32).toString('base64'), LTC_ENV: 'staging' } };
  };

  it('metadata edited to the wrong type (created: 12345, a stage that does not exist) reads as a damaged store', async () => {
    const { readFileSync } = await import('node:fs');
    const { dir, env } = await setup();
    expect((await ltcInProcess(['secrets', 'generate', 'API_TOKEN'], { cwd: dir, env })).code).toBe(0);
    const file = join(dir, '.ltc', 'secrets', 'staging.json');
    const good = readFileSync(file, 'utf8');
    for (const edit of [(t: string) => t.replace(/"created": *"[^"]*"/, '"created": 12345'), (t: string) => t.replace('"current"', '"live"'), (t: string) => t.replace(/"nextVersion": *\d+/, '"nextVersion": "2"')]) {
      writeFileSync(file, edit(good));
      for (const args of [['secrets', 'get', 'API_TOKEN'], ['secrets', 'list']]) {
        const r = await ltcInProcess(args, { cwd: dir, env });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(/is corrupted: .*wrong type/);
        expect(r.stderr).toMatch(/restore .* from a backup/);
      }
    }
  });

  it('a folder where the store belongs: exit 2, "move the folder away"', async () => {
    const { dir, env } = await setup();
    mkdirSync(join(dir, '.ltc', 'secrets', 'staging.json'), { recursive: true });
    const r = await ltcInProcess(['secrets', 'get', 'API_TOKEN'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/EISDIR/);
    expect(r.stderr).toMatch(/hint: move the folder .*staging\.json away/);
  });
});
