/**
 * ltc incident: open (id, commander, the release running from the revisions log, who to page),
 * note/update/close/list/show, the audit entries, the bad input of the issue (unknown id,
 * closed incidents, a bad status, a damaged record, two updates at once), the status webhooks
 * (a loopback receiver: answering, answering 500, unreachable), and the post-mortem: with no
 * records in its span, and with a real deploy + rollback of the demo app on the local target.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cleanupTempDirs, freePort, runLtc, tempDir } from './helpers/cli.ts';
import { audit, currentRelease, makeStage, revisions, stopStage, type Stage } from './helpers/deploy.ts';
import { ltcInProcess } from './helpers/inproc.ts';
import { startReceiver, type Receiver } from './helpers/prometheus.ts';

interface IncidentJson {
  id: string;
  state: string;
  status: string;
  severity: number;
  environment: string | null;
  release: string | null;
  commander: string;
  resolvedAt: string | null;
  closedAt: string | null;
  events: Array<{ kind: string; status?: string; text?: string; actor: string; time: string; entry?: string; posts?: Array<{ webhook: string; ok: boolean; attempts: number; status?: number; error?: string }> }>;
}

const CONTACTS = [
  { name: 'Release Manager', role: 'release-manager', email: 'release@example.com' },
  { name: 'Ana Oncall', role: 'on-call', phone: '+49 30 1234567' },
];

/** An ops folder with a config and no target (nothing deployed). */
async function plainOps(incidents: Record<string, unknown> = {}): Promise<string> {
  const dir = join(await tempDir('ltc-incident-'), 'ops');
  await mkdir(dir, { recursive: true });
  const config = {
    version: 1,
    app: { name: 'demo', repo: dir },
    default_env: 'staging',
    environments: { staging: { url: 'http://127.0.0.1:9' }, prod: { url: 'http://127.0.0.1:9', protected: true } },
    contacts: CONTACTS,
    incidents: { retries: 2, retry_backoff: '10ms', post_timeout: '2s', ...incidents },
  };
  await writeFile(join(dir, 'ltc.config.yaml'), stringify(config));
  return dir;
}

const today = () => new Date().toISOString().slice(0, 10).replaceAll('-', '');

function record(ops: string, id: string): IncidentJson {
  return JSON.parse(readFileSync(join(ops, '.ltc', 'incidents', `${id}.json`), 'utf8')) as IncidentJson;
}

async function auditOf(ops: string): Promise<Array<{ seq: number; action: string; details?: Record<string, unknown> }>> {
  const file = join(ops, '.ltc', 'audit.jsonl');
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { seq: number; action: string; details?: Record<string, unknown> });
}

async function open(ops: string, extra: string[] = []): Promise<string> {
  const r = await ltcInProcess(['incident', 'open', '--sev', '3', '--title', 'slow pages', '--json', ...extra], { cwd: ops });
  expect(r.code, r.stderr).toBe(0);
  return (r.json as { id: string }).id;
}

afterAll(cleanupTempDirs);

