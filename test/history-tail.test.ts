/**
 * Issue 17: history read from the end. linesFromEnd/lastLine against a forward split; liveAmong
 * and lastOutcomes against the full-read liveOf and forward fold; an audit append on a log it
 * reads only the tail of; a health probe over node:http whose server hangs up.
 */
import { createServer } from 'node:http';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit, auditHeadPath, auditPath, readAudit, verifyAudit } from '../src/audit/log.js';
import { lastLine, linesFromEnd } from '../src/core/tail.js';
import { lastOutcomes, liveAmong, liveOf } from '../src/deploy/history.js';
import { probe } from '../src/http/probe.js';
import type { ReleaseInfo, RevisionRecord } from '../src/targets/target.js';
import { cleanupTempDirs, tempDir } from './helpers/cli.js';

afterAll(cleanupTempDirs);

async function collect(file: string, chunk: number): Promise<string[]> {
  const out: string[] = [];
  for await (const l of linesFromEnd(file, chunk)) out.push(l);
  return out;
}

describe('linesFromEnd / lastLine', () => {
  it('yields the non-empty lines newest first at every chunk size, multibyte characters across chunk edges intact', async () => {
    const dir = await tempDir('ltc-tail-');
    const file = join(dir, 'x.jsonl');
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ i, s: 'äöü€'.repeat(i % 7), pad: 'x'.repeat(i * 3) }));
    await writeFile(file, lines.join('\n') + '\n\n' + 'torn-without-newline');
    const expected = [...lines, 'torn-without-newline'].reverse();
    for (const chunk of [1, 2, 3, 7, 64, 1000, 1 << 20]) expect(await collect(file, chunk)).toEqual(expected);
    expect(await lastLine(file)).toMatchObject({ last: 'torn-without-newline', endsWithNewline: false });
    await appendFile(file, '\n');
    expect(await lastLine(file)).toMatchObject({ last: 'torn-without-newline', endsWithNewline: true });
    expect(await collect(join(dir, 'missing'), 64)).toEqual([]);
    expect(await lastLine(join(dir, 'missing'))).toEqual({ endsWithNewline: true, size: 0 });
  });
});

describe('liveAmong / lastOutcomes (read from the end) agree with the full read', () => {
  it('on a long random history with failures, rollbacks, stops and a torn line', async () => {
    const dir = await tempDir('ltc-revs-');
    const file = join(dir, 'revisions.log');
    const base = Date.parse('2026-01-01T00:00:00Z');
    const names = Array.from({ length: 400 }, (_, i) => `rc-${i}-${new Date(base + i * 3600_000).toISOString()}`);
    const records: RevisionRecord[] = [];
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < names.length; i++) {
      const outcome = (['ok', 'ok', 'failed', 'rolled_back', 'interrupted'] as const)[Math.floor(rand() * 5)]!;
      const rec: RevisionRecord = {
        time: new Date(base + i * 3600_000 + 60_000).toISOString(),
        actor: 'a',
        action: rand() < 0.1 ? 'stop' : rand() < 0.2 ? 'rollback' : 'deploy',
        environment: 'e',
        rc: null,
        commit: null,
        release: rand() < 0.15 && i > 0 ? names[i - 1]! : names[i]!,
        releaseDir: null,
        from: null,
        outcome,
        durationMs: 1,
        ...(outcome === 'rolled_back' ? { rolledBackTo: names[Math.max(0, i - 1 - Math.floor(rand() * 3))]! } : {}),
      };
      records.push(rec);
    }
    await writeFile(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n{"torn":');
    const readRevisions = async () => records;
    const revisionsNewestFirst = async function* () {
      for await (const l of linesFromEnd(file, 512)) {
        try {
          yield JSON.parse(l) as RevisionRecord;
        } catch {
          /* torn */
        }
      }
    };
    // The releases still on the target: the newest few (kept), plus an old one.
    for (const keep of [[395, 396, 397, 398, 399], [10, 398, 399], [0], []]) {
      const releases: ReleaseInfo[] = keep.map((i) => ({ name: names[i]!, dir: '', createdMs: base + i * 3600_000, current: false, previous: false }));
      const target = { readRevisions, listReleases: async () => releases, revisionsNewestFirst };
      const full = liveOf(records);
      const wanted = new Set(keep.map((i) => names[i]!));
      expect([...(await liveAmong(target))].sort()).toEqual([...full].filter((n) => wanted.has(n)).sort());
      const forward = new Map<string, string>();
      for (const r of records) {
        if (r.release) forward.set(r.release, `${r.action} ${r.outcome}`);
        if (r.rolledBackTo) forward.set(r.rolledBackTo, 'rolled back to (ok)');
      }
      const expected = [...forward].filter(([n]) => wanted.has(n)).sort();
      expect([...(await lastOutcomes(target, releases))].sort()).toEqual(expected);
    }
  });
});

describe('appendAudit reads only the tail when audit.head vouches for it', () => {
  it('continues the chain after a long log; without the head file (or with a lost trailing newline) it reads the whole log, and verify passes', async () => {
    const dir = await tempDir('ltc-audit-tail-');
    const stateDir = join(dir, '.ltc');
    for (let i = 0; i < 30; i++) await appendAudit(stateDir, { action: 'secret.read', outcome: 'ok', secret: `S${i}` });
    expect((await readAudit(stateDir)).map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    await rm(auditHeadPath(stateDir));
    await appendAudit(stateDir, { action: 'deploy', outcome: 'ok' });
    const text = await readFile(auditPath(stateDir), 'utf8');
    await writeFile(auditPath(stateDir), text.slice(0, -1)); // the trailing newline lost
    await rm(auditHeadPath(stateDir));
    await appendAudit(stateDir, { action: 'deploy', outcome: 'ok' });
    await appendAudit(stateDir, { action: 'rollback', outcome: 'ok' });
    const entries = await readAudit(stateDir);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 33 }, (_, i) => i + 1));
    expect(await verifyAudit(stateDir)).toMatchObject({ ok: true, entries: 33 });
  });
});

describe('health probe over node:http', () => {
  it('a server that closes the connection without answering: "closed the connection before answering"; a 200 passes', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/hangup') req.socket.destroy();
      else res.end('{"status":"ok"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const target = (path: string) => ({
      name: 'x',
      url: `http://127.0.0.1:${port}${path}`,
      method: 'GET' as const,
      headers: {},
      conditions: [],
      timeoutMs: 2000,
      retries: 0,
      backoffMs: 10,
      maxBackoffMs: 10,
      insecure: false,
      maxBodyBytes: 1024,
    });
    try {
      const bad = await probe(target('/hangup'), new AbortController().signal);
      expect(bad.ok).toBe(false);
      expect(bad.error).toBe(`127.0.0.1:${port} closed the connection before answering`);
      const good = await probe(target('/'), new AbortController().signal);
      expect(good).toMatchObject({ ok: true, status: 200 });
    } finally {
      server.close();
    }
  });
});
