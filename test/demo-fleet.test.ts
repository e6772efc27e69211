/**
 * `ltc demo --hosts 3`: three real sshd hosts on loopback behind a real HAProxy, the demo story
 * over ssh with a load generator counting failed requests; nothing left running afterwards.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, runLtc } from './helpers/cli.ts';
import { processesMentioning } from './helpers/processes.ts';

afterAll(cleanupTempDirs);


describe('ltc demo --hosts', () => {
  it('bad --hosts values: exit 2, nothing created', async () => {
    for (const v of ['0', '9', 'three', '3;touch /tmp/x', '-1']) {
      const r = await runLtc(['demo', '--hosts', v]);
      expect(r.code, `${v}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/give a number of hosts from 1 to 8/);
    }
  });

  it('--dry-run lists the fleet story', async () => {
    const r = await runLtc(['demo', '--hosts', '3', '--dry-run', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const cmds = (r.json as { stages: Array<{ command: string }> }).stages.map((s) => s.command);
    expect(cmds).toEqual(expect.arrayContaining(['ltc status', 'ltc rollback', 'ltc deploy --rc rc-2026-03-01.1', 'ltc releases --hosts api1']));
  });

  it('runs the story on three hosts behind HAProxy: every stage as expected, 0 failed requests under load, nothing left running', async () => {
    const r = await runLtc(['demo', '--hosts', '3', '--json'], { timeout: 420_000 });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const doc = r.json as { workspace: string; hosts: number; load: { requests: number; failed: number }; stages: Array<{ command: string; exitCode: number; ok: boolean }> };
    expect(doc.hosts).toBe(3);
    expect(doc.stages.every((s) => s.ok)).toBe(true);
    expect(Object.fromEntries(doc.stages.map((s) => [s.command, s.exitCode]))).toMatchObject({
      'ltc gates run --rc rc-2026-03-01': 0,
      'ltc deploy --rc rc-2026-03-01.1': 3,
      'ltc rollback': 0,
      'ltc status': 0,
      'ltc deploy --rc rc-2026-03-01.2': 0,
      'ltc watch --for 30s --interval 500ms --auto-rollback': 3,
    });
    expect(doc.load.requests).toBeGreaterThan(500);
    expect(doc.load.failed).toBe(0);
    await new Promise((res) => setTimeout(res, 300));
    expect(await processesMentioning(doc.workspace)).toEqual([]);
  }, 450_000);
});