describe('ltc incident: the record and its life', () => {
  let ops: string;
  let stage: Stage;

  beforeAll(async () => {
    stage = await makeStage({ top: { contacts: CONTACTS, default_env: 'staging' } });
    const d = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(d.code, d.stderr).toBe(0);
    ops = stage.ops;
  }, 120_000);
  afterAll(async () => {
    if (stage) await stopStage(stage);
  });

  it('open records the id of the day, the commander from git user.email, the running release and says who to page', async () => {
    const gitconfig = join(stage.dir, 'gitconfig');
    writeFileSync(gitconfig, '[user]\n\temail = oncall-ana@example.test\n');
    const r = await stage.ltc(['incident', 'open', '--sev', '2', '--title', 'checkout returns 500', '--env', 'staging', '--json'], { env: { GIT_CONFIG_GLOBAL: gitconfig, GIT_CONFIG_NOSYSTEM: '1' } });
    expect(r.code, r.stderr).toBe(0);
    const j = r.json as { id: string; commander: string; release: string; rc: string; environment: string; page: string[] };
    expect(j.id).toBe(`INC-${today()}-1`);
    expect(j.commander).toBe('oncall-ana@example.test');
    expect(j.environment).toBe('staging');
    expect(j.release).toBe(currentRelease(stage));
    expect(j.rc).toBe('rc-2026-03-01');
    // sev 2: every contact is paged.
    expect(j.page.join('\n')).toContain('Ana Oncall (on-call, +49 30 1234567)');
    expect(j.page.join('\n')).toContain('Release Manager');
    const rec = record(ops, j.id);
    expect(rec).toMatchObject({ state: 'open', status: 'investigating', severity: 2, commander: 'oncall-ana@example.test', release: currentRelease(stage) });
    expect(rec.events[0]!.actor).toBe('oncall-ana@example.test');

    // The human text names who to page; a sev 4 pages only the on-call role; --commander wins.
    const h = await stage.ltc(['incident', 'open', '--sev', '4', '--title', 'typo on the imprint', '--commander', 'jane@example.test']);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toContain(`opened INC-${today()}-2 (sev 4)`);
    expect(h.stdout).toMatch(/page now: +Ana Oncall/);
    expect(h.stdout).not.toContain('Release Manager');
    expect(record(ops, `INC-${today()}-2`).commander).toBe('jane@example.test');
  });

  it('note, update, close, list --json and show; every change is in the audit log', async () => {
    const id = `INC-${today()}-1`;
    const n = await ltcInProcess(['incident', 'note', id.toLowerCase(), 'error rate 12 %', 'since 09:41'], { cwd: ops });
    expect(n.code, n.stderr).toBe(0);
    const u = await ltcInProcess(['incident', 'update', id, '--status', 'identified', '--message', 'a bad release; rolling back', '--impact', 'checkout fails for everyone', '--json'], { cwd: ops });
    expect(u.code, u.stderr).toBe(0);
    const uj = u.json as { entry: string; posts: unknown[] };
    expect(uj.entry).toContain('[IDENTIFIED] checkout returns 500');
    expect(uj.entry).toContain('User impact: checkout fails for everyone');
    expect(uj.entry).toContain('What we are doing: a bad release; rolling back');
    expect(uj.entry).toMatch(/Next update: \d{4}-\d\d-\d\dT/);
    expect(uj.entry).toContain(`Affected: staging (release ${currentRelease(stage)})`);
    expect(uj.posts).toEqual([]);

    const l = await ltcInProcess(['incident', 'list', '--json'], { cwd: ops });
    const list = (l.json as { incidents: Array<{ id: string; state: string; status: string }> }).incidents;
    expect(list.map((i) => i.id).sort()).toEqual([id, `INC-${today()}-2`].sort());

    const r = await ltcInProcess(['incident', 'update', id, '--status', 'resolved', '--message', 'rolled back'], { cwd: ops });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Next update: none planned (resolved)');
    const c = await ltcInProcess(['incident', 'close', id], { cwd: ops });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain(`closed ${id}`);

    // Open ones first.
    const l2 = await ltcInProcess(['incident', 'list', '--json'], { cwd: ops });
    const list2 = (l2.json as { incidents: Array<{ id: string; state: string; status: string }> }).incidents;
    expect(list2.map((i) => [i.id, i.state, i.status])).toEqual([
      [`INC-${today()}-2`, 'open', 'investigating'],
      [id, 'closed', 'resolved'],
    ]);
    const lt = await ltcInProcess(['incident', 'list'], { cwd: ops });
    expect(lt.stdout.split('\n')[0]).toMatch(new RegExp(`^INC-${today()}-2 +open +sev 4`));

    const s = await ltcInProcess(['incident', 'show', id, '--json'], { cwd: ops });
    const inc = (s.json as { incident: IncidentJson }).incident;
    expect(inc.events.map((e) => [e.kind, e.status ?? e.text])).toEqual([
      ['open', 'investigating'],
      ['note', 'error rate 12 % since 09:41'],
      ['update', 'identified'],
      ['update', 'resolved'],
      ['close', undefined],
    ]);
    expect(inc.resolvedAt).not.toBeNull();
    expect(inc.closedAt).not.toBeNull();
    const st = await ltcInProcess(['incident', 'show', id], { cwd: ops });
    expect(st.stdout).toContain('note: error rate 12 % since 09:41');
    expect(st.stdout).toContain('update → identified: a bad release; rolling back');

    const a = (await auditOf(ops)).filter((e) => e.details?.incident === id);
    expect(a.map((e) => e.action)).toEqual(['incident.open', 'incident.note', 'incident.update', 'incident.update', 'incident.close']);
    expect(a[2]!.details).toMatchObject({ status: 'identified', message: 'a bad release; rolling back' });
  });
});

