/** The audit log: hash chain + head file, and `ltc audit log / verify`. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit, auditHeadNextPath, auditHeadPath, auditPath, readAudit, sha256, verifyAudit } from '../src/audit/log.js';
import { withLock } from '../src/core/fs-atomic.js';
import { cleanupTempDirs, ROOT, runLtc, tempDir } from './helpers/cli.js';

afterAll(cleanupTempDirs);

async function logWith(n: number): Promise<{ dir: string; stateDir: string; lines: string[] }> {
  const dir = await tempDir('ltc-audit-');
  const stateDir = join(dir, '.ltc');
  for (let i = 1; i <= n; i++) {
    await appendAudit(stateDir, { action: i % 2 ? 'secret.read' : 'deploy', outcome: 'ok', environment: 'staging', secret: i % 2 ? 'LTC_SECRET_KEY' : undefined, rc: i % 2 ? undefined : 'rc-2026-03-01', version: String(i) });
  }
  const lines = (await readFile(auditPath(stateDir), 'utf8')).trim().split('\n');
  return { dir, stateDir, lines };
}

async function rewrite(stateDir: string, lines: string[]): Promise<void> {
  await writeFile(auditPath(stateDir), lines.map((l) => l + '\n').join(''));
}

async function cliVerify(dir: string): Promise<{ code: number; stderr: string; json: { ok: boolean; error?: { firstBadLine?: number; reason?: string; message: string } } }> {
  const r = await runLtc(['audit', 'verify', '--json'], { cwd: dir, env: { LTC_STATE_DIR: join(dir, '.ltc') } });
  return { code: r.code, stderr: r.stderr, json: r.json as { ok: boolean; error?: { firstBadLine?: number; reason?: string; message: string } } };
}

describe('audit log', () => {
  it('chains entries, keeps a head file, and verifies intact', async () => {
    const { dir, stateDir, lines } = await logWith(5);
    const entries = await readAudit(stateDir);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[0]!.prev).toBe('0'.repeat(64));
    expect(entries.every((e) => typeof e.actor === 'string' && e.actor.length > 0)).toBe(true);
    const head = JSON.parse(await readFile(auditHeadPath(stateDir), 'utf8')) as { seq: number };
    expect(head.seq).toBe(5);
    expect(lines).toHaveLength(5);
    expect((await verifyAudit(stateDir)).ok).toBe(true);
    const r = await cliVerify(dir);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, entries: 5 });
  });

  it('finds an edited entry and names its line', async () => {
    const { dir, stateDir, lines } = await logWith(5);
    lines[1] = lines[1]!.replace('"outcome":"ok"', '"outcome":"failed"');
    await rewrite(stateDir, lines);
    const r = await cliVerify(dir);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ firstBadLine: 2 });
    expect(r.json.error!.message).toContain('line 2');
  });

  it('names the line that was changed, not the one before it: an edited prev, an entry added after the last', async () => {
    const { dir, stateDir, lines } = await logWith(5);
    // Line 3's own `prev` edited: line 2 is intact; line 3 no longer carries its hash and line 4 no longer confirms line 3.
    const edited = [...lines];
    edited[2] = edited[2]!.replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${'f'.repeat(64)}"`);
    await rewrite(stateDir, edited);
    let r = await cliVerify(dir);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ firstBadLine: 3 });
    // The same on the last line (audit.head no longer confirms it).
    const last = [...lines];
    last[4] = last[4]!.replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${'e'.repeat(64)}"`);
    await rewrite(stateDir, last);
    r = await cliVerify(dir);
    expect(r.json.error).toMatchObject({ firstBadLine: 5 });
    // A line appended by hand after the last entry ltc wrote: that line is named, as added.
    await rewrite(stateDir, [...lines, JSON.stringify({ seq: 6, time: new Date().toISOString(), actor: 'x', action: 'secret.read', outcome: 'ok', prev: 'nope' })]);
    r = await cliVerify(dir);
    expect(r.json.error).toMatchObject({ firstBadLine: 6 });
    expect(r.json.error!.reason).toContain('added outside ltc');
    // And an edit of line 2 still names line 2 (line 3 recorded its old hash, line 4 confirms line 3).
    const two = [...lines];
    two[1] = two[1]!.replace('"outcome":"ok"', '"outcome":"failed"');
    await rewrite(stateDir, two);
    r = await cliVerify(dir);
    expect(r.json.error).toMatchObject({ firstBadLine: 2 });
  });

  it('finds a removed entry', async () => {
    const { dir, stateDir, lines } = await logWith(5);
    lines.splice(2, 1);
    await rewrite(stateDir, lines);
    const r = await cliVerify(dir);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ firstBadLine: 3 });
    expect(r.json.error!.reason).toContain('removed');
  });

  it('finds reordered entries', async () => {
    const { dir, stateDir, lines } = await logWith(5);
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    await rewrite(stateDir, lines);
    const r = await cliVerify(dir);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ firstBadLine: 2 });
    expect(r.json.error!.reason).toContain('reordered');
  });

  it('finds an edited last entry (the chain alone cannot) through the head file', async () => {
    const { dir, stateDir, lines } = await logWith(4);
    lines[3] = lines[3]!.replace('"version":"4"', '"version":"9"');
    await rewrite(stateDir, lines);
    const r = await cliVerify(dir);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ firstBadLine: 4 });
    expect(r.json.error!.reason).toContain('last entry was edited');
  });

  it('finds a removed last entry and a missing head file', async () => {
    const { dir, stateDir, lines } = await logWith(4);
    await rewrite(stateDir, lines.slice(0, 3));
    let r = await cliVerify(dir);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ firstBadLine: 4 });
    await rewrite(stateDir, lines);
    expect((await cliVerify(dir)).code).toBe(0);
    await rm(auditHeadPath(stateDir));
    r = await cliVerify(dir);
    expect(r.code).toBe(1);
    expect(r.json.error!.reason).toContain('audit.head is missing');
  });

  it('takes over a lock whose owner was killed but not reaped yet (a zombie still answers kill(pid, 0))', async () => {
    const dir = await tempDir('ltc-lock-');
    const lock = join(dir, 'x.lock');
    // `sleep 0.2` ends after its parent exec'd into `sleep 30`, which never waits for it: a zombie (`sleep 0` could end, and be reaped by sh, before the exec).
    const parent = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombiePid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (b: Buffer) => resolve(b.toString().trim()))));
      const until = Date.now() + 10_000;
      const state = () => {
        const stat = existsSync(`/proc/${zombiePid}/stat`) ? readFileSync(`/proc/${zombiePid}/stat`, 'utf8') : '';
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      };
      while (state() !== 'Z') {
        if (Date.now() > until) throw new Error(`pid ${zombiePid} never became a zombie (state ${state()})`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await writeFile(lock, `${zombiePid} deadbeef\n`);
      // Like `ltc secrets rotate`: no waiting for a live owner (exit 5 at once) — this owner is not live.
      expect(await withLock(lock, 'test lock', async () => 'ran', 0)).toBe('ran');
      expect(existsSync(lock)).toBe(false);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('appends from parallel processes without breaking the chain', async () => {
    const dir = await tempDir('ltc-audit-');
    const stateDir = join(dir, '.ltc');
    await Promise.all(Array.from({ length: 12 }, (_, i) => appendAudit(stateDir, { action: 'secret.read', outcome: 'ok', secret: `S${i}` })));
    const v = await verifyAudit(stateDir);
    expect(v).toMatchObject({ ok: true, entries: 12 });
  });

  it('`ltc audit log` filters by --since and prints JSON', async () => {
    const { dir, stateDir, lines } = await logWith(3);
    const old = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(old.time).toBeTypeOf('string');
    const all = await runLtc(['audit', 'log', '--json'], { cwd: dir, env: { LTC_STATE_DIR: stateDir } });
    expect(all.code).toBe(0);
    expect((all.json as { entries: unknown[] }).entries).toHaveLength(3);
    const future = await runLtc(['audit', 'log', '--since', '2999-01-01', '--json'], { cwd: dir, env: { LTC_STATE_DIR: stateDir } });
    expect((future.json as { entries: unknown[] }).entries).toHaveLength(0);
    const recent = await runLtc(['audit', 'log', '--since', '1h'], { cwd: dir, env: { LTC_STATE_DIR: stateDir } });
    expect(recent.code).toBe(0);
    expect(recent.stdout).toContain('secret.read');
    expect(recent.stdout).toContain('rc-2026-03-01');
    const bad = await runLtc(['audit', 'log', '--since', 'yesterday'], { cwd: dir, env: { LTC_STATE_DIR: stateDir } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since');
  });

  it('takes over the lock of a killed process (pid gone, or an old empty lock) instead of failing every later entry', async () => {
    const { dir, stateDir } = await logWith(2);
    const lock = `${auditPath(stateDir)}.lock`;
    // A pid that ran and ended: what SIGKILL during an append leaves behind.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(lock, `${gone}\n`);
    await appendAudit(stateDir, { action: 'secret.read', outcome: 'ok', secret: 'AFTER_KILL' });
    expect(existsSync(lock)).toBe(false);
    // Written by an older ltc: created, killed before the pid was written.
    await writeFile(lock, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    const r = await runLtc(['audit', 'log', '--json'], { cwd: dir, env: { LTC_STATE_DIR: stateDir } });
    expect(r.code).toBe(0);
    await appendAudit(stateDir, { action: 'secret.read', outcome: 'ok', secret: 'AFTER_EMPTY' });
    expect((await readAudit(stateDir)).map((e) => e.secret ?? e.rc)).toEqual(['LTC_SECRET_KEY', 'rc-2026-03-01', 'AFTER_KILL', 'AFTER_EMPTY']);
    expect((await verifyAudit(stateDir)).ok).toBe(true);
    expect((await readdir(stateDir)).filter((f) => f.includes('.lock'))).toEqual([]);
  });

  it('a lock held by a live process is waited for, then refused with exit 5 naming it', async () => {
    const dir = await tempDir('ltc-audit-');
    const lock = join(dir, 'x.lock');
    const holder = spawn('sleep', ['30']);
    try {
      await writeFile(lock, `${holder.pid}\n`);
      const err = await withLock(lock, 'the thing', async () => 'taken', 100).catch((e: unknown) => e);
      expect(err).toMatchObject({ exitCode: 5 });
      expect((err as Error).message).toContain(`locked by another ltc process (pid ${holder.pid})`);
      expect(await readFile(lock, 'utf8')).toBe(`${holder.pid}\n`);
    } finally {
      holder.kill('SIGKILL');
    }
    // Two holders in one process take turns (the pid alone would call the other one's lock stale).
    const order: string[] = [];
    await Promise.all(
      ['a', 'b', 'c'].map((n) =>
        withLock(lock, 'the thing', async () => {
          order.push(`${n}+`);
          await new Promise((r) => setTimeout(r, 30));
          order.push(`${n}-`);
        }),
      ),
    );
    for (let i = 0; i < order.length; i += 2) expect(order[i]!.slice(0, 1)).toBe(order[i + 1]!.slice(0, 1));
  });

  it('an append killed after writing its line, before moving the head, still verifies; the next append carries on', async () => {
    const { dir, stateDir, lines } = await logWith(3);
    // The state such a kill leaves: line 4 chained and on disk, audit.head still at 3, audit.head.next naming line 4.
    const entry = { seq: 4, time: new Date().toISOString(), actor: 't', action: 'secret.read', outcome: 'ok', prev: sha256(lines[2]!) };
    const line = JSON.stringify(entry);
    await writeFile(auditPath(stateDir), [...lines, line].map((l) => l + '\n').join(''));
    await writeFile(auditHeadNextPath(stateDir), JSON.stringify({ seq: 4, sha256: sha256(line) }) + '\n');
    expect((await cliVerify(dir)).json).toMatchObject({ ok: true, entries: 4 });
    // Killed before its line was written: audit.head.next names a line that is not there.
    await writeFile(auditHeadNextPath(stateDir), JSON.stringify({ seq: 5, sha256: sha256('never written') }) + '\n');
    expect((await cliVerify(dir)).code).toBe(1); // the head (3) is behind line 4 again: reported
    await writeFile(auditHeadNextPath(stateDir), JSON.stringify({ seq: 4, sha256: sha256(line) }) + '\n');
    await appendAudit(stateDir, { action: 'secret.read', outcome: 'ok', secret: 'NEXT' });
    expect(existsSync(auditHeadNextPath(stateDir))).toBe(false);
    expect(await verifyAudit(stateDir)).toMatchObject({ ok: true, entries: 5 });
    // A forged audit.head.next does not hide an edited last line.
    const edited = (await readFile(auditPath(stateDir), 'utf8')).replace('"secret":"NEXT"', '"secret":"EDIT"');
    await writeFile(auditPath(stateDir), edited);
    expect((await cliVerify(dir)).json.error).toMatchObject({ firstBadLine: 5 });
  });

  it('processes killed (SIGKILL) while appending leave a log that verifies and takes more entries', async () => {
    const dir = await tempDir('ltc-audit-');
    const stateDir = join(dir, '.ltc');
    const logModule = pathToFileURL(join(ROOT, 'dist', 'src', 'audit', 'log.js')).href;
    const script = `const { appendAudit } = await import(${JSON.stringify(logModule)}); for (let i = 0; ; i++) await appendAudit(${JSON.stringify(stateDir)}, { action: 'secret.read', outcome: 'ok', secret: 'LOOP', version: String(i) });`;
    for (let round = 0; round < 6; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
      // Kill it once it has appended at least one entry this round.
      const before = (await readAudit(stateDir)).length;
      for (let i = 0; i < 500 && (await readAudit(stateDir)).length <= before; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 5 + round * 7));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const v = await verifyAudit(stateDir);
      expect(v, `round ${round}`).toMatchObject({ ok: true });
      await appendAudit(stateDir, { action: 'secret.read', outcome: 'ok', secret: 'AFTER', version: String(round) });
      expect((await verifyAudit(stateDir)).ok, `round ${round} after append`).toBe(true);
    }
    expect((await readAudit(stateDir)).filter((e) => e.secret === 'AFTER')).toHaveLength(6);
    // Nothing left of the killed processes' locks and lock attempts.
    expect((await readdir(stateDir)).sort()).toEqual(['audit.head', 'audit.jsonl']);
  });
});
