import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { LTC, cleanupTempDirs, runLtc, tempDir } from './helpers/cli.js';
import { processesMentioning } from './helpers/processes.ts';

afterAll(cleanupTempDirs);

describe('ltc demo', () => {
  it('--dry-run lists the commands it would run and creates or starts nothing', async () => {
    const dir = await tempDir('ltc-demo-dry-');
    const r = await runLtc(['demo', '--dry-run', '--dir', `${dir}/ws`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json as { dryRun: boolean; stages: Array<{ command: string; expectedExit: number }> };
    expect(doc.dryRun).toBe(true);
    expect(doc.stages.map((s) => s.command)).toContain('ltc deploy --rc rc-2026-03-01.1');
    expect(doc.stages.find((s) => s.command === 'ltc deploy --rc rc-2026-03-01.1')?.expectedExit).toBe(3);
    expect(existsSync(`${dir}/ws`)).toBe(false);
  });

  it('runs the whole story (gates, two deploys, health, broken deploy rolled back, rollback, a regression the watch catches and rolls back) and leaves nothing running', async () => {
    const r = await runLtc(['demo', '--json'], { timeout: 180_000 });
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    const doc = r.json as { ok: boolean; workspace: string; kept: boolean; stages: Array<{ command: string; exitCode: number; ok: boolean; durationMs: number }> };
    expect(doc.ok).toBe(true);
    for (const s of doc.stages) expect(Number.isInteger(s.durationMs), `${s.command}: ${s.durationMs}`).toBe(true);
    const byCommand = Object.fromEntries(doc.stages.map((s) => [s.command, s.exitCode]));
    expect(byCommand).toMatchObject({
      'ltc gates run --rc rc-2026-03-01': 0,
      'ltc deploy --rc rc-2026-02-15': 0,
      'ltc deploy --rc rc-2026-03-01': 0,
      'ltc deploy --rc rc-2026-03-01.1': 3,
      'ltc rollback': 0,
      'ltc audit verify': 0,
      'ltc watch --for 3s --interval 500ms': 0,
      'ltc deploy --rc rc-2026-03-01.2': 0,
      'ltc watch --for 30s --interval 500ms --auto-rollback': 3,
    });
    expect(doc.stages.every((s) => s.ok)).toBe(true);
    expect(doc.kept).toBe(false);
    expect(existsSync(doc.workspace)).toBe(false);
    expect(await processesMentioning(doc.workspace)).toEqual([]);
  }, 200_000);

  it('Ctrl-C in the middle exits 130 and stops the app it started; --dir keeps the workspace and says so', async () => {
    const dir = await tempDir('ltc-demo-int-');
    const work = `${dir}/ws`;
    const child = execa(process.execPath, [LTC, 'demo', '--dir', work], { env: { NO_COLOR: '1', CI: 'true' }, reject: false, all: true });
    // Interrupt once the first deploy has started the app.
    const deadline = Date.now() + 120_000;
    while (!existsSync(`${work}/deploy/shared/app.pid`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(`${work}/deploy/shared/app.pid`)).toBe(true);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(result.all).toMatch(/interrupted/);
    // --dir keeps the workspace, and the message says so (it said "removed")
    expect(result.all).toContain(`the workspace kept: ${work}`);
    expect(existsSync(work)).toBe(true);
    expect(await processesMentioning(work)).toEqual([]);
  }, 200_000);
});