describe('ltc incident: bad input', () => {
  let ops: string;
  let openId: string;
  let closedId: string;
  beforeAll(async () => {
    ops = await plainOps();
    openId = await open(ops);
    closedId = await open(ops);
    expect((await ltcInProcess(['incident', 'close', closedId], { cwd: ops })).code).toBe(0);
  });

  it('an unknown id: exit 2, did-you-mean among the open ones', async () => {
    const wrong = `INC-${today()}-7`;
    const r = await ltcInProcess(['incident', 'update', wrong, '--status', 'identified'], { cwd: ops });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no incident "${wrong}"`);
    expect(r.stderr).toContain(openId);
    expect(r.stderr).not.toContain(closedId);
    const bad = await ltcInProcess(['incident', 'show', 'INC-1'], { cwd: ops });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"INC-1" is not an incident id');
    expect(bad.stderr).toContain('INC-20260301-1');
    expect(existsSync(join(ops, '.ltc', 'incidents', `${wrong}.json`))).toBe(false);
  });

  it('closing a closed incident, an update or a note after close: exit 2, the record unchanged', async () => {
    const file = join(ops, '.ltc', 'incidents', `${closedId}.json`);
    const before = readFileSync(file, 'utf8');
    const c = await ltcInProcess(['incident', 'close', closedId], { cwd: ops });
    expect(c.code).toBe(2);
    expect(c.stderr).toContain(`${closedId} is already closed`);
    const u = await ltcInProcess(['incident', 'update', closedId, '--status', 'monitoring'], { cwd: ops });
    expect(u.code).toBe(2);
    expect(u.stderr).toContain(`${closedId} was closed at`);
    expect(u.stderr).toContain('an update of a closed incident is refused');
    const n = await ltcInProcess(['incident', 'note', closedId, 'late note'], { cwd: ops });
    expect(n.code).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('a status that is not one of the four: exit 2 with did-you-mean; a bad --sev; nothing recorded', async () => {
    const file = join(ops, '.ltc', 'incidents', `${openId}.json`);
    const before = readFileSync(file, 'utf8');
    const r = await ltcInProcess(['incident', 'update', openId, '--status', 'fixed'], { cwd: ops });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--status "fixed" is not an incident status');
    expect(r.stderr).toContain('investigating, identified, monitoring, resolved');
    const t = await ltcInProcess(['incident', 'update', openId, '--status', 'monitorng'], { cwd: ops });
    expect(t.stderr).toContain('did you mean "monitoring"');
    const s = await ltcInProcess(['incident', 'open', '--sev', '5', '--title', 'x'], { cwd: ops });
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('--sev "5" is not a severity');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('a corrupted incident file: the error names it, exit 2, the file is not touched', async () => {
    const id = `INC-${today()}-90`;
    const file = join(ops, '.ltc', 'incidents', `${id}.json`);
    writeFileSync(file, '{"version": 1, "id": "INC-');
    for (const args of [['incident', 'update', id, '--status', 'resolved'], ['incident', 'note', id, 'x'], ['incident', 'close', id], ['incident', 'show', id], ['incident', 'list']]) {
      const r = await ltcInProcess(args, { cwd: ops });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toContain('not valid JSON');
    }
    // A valid JSON with a field ltc does not know the shape of.
    const id2 = `INC-${today()}-91`;
    const file2 = join(ops, '.ltc', 'incidents', `${id2}.json`);
    const good = record(ops, openId);
    const edited = JSON.stringify({ ...good, id: id2, status: 'fixed' });
    writeFileSync(file2, edited);
    const r2 = await ltcInProcess(['incident', 'update', id2, '--status', 'resolved'], { cwd: ops });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`${file2}: status`);
    expect(readFileSync(file, 'utf8')).toBe('{"version": 1, "id": "INC-');
    expect(readFileSync(file2, 'utf8')).toBe(edited);
  });
});

describe('ltc incident: two people at once, and the status webhooks', () => {
  let hook: Receiver;
  beforeAll(async () => {
    hook = await startReceiver();
  });
  afterAll(async () => {
    await hook?.close();
  });

  it('two updates at the same time (two processes): both kept, in order, both audited', async () => {
    const ops = await plainOps();
    const id = await open(ops);
    const [a, b] = await Promise.all([
      runLtc(['incident', 'update', id, '--status', 'identified', '--message', 'from alice'], { cwd: ops }),
      runLtc(['incident', 'note', id, 'from bob'], { cwd: ops }),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const [c, d] = await Promise.all([
      runLtc(['incident', 'update', id, '--status', 'monitoring', '--message', 'alice again'], { cwd: ops }),
      runLtc(['incident', 'update', id, '--status', 'monitoring', '--message', 'bob again'], { cwd: ops }),
    ]);
    expect(c.code, c.stderr).toBe(0);
    expect(d.code, d.stderr).toBe(0);
    const ev = record(ops, id).events;
    expect(ev).toHaveLength(5);
    expect(ev.slice(1).map((e) => e.text).sort()).toEqual(['alice again', 'bob again', 'from alice', 'from bob']);
    const times = ev.map((e) => e.time);
    expect([...times].sort()).toEqual(times);
    const audited = (await auditOf(ops)).filter((e) => e.details?.incident === id).map((e) => e.details?.message ?? e.details?.note ?? e.action);
    expect(audited).toHaveLength(5);
    expect(audited.slice(1).sort()).toEqual(['alice again', 'bob again', 'from alice', 'from bob']);
  });

  it('posts each status entry to the webhook; the token path never shows in output or the record', async () => {
    const url = hook.url.replace('/hook', '/services/T000/B000/SECRETTOKEN42');
    const ops = await plainOps({ webhooks: [url] });
    hook.posts.length = 0;
    const r = await ltcInProcess(['incident', 'open', '--sev', '1', '--title', 'site down', '--impact', 'nobody can log in', '--json'], { cwd: ops });
    expect(r.code, r.stderr).toBe(0);
    const id = (r.json as { id: string }).id;
    const u = await ltcInProcess(['incident', 'update', id, '--status', 'identified', '--message', 'database full'], { cwd: ops });
    expect(u.code, u.stderr).toBe(0);
    expect(hook.posts.map((p) => p.status)).toEqual([200, 200]);
    expect(hook.posts[0]!.text).toContain('[INVESTIGATING] site down');
    expect(hook.posts[0]!.text).toContain('User impact: nobody can log in');
    expect(hook.posts[1]!.text).toContain('[IDENTIFIED] site down');
    expect(hook.posts[1]!.text).toContain('What we are doing: database full');
    expect(u.stdout).toMatch(/posted to http:\/\/127\.0\.0\.1:\d+ \(1 attempt\)/);
    const text = readFileSync(join(ops, '.ltc', 'incidents', `${id}.json`), 'utf8');
    for (const s of [r.stdout, r.stderr, u.stdout, u.stderr, text]) expect(s).not.toContain('SECRETTOKEN42');
    expect(record(ops, id).events[1]!.posts).toEqual([{ webhook: new URL(hook.url).origin, ok: true, attempts: 1, status: 200 }]);
  });

  it('a webhook answering 500: retried, then reported; the update is still recorded', async () => {
    const ops = await plainOps({ webhooks: [hook.url] });
    const id = await open(ops);
    hook.posts.length = 0;
    hook.failNext = [500, 500, 500];
    const u = await ltcInProcess(['incident', 'update', id, '--status', 'identified', '--message', 'a bad release', '--json'], { cwd: ops });
    expect(u.code, u.stderr).toBe(0);
    expect(hook.posts.map((p) => p.status)).toEqual([500, 500, 500]);
    expect(u.stderr).toContain('the status entry was NOT posted after 3 attempt(s): HTTP 500; the update is recorded');
    expect((u.json as { posted: boolean }).posted).toBe(false);
    const ev = record(ops, id).events.at(-1)!;
    expect(ev).toMatchObject({ kind: 'update', status: 'identified', text: 'a bad release' });
    expect(ev.posts).toEqual([{ webhook: new URL(hook.url).origin, ok: false, attempts: 3, status: 500, error: 'HTTP 500' }]);
    // A 500 once, then 200: posted on the second attempt.
    hook.failNext = [500];
    const v = await ltcInProcess(['incident', 'update', id, '--status', 'monitoring'], { cwd: ops });
    expect(v.stdout).toContain('(2 attempts)');
  });

  it('a webhook nobody listens on: reported, the update recorded', async () => {
    const port = await freePort();
    const ops = await plainOps({ webhooks: [`http://127.0.0.1:${port}/hook`], retries: 1 });
    const id = await open(ops);
    const u = await ltcInProcess(['incident', 'update', id, '--status', 'identified'], { cwd: ops });
    expect(u.code, u.stderr).toBe(0);
    expect(u.stderr).toContain(`webhook http://127.0.0.1:${port}: the status entry was NOT posted after 2 attempt(s): ECONNREFUSED`);
    expect(u.stdout).toContain(`NOT posted to http://127.0.0.1:${port}: ECONNREFUSED`);
    expect(record(ops, id).status).toBe('identified');
    const s = await ltcInProcess(['incident', 'show', id], { cwd: ops });
    expect(s.stdout).toContain(`NOT posted http://127.0.0.1:${port}`);
  });
});

