/** The audit log: hash chain + head file, and `ltc audit log / verify`. */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit, auditHeadPath, auditPath, readAudit, verifyAudit } from '../src/audit/log.js';
import { cleanupTempDirs, runLtc, tempDir } from './helpers/cli.js';

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
});
