/**
 * ltc contacts (the escalation list, every placeholder flagged, who to page per severity), the
 * escalation rules `ltc incident open` prints, and the two go-live items that read the incident
 * records: incidents.none (no security incident) and incidents.reviewed (post-mortems written and
 * filled in).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { cleanupTempDirs, tempDir } from './helpers/cli.ts';
import { ltcInProcess } from './helpers/inproc.ts';

const FILLED = [
  { name: 'Ana Lead', role: 'devops-lead', phone: '+49 30 1234567', slack: '@ana' },
  { name: 'Ben Back', role: 'backend-lead', email: 'ben@lifetimecircle.test' },
  { name: 'Eva Exec', role: 'executive', phone: '+49 30 7654321' },
];
const ESCALATION = [
  { severity: [1, 2], page: ['devops-lead', 'backend-lead'] },
  { severity: 1, page: ['executive'], after: '30m' },
  { severity: [3, 4], page: ['devops-lead'] },
];

let dir: string;
let ops: string;
const configFile = () => join(ops, 'ltc.config.yaml');

async function writeConfig(top: Record<string, unknown> = {}): Promise<void> {
  const config = {
    version: 1,
    app: { name: 'demo', repo: join(dir, 'app') },
    default_env: 'staging',
    environments: { staging: { url: 'http://127.0.0.1:9' }, prod: { url: 'http://127.0.0.1:9', protected: true } },
    contacts: FILLED,
    incidents: { escalation: ESCALATION },
    golive: { paging_tool: 'PagerDuty', status_page: 'https://status.lifetimecircle.test' },
    ...top,
  };
  await writeFile(configFile(), stringify(config));
}

const ltc = (args: string[]) => ltcInProcess(args, { cwd: ops });

interface GoliveItem {
  item: string;
  status: string;
  evidence: string[];
  fix?: string;
}

async function item(id: string): Promise<GoliveItem> {
  const r = await ltc(['golive', 'check', '--rc', 'rc-2026-03-01', '--env', 'prod', '--item', id, '--json']);
  const doc = r.json as { items?: GoliveItem[] } | undefined;
  if (!doc?.items) throw new Error(`no JSON from golive check: ${r.stderr}`);
  return doc.items[0]!;
}

async function openIncident(args: string[]): Promise<string> {
  const r = await ltc(['incident', 'open', '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return (r.json as { id: string }).id;
}

beforeAll(async () => {
  dir = await tempDir('ltc-contacts-');
  const app = join(dir, 'app');
  await mkdir(app);
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...a], { cwd: app });
  git('init', '-q');
  git('commit', '-q', '--allow-empty', '-m', 'app');
  git('tag', 'rc-2026-03-01');
  ops = join(dir, 'ops');
  await mkdir(ops);
  await writeConfig();
});
afterAll(cleanupTempDirs);

describe('ltc contacts', () => {
  it('a filled-in list: exit 0, every contact and who to page per severity, tier by tier', async () => {
    const r = await ltc(['contacts']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓ devops-lead\s+Ana Lead\s+\+49 30 1234567\s+@ana/);
    expect(r.stdout).toContain('✓ paging tool: PagerDuty');
    expect(r.stdout).toContain('sev 1: now: devops-lead, backend-lead; after 30m unresolved: executive');
    expect(r.stdout).toContain('sev 3: now: devops-lead');
    expect(r.stdout).toContain('every contact is filled in');
    const j = await ltc(['contacts', '--sev', '1', '--json']);
    expect(j.code).toBe(0);
    expect((j.json as { escalation: unknown }).escalation).toEqual([
      { severity: 1, tiers: [{ after: '0m', contacts: ['devops-lead', 'backend-lead'] }, { after: '30m', contacts: ['executive'] }] },
    ]);
  });

  it("the handbook's placeholders, an example.com address and a zero phone number are flagged: exit 1, each named", async () => {
    await writeConfig({
      contacts: [
        { name: '[Name]', role: 'security-lead', phone: '[Phone]', slack: '[Slack]' },
        { name: 'Release Manager', role: 'release-manager', email: 'release@example.com' },
        { name: 'On-Call', role: 'on-call', phone: '+49 000 000000' },
        { name: 'Nobody Reachable', role: 'devops-lead' },
      ],
      incidents: {},
      golive: { paging_tool: '[PagerDuty / Opsgenie / Custom]' },
    });
    try {
      const r = await ltc(['contacts']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('contacts[0] (security-lead): name, phone, slack are placeholders');
      expect(r.stdout).toContain('contacts[1] (release-manager): email is a placeholder');
      expect(r.stdout).toContain('contacts[2] (on-call): phone is a placeholder');
      expect(r.stdout).toContain('contacts[3] (devops-lead): no phone, e-mail or Slack handle to reach them');
      expect(r.stdout).toContain('no paging tool named (golive.paging_tool)');
      expect(r.stdout).toContain('no public status page URL (golive.status_page)');
      expect(r.stdout).toMatch(/6 to fill in before go-live/);
      // the go-live item reads the same rules
      const g = await item('contacts.complete');
      expect(g.status).toBe('failed');
      expect(g.evidence.join('\n')).toContain('contacts[1] (release-manager) email is still a placeholder: "release@example.com"');
    } finally {
      await writeConfig();
    }
  });

  it('bad input: --sev 9 and an escalation rule naming an unknown role are exit 2, the file unchanged', async () => {
    const s = await ltc(['contacts', '--sev', '9']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('--sev "9" is not a severity');
    await writeConfig({ incidents: { escalation: [{ severity: 1, page: ['devops-laed'] }] } });
    const before = await readFile(configFile(), 'utf8');
    try {
      const r = await ltc(['contacts']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('incidents.escalation[0].page[0]');
      expect(r.stderr).toContain('"devops-laed" is not the role of any contact');
      expect(r.stderr).toContain('did you mean "devops-lead"?');
      expect(await readFile(configFile(), 'utf8')).toBe(before);
    } finally {
      await writeConfig();
    }
  });

  it('incident open prints who to page now and who after the escalation delay', async () => {
    const r = await ltc(['incident', 'open', '--sev', '1', '--title', 'site down', '--env', 'prod']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/page now: Ana Lead \(devops-lead, \+49 30 1234567, @ana\); Ben Back \(backend-lead, ben@lifetimecircle.test\)/);
    expect(r.stdout).toMatch(/page after 30m unresolved: Eva Exec \(executive, \+49 30 7654321\)/);
    const id = /opened (INC-\d{8}-\d+)/.exec(r.stdout)![1]!;
    expect((await ltc(['incident', 'close', id])).code).toBe(0);
  });
});

describe('go-live items read the incident records', () => {
  it('incidents.none: passes without a security incident, fails on one (open or closed), naming it', async () => {
    const ok = await item('incidents.none');
    expect(ok.status, ok.evidence.join('\n')).toBe('passed');
    expect(ok.evidence[0]).toMatch(/no security incident on prod in the last 7d/);

    const id = await openIncident(['--sev', '2', '--security', '--title', 'admin tokens leaked', '--env', 'prod']);
    const bad = await item('incidents.none');
    expect(bad.status).toBe('failed');
    expect(bad.evidence.join('\n')).toContain(`${id} (sev 2, security, open`);
    expect(bad.fix).toContain('ltc golive waive incidents.none');
    expect((await ltc(['incident', 'close', id])).code).toBe(0);
    expect((await item('incidents.none')).status).toBe('failed');

    // An incident of staging does not count for prod; one marked security later (update --security) does.
    await openIncident(['--sev', '3', '--security', '--title', 'staging scan', '--env', 'staging']);
    const other = await openIncident(['--sev', '3', '--title', 'odd logins', '--env', 'prod']);
    expect((await ltc(['incident', 'update', other, '--status', 'identified', '--security'])).code).toBe(0);
    const text = (await item('incidents.none')).evidence.join('\n');
    expect(text).toContain(`${other} (sev 3, security`);
    expect(text).not.toContain('staging scan');
  });

  it('incidents.reviewed: open, without a post-mortem, with _TODO_ left, with the file gone: failed; filled in: passed', async () => {
    const { readdir } = await import('node:fs/promises');
    const all = (await readdir(join(ops, '.ltc', 'incidents'))).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    const prod = [];
    for (const id of all) {
      const rec = JSON.parse(await readFile(join(ops, '.ltc', 'incidents', `${id}.json`), 'utf8')) as { environment: string; state: string };
      if (rec.environment === 'prod') prod.push({ id, state: rec.state });
    }
    const stillOpen = prod.find((p) => p.state === 'open')!.id;
    const r1 = await item('incidents.reviewed');
    expect(r1.status).toBe('failed');
    expect(r1.evidence.join('\n')).toContain(`${stillOpen} (sev 3, security, open, identified) "odd logins": still open`);
    expect(r1.evidence.join('\n')).toMatch(/: no post-mortem written/);

    expect((await ltc(['incident', 'close', stillOpen])).code).toBe(0);
    const files: string[] = [];
    for (const p of prod) {
      const out = join(ops, 'postmortems', `${p.id}.md`);
      const w = await ltc(['incident', 'postmortem', p.id, '--out', out]);
      expect(w.code, w.stderr).toBe(0);
      files.push(out);
    }
    const r2 = await item('incidents.reviewed');
    expect(r2.status).toBe('failed');
    expect(r2.evidence.join('\n')).toMatch(/still has \d+ line\(s\) marked _TODO_ or _owner_/);
    const show = await ltc(['incident', 'show', stillOpen]);
    expect(show.stdout).toContain(`post-mortem written: ${join(ops, 'postmortems', `${stillOpen}.md`)}`);

    // The team fills the post-mortems in.
    for (const f of files) {
      const md = (await readFile(f, 'utf8')).replace(/_TODO[^\n]*/g, 'done in the review').replace(/_owner_/g, 'Ana');
      await writeFile(f, md);
    }
    const r3 = await item('incidents.reviewed');
    expect(r3.status, r3.evidence.join('\n')).toBe('passed');
    expect(r3.evidence.join('\n')).toContain('reviewed, post-mortem');

    const { rm } = await import('node:fs/promises');
    await rm(files[0]!);
    const r4 = await item('incidents.reviewed');
    expect(r4.status).toBe('failed');
    expect(r4.evidence.join('\n')).toContain(`its post-mortem ${files[0]} `);
    expect(r4.evidence.join('\n')).toContain('is gone');
  });
});