describe('ltc incident postmortem', () => {
  it('no records in the span: says so, the incident rows and measures are still there', async () => {
    const ops = await plainOps();
    const id = await open(ops);
    await ltcInProcess(['incident', 'update', id, '--status', 'resolved', '--message', 'it passed'], { cwd: ops });
    await ltcInProcess(['incident', 'close', id], { cwd: ops });
    const r = await ltcInProcess(['incident', 'postmortem', id, '--json'], { cwd: ops });
    expect(r.code, r.stderr).toBe(0);
    const j = r.json as { recorded: number; markdown: string; resolveMs: number };
    expect(j.recorded).toBe(0);
    expect(j.markdown).toContain('_No deploy, rollback, gate run, secret rotation or lock takeover was recorded between');
    expect(j.markdown).toContain('| incident | status → resolved by');
    expect(j.markdown).toContain('_TODO: no deploy was recorded before the impact began');
    expect(j.resolveMs).toBeGreaterThanOrEqual(0);
    // --out never overwrites.
    const out = join(ops, 'pm.md');
    expect((await ltcInProcess(['incident', 'postmortem', id, '--out', out], { cwd: ops })).code).toBe(0);
    writeFileSync(out, 'edited by hand');
    const again = await ltcInProcess(['incident', 'postmortem', id, '--out', out], { cwd: ops });
    expect(again.code).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('edited by hand');
  });

  it('a watch that failed during the incident joins the timeline with its figure', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => {
      res.writeHead(500);
      res.end('broken');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const ops = await plainOps();
      const { parse } = await import('yaml');
      const cfg = parse(readFileSync(join(ops, 'ltc.config.yaml'), 'utf8')) as { environments: { staging: Record<string, unknown> } };
      cfg.environments.staging = { url: `http://127.0.0.1:${port}`, watch: { min_requests: 1, probes: ['/'] } };
      writeFileSync(join(ops, 'ltc.config.yaml'), stringify(cfg));
      const id = await open(ops, ['--env', 'staging']);
      const w = await ltcInProcess(['watch', '--env', 'staging', '--for', '3s', '--interval', '500ms', '--failure-limit', '2'], { cwd: ops });
      expect(w.code, w.stderr).not.toBe(0);
      await ltcInProcess(['incident', 'close', id], { cwd: ops });
      const r = await ltcInProcess(['incident', 'postmortem', id, '--json'], { cwd: ops });
      const j = r.json as { markdown: string; recorded: number };
      expect(j.recorded).toBeGreaterThanOrEqual(2);
      expect(j.markdown).toMatch(/\| audit \(staging\) \| watch started/);
      expect(j.markdown).toMatch(/\| audit \(staging\) \| watch fail: error\\*_rate 1 against 0\.001/);
    } finally {
      server.close();
    }
  });

  it('Markdown special characters in a note are escaped in the post-mortem table', async () => {
    const ops = await plainOps();
    const id = await open(ops);
    await ltcInProcess(['incident', 'note', id, 'a | b <img src=x> *bold* `code`'], { cwd: ops });
    const r = await ltcInProcess(['incident', 'postmortem', id], { cwd: ops });
    const row = r.stdout.split('\n').find((l) => l.includes('note by'))!;
    expect(row).toContain('a \\| b &lt;img src=x&gt; \\*bold\\* \\`code\\`');
    // Four cells: the | of the note does not open a new one.
    expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(5);
  });
});

describe('ltc incident postmortem: the timeline of a real deploy and rollback', () => {
  let stage: Stage;
  afterAll(async () => {
    if (stage) await stopStage(stage);
  });

  it('joins the deploys and the rollback of the span, with the time to detect, mitigate and resolve', async () => {
    stage = await makeStage({ top: { contacts: CONTACTS } });
    expect((await stage.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging'])).code).toBe(0);
    const d = await stage.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(d.code, d.stderr).toBe(0);
    // The impact began after that deploy; the incident is opened a moment later.
    const started = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 300));
    const o = await stage.ltc(['incident', 'open', '--sev', '2', '--title', 'orders fail', '--env', 'staging', '--started', started, '--json']);
    expect(o.code, o.stderr).toBe(0);
    const id = (o.json as { id: string }).id;
    const rb = await stage.ltc(['rollback', '--env', 'staging', '--incident', id]);
    expect(rb.code, rb.stderr).toBe(0);
    expect((await stage.ltc(['incident', 'update', id, '--status', 'resolved', '--message', 'rolled back'])).code).toBe(0);
    expect((await stage.ltc(['incident', 'close', id])).code).toBe(0);
    const out = join(stage.dir, 'postmortem.md');
    const p = await stage.ltc(['incident', 'postmortem', id, '--out', out, '--json']);
    expect(p.code, p.stderr).toBe(0);
    const j = p.json as { recorded: number; detectMs: number; mitigateMs: number; mitigatedBy: string; resolveMs: number };
    const md = readFileSync(out, 'utf8');
    const revs = revisions(stage);
    const rollback = revs.find((r) => r.action === 'rollback')!;
    expect(rollback.outcome).toBe('ok');
    // Both deploys before the impact (the lookback), and the rollback.
    expect(md).toMatch(/\(before\) \| staging revisions\.log \| deploy rc-2026-02-15 → rc-2026-02-15-\S+ ok/);
    expect(md).toMatch(/\(before\) \| staging revisions\.log \| deploy rc-2026-03-01 → rc-2026-03-01-\S+ ok/);
    expect(md).toContain(`| staging revisions.log | rollback ${rollback.from} → ${rollback.release} ok in`);
    expect(md).toContain('status → resolved by');
    expect(md).toContain('Suggested from the records: deploy rc-2026-03-01');
    expect(j.recorded).toBeGreaterThanOrEqual(3);
    expect(j.mitigatedBy).toContain(`rollback to ${rollback.release}`);
    expect(j.mitigateMs).toBe(Date.parse(rollback.time) - Date.parse(started));
    const inc = record(stage.ops, id);
    expect(j.detectMs).toBe(Date.parse(inc.events[0]!.time) - Date.parse(started));
    expect(j.resolveMs).toBe(Date.parse(inc.resolvedAt!) - Date.parse(started));
    expect(md).toMatch(/\| Time to mitigate \| [\d.]+m?s \(rollback to rc-2026-02-15-/);
    // The rollback handed off to the incident (--incident): its own row with its duration.
    const ev = inc.events.find((e) => e.kind === 'rollback')!;
    expect(ev.text).toContain(`rollback of staging ${rollback.from} → ${rollback.release}`);
    expect(md).toContain('| incident | rollback of staging');
    expect((await audit(stage)).some((a) => a.action === 'incident.rollback' && a.details?.incident === id)).toBe(true);
  }, 180_000);
});
