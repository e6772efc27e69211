/**
 * ltc golive from the built binary: a real app repo (the demo generator), real https servers with
 * certificates made by openssl (valid, expiring, wrong host), real DNS lookups (localhost, .invalid),
 * the shipped runbooks/golive.yaml and an ops override, sign-offs, waivers and the report.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generateDemoApp } from '../src/demo/generate-app.js';
import { cleanupTempDirs, freePort, runLtc, tempDir } from './helpers/cli.js';

let dir: string;
let certs: string;
const servers: Server[] = [];
const ports: Record<string, number> = {};
let env: Record<string, string>;
const RC = 'rc-2026-03-01';

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: 'pipe' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('openssl not found: install the Debian package "openssl"');
    throw err;
  }
}

/** A leaf certificate signed by the test CA for `san`, valid `days`. */
function leaf(name: string, san: string, days: number): void {
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${san}`], certs);
  writeFileSyncExt(join(certs, `${name}.ext`), `subjectAltName=DNS:${san}\n`);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', String(days), '-extfile', `${name}.ext`], certs);
}
function writeFileSyncExt(file: string, text: string): void {
  execFileSync('tee', [file], { input: text, stdio: ['pipe', 'ignore', 'inherit'] });
}

async function serve(name: string): Promise<number> {
  const port = await freePort();
  const server = createServer({ key: readFileSync(join(certs, `${name}.key`)), cert: readFileSync(join(certs, `${name}.pem`)) }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  servers.push(server);
  return port;
}

function prodEnv(port: number, extra: Record<string, unknown> = {}) {
  return {
    protected: true,
    url: `https://localhost:${port}`,
    health: { endpoints: [{ name: 'api', url: '/api/health', ca: join(certs, 'ca.pem'), conditions: ['status == 200', 'body.status == "ok"'] }] },
    target: { type: 'local', deploy_root: join(dir, 'prod-root'), start: ['node', 'server.mjs'] },
    secrets: { backend: 'file', path: join(dir, '.ltc', 'secrets', 'shared.json'), required: [{ name: 'LTC_SECRET_KEY', kind: 'secret_key', min_bytes: 32 }] },
    ...extra,
  };
}

async function writeConfig(mutate: (c: Record<string, unknown>) => void = () => undefined): Promise<void> {
  const config: Record<string, unknown> = {
    version: 1,
    app: { repo: join(dir, 'app') },
    environments: {
      staging: { url: `https://localhost:${ports.ok}`, target: { type: 'local', deploy_root: join(dir, 'staging-root'), start: ['node', 'server.mjs'] } },
      prod: prodEnv(ports.ok!),
      expiring: prodEnv(ports.expiring!),
      wronghost: prodEnv(ports.wronghost!),
    },
    contacts: [
      { name: 'Ana Lead', role: 'backend-lead', phone: '+49 30 1234', slack: '@ana' },
      { name: 'Ben Ops', role: 'devops-lead', phone: '+49 30 5678', slack: '@ben' },
    ],
    golive: {
      architecture: { hosting: 'on-prem', api_deployment: 'direct (uvicorn)', database: 'managed PostgreSQL', frontend: 'same-host static' },
      tls_min_days: 14,
      tls_ca: join(certs, 'ca.pem'),
      hostnames: ['localhost'],
      paging_tool: 'PagerDuty',
      status_page: 'https://status.example.org',
    },
  };
  mutate(config);
  await writeFile(join(dir, 'ltc.config.yaml'), stringify(config));
}

const ltc = (args: string[]) => runLtc(args, { cwd: dir, env });
type Item = { item: string; status: string; evidence: string[]; fix?: string };
async function item(id: string, envName = 'prod', rc = RC): Promise<Item & { code: number }> {
  const r = await ltc(['golive', 'check', '--rc', rc, '--env', envName, '--item', id, '--json']);
  const doc = r.json as { items?: Item[] } | undefined;
  if (!doc?.items) throw new Error(`no JSON from golive check: ${r.stderr}`);
  return { ...doc.items[0]!, code: r.code };
}

beforeAll(async () => {
  dir = await tempDir('ltc-golive-');
  certs = join(dir, 'certs');
  await mkdir(certs);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=ltc test CA'], certs);
  leaf('ok', 'localhost', 90);
  leaf('expiring', 'localhost', 5);
  leaf('wrong', 'other.example', 90);
  ports.ok = await serve('ok');
  ports.expiring = await serve('expiring');
  ports.wronghost = await serve('wrong');
  await generateDemoApp({ dir: join(dir, 'app') });
  env = { LTC_MASTER_KEY: randomBytes(32).toString('base64'), XDG_CACHE_HOME: join(dir, '.cache') };
  await writeConfig();
  const gen = await ltc(['secrets', 'generate', 'LTC_SECRET_KEY', '--env', 'prod']);
  expect(gen.code, gen.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  for (const s of servers) s.close();
  await cleanupTempDirs();
});

describe('ltc golive check', () => {
  it('TLS: a valid certificate for the host passes; one expiring within tls_min_days fails; a wrong host name fails', async () => {
    const ok = await item('tls.certificate', 'prod');
    expect(ok.status, ok.evidence.join('\n')).toBe('passed');
    expect(ok.evidence.join('\n')).toMatch(/valid until .* \(\d+ days left\)/);
    const soon = await item('tls.certificate', 'expiring');
    expect(soon.status).toBe('failed');
    expect(soon.evidence.join('\n')).toMatch(/expires in [0-5] days.*fewer than golive.tls_min_days 14/);
    expect(soon.code).toBe(1);
    const wrong = await item('tls.certificate', 'wronghost');
    expect(wrong.status).toBe('failed');
    expect(wrong.evidence.join('\n')).toMatch(/does not match localhost/);
  });

  it('DNS: localhost resolves, a .invalid name fails and is named', async () => {
    expect((await item('dns.resolves')).status).toBe('passed');
    await writeConfig((c) => ((c.golive as Record<string, unknown>).hostnames = ['localhost', 'x.invalid']));
    const bad = await item('dns.resolves');
    expect(bad.status).toBe('failed');
    expect(bad.evidence.join('\n')).toMatch(/x\.invalid does not resolve/);
    await writeConfig();
  });

  it('secrets, target, health, architecture, secrets scan pass with their evidence; gates without a record fail with the fix', async () => {
    const s = await item('secrets.stored');
    expect(s.status, s.evidence.join('\n')).toBe('passed');
    expect(s.evidence.join('\n')).toMatch(/LTC_SECRET_KEY: version .*\d+ bytes \(≥ 32\)/);
    expect((await item('target.ready')).status).toBe('passed');
    expect((await item('prod.health')).status).toBe('passed');
    expect((await item('architecture.decided')).status).toBe('passed');
    const scan = await item('secrets.scan');
    expect(scan.status, scan.evidence.join('\n')).toBe('passed');
    // The scan of an unchanged commit is reused while ltc and the stored values are unchanged...
    const again = await item('secrets.scan');
    expect(again.status).toBe('passed');
    expect(again.evidence.join('\n')).toMatch(/\(the scan of .*: the commit, ltc and the stored values are unchanged since\)/);
    // ...and repeated when a stored value changes: here to a string that is in the RC's tree.
    const leaked = 'LifeTimeCircle Service Heft demo server: health/info API';
    const set = await runLtc(['secrets', 'set', 'LEAKED_TOKEN', '--env', 'prod'], { cwd: dir, env, input: leaked });
    expect(set.code, set.stderr).toBe(0);
    const found = await item('secrets.scan');
    expect(found.status, found.evidence.join('\n')).toBe('failed');
    expect(found.evidence.join('\n')).toMatch(/server\.mjs:\d+: .*LEAKED_TOKEN/);
    expect(found.evidence.join('\n')).not.toContain('unchanged since');
    expect(found.evidence.join('\n')).not.toContain(leaked);
    const cacheFile = readFileSync(join(dir, '.ltc', 'cache', 'secret-scan', readdirSync(join(dir, '.ltc', 'cache', 'secret-scan'))[0]!), 'utf8');
    expect(cacheFile).not.toContain(leaked);
    expect(statSync(join(dir, '.ltc', 'cache', 'scan-salt')).mode & 0o777).toBe(0o600);
    const unset = await runLtc(['secrets', 'set', 'LEAKED_TOKEN', '--env', 'prod'], { cwd: dir, env, input: randomBytes(24).toString('base64url') });
    expect(unset.code, unset.stderr).toBe(0);
    const gates = await item('gates.green');
    expect(gates.status).toBe('failed');
    expect(gates.evidence[0]).toMatch(/no gate result recorded for commit/);
    expect(gates.fix).toBe(`ltc gates run --rc ${RC}`);
  }, 60_000);

  it('a secret key shorter than its policy fails secrets.stored; an undecided architecture names what is open', async () => {
    // ltc secrets set refuses a short key, so the policy is raised above the key that is stored (48 bytes).
    await writeConfig((c) => {
      const e = (c.environments as Record<string, { secrets: { required: { min_bytes: number }[] } }>).expiring!;
      e.secrets.required[0]!.min_bytes = 64;
    });
    const s = await item('secrets.stored', 'expiring');
    expect(s.status).toBe('failed');
    expect(s.evidence.join('\n')).toMatch(/LTC_SECRET_KEY: 48 bytes, policy needs at least 64/);
    expect(s.fix).toBe('ltc secrets rotate LTC_SECRET_KEY --env expiring');
    // its own rotation age: a stored key is always older than 1ms
    await writeConfig((c) => {
      const e = (c.environments as Record<string, { secrets: { required: { max_age?: string }[] } }>).expiring!;
      e.secrets.required[0]!.max_age = '1ms';
    });
    const old = await item('secrets.stored', 'expiring');
    expect(old.status).toBe('failed');
    expect(old.evidence.join('\n')).toMatch(/LTC_SECRET_KEY: [\d.]+(ms|s|m\d+s) old, older than its max_age 1ms/);
    expect(old.fix).toBe('ltc secrets rotate LTC_SECRET_KEY --env expiring');
    await writeConfig((c) => ((c.golive as { architecture: Record<string, string> }).architecture.database = 'TBD'));
    const a = await item('architecture.decided');
    expect(a.status).toBe('failed');
    expect(a.evidence[0]).toMatch(/database is not decided/);
    await writeConfig();
  });

  it('contacts still holding placeholders fail and name which', async () => {
    expect((await item('contacts.complete')).status).toBe('passed');
    await writeConfig((c) => {
      c.contacts = [{ name: '[Name]', role: 'security-lead', phone: '[Phone]', slack: '[Slack]' }];
      (c.golive as Record<string, unknown>).paging_tool = '[PagerDuty / Opsgenie / Custom]';
    });
    const r = await item('contacts.complete');
    expect(r.status).toBe('failed');
    const text = r.evidence.join('\n');
    expect(text).toMatch(/contacts\[0\] \(security-lead\) name is still a placeholder: "\[Name\]"/);
    expect(text).toMatch(/phone is still a placeholder: "\[Phone\]"/);
    expect(text).toMatch(/slack is still a placeholder/);
    expect(text).toMatch(/no paging tool named/);
    await writeConfig();
  });

  it('an RC never deployed to staging fails staging.deployed; a recorded ok deploy that is current passes; a rollback rehearsal is judged against the RTO', async () => {
    const never = await item('staging.deployed');
    expect(never.status).toBe('failed');
    expect(never.evidence[0]).toMatch(/rc-2026-03-01 \([0-9a-f]{12}\) was never deployed to staging/);
    expect(never.fix).toBe(`ltc deploy --rc ${RC} --env staging`);
    const commit = execFileSync('git', ['rev-parse', `${RC}^{commit}`], { cwd: join(dir, 'app') }).toString().trim();
    const root = join(dir, 'staging-root');
    await mkdir(join(root, 'releases', 'r1'), { recursive: true });
    execFileSync('ln', ['-sfn', 'releases/r1', join(root, 'current')]);
    const now = Date.now();
    const rec = (o: Record<string, unknown>) => JSON.stringify({ actor: 'ci', environment: 'staging', from: null, releaseDir: null, ...o });
    await writeFile(
      join(root, 'revisions.log'),
      [
        rec({ time: new Date(now - 60_000).toISOString(), action: 'deploy', rc: RC, commit, release: 'r1', outcome: 'ok', durationMs: 4200 }),
        rec({ time: new Date(now - 30_000).toISOString(), action: 'rollback', rc: null, commit: null, release: 'r0', from: 'r1', outcome: 'ok', durationMs: 400_000 }),
      ].join('\n') + '\n',
    );
    const ok = await item('staging.deployed');
    expect(ok.status, ok.evidence.join('\n')).toBe('passed');
    expect(ok.evidence.join('\n')).toMatch(/outcome ok in 4\.2s.*\n.*current on staging: r1/);
    const noSmoke = await item('staging.smoke');
    expect(noSmoke.status).toBe('failed');
    expect(noSmoke.evidence[0]).toMatch(/recorded no smoke test or log scan result/);
    const slow = await item('staging.rollback_rehearsed');
    expect(slow.status).toBe('failed');
    expect(slow.evidence[0]).toMatch(/took 6m40s|took 400/);
  });
});

describe('sign-offs and waivers', () => {
  it('an unknown item id is refused with a did-you-mean, exit 2', async () => {
    const r = await ltc(['golive', 'check', '--rc', RC, '--env', 'prod', '--item', 'secrets.stord']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown go-live item "secrets\.stord"/);
    expect(r.stderr).toMatch(/secrets\.stored/);
    const s = await ltc(['golive', 'signoff', 'approvals.managment', '--rc', RC, '--by', 'Jane']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/approvals\.management/);
  });

  it('a sign-off without --by, or for an automated item, is refused and nothing is written', async () => {
    const noBy = await ltc(['golive', 'signoff', 'approvals.management', '--rc', RC]);
    expect(noBy.code).toBe(2);
    expect(noBy.stderr).toMatch(/needs --by <name>/);
    const auto = await ltc(['golive', 'signoff', 'tls.certificate', '--rc', RC, '--by', 'Jane']);
    expect(auto.code).toBe(2);
    expect(auto.stderr).toMatch(/tls\.certificate is an automated item/);
    expect(auto.stderr).toMatch(/ltc golive waive tls\.certificate/);
    expect(existsSync(join(dir, '.ltc', 'signoffs.json'))).toBe(false);
    // Names, notes and reasons are shown in every check and report: no escape sequences, no line breaks.
    for (const args of [
      ['golive', 'signoff', 'approvals.management', '--rc', RC, '--by', 'evil\u001b[2J\nFAKE: ok'],
      ['golive', 'signoff', 'approvals.management', '--rc', RC, '--by', 'Jane', '--note', 'a\u202eb'],
      ['golive', 'waive', 'tls.certificate', '--rc', RC, '--by', 'Jane', '--reason', 'x\ny', '--expires', '2099-01-01'],
    ]) {
      const bad = await ltc(args);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(/holds a control character or a line break/);
      expect(bad.stderr).not.toMatch(/\u001b/);
    }
    expect(existsSync(join(dir, '.ltc', 'signoffs.json'))).toBe(false);
  });

  it('a sign-off counts for its RC only, names who signed and who ran it, and is in the audit log', async () => {
    expect((await item('approvals.management')).status).toBe('needs_signoff');
    const r = await ltc(['golive', 'signoff', 'approvals.management', '--rc', RC, '--by', 'Jane Doe (CTO)', '--note', 'board ok']);
    expect(r.code, r.stderr).toBe(0);
    const mine = await item('approvals.management');
    expect(mine.status).toBe('passed');
    expect(mine.evidence.join('\n')).toMatch(/signed off by Jane Doe \(CTO\) \(.+\) .*: board ok/);
    expect((await item('approvals.management', 'prod', 'rc-2026-02-15')).status).toBe('needs_signoff');
    const audit = await readFile(join(dir, '.ltc', 'audit.jsonl'), 'utf8');
    expect(audit).toMatch(/"action":"golive\.signoff".*"rc":"rc-2026-03-01".*"item":"approvals\.management"/);
  });

  it('a waiver needs --expires in the future; a valid one makes a failing item waived and heads the report', async () => {
    const none = await ltc(['golive', 'waive', 'tls.certificate', '--rc', RC, '--by', 'Jane', '--reason', 'renewal booked']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/needs --expires <date>/);
    const past = await ltc(['golive', 'waive', 'tls.certificate', '--rc', RC, '--by', 'Jane', '--reason', 'x', '--expires', '2020-01-01']);
    expect(past.code).toBe(2);
    expect(past.stderr).toMatch(/--expires 2020-01-01 is in the past/);
    const before = await readFile(join(dir, '.ltc', 'signoffs.json'), 'utf8');
    expect(before).not.toContain('waivers": [\n    {');
    const ok = await ltc(['golive', 'waive', 'tls.certificate', '--rc', RC, '--by', 'Jane', '--reason', 'renewal booked CAB-12', '--expires', new Date(Date.now() + 3 * 86_400_000).toISOString()]);
    expect(ok.code, ok.stderr).toBe(0);
    const w = await item('tls.certificate', 'expiring');
    expect(w.status).toBe('waived');
    const report = join(dir, 'report.md');
    const r = await ltc(['golive', 'check', '--rc', RC, '--env', 'expiring', '--report', report]);
    expect(r.code).toBe(1);
    const md = await readFile(report, 'utf8');
    expect(md.indexOf('## Waivers')).toBeLessThan(md.indexOf('## Phase 1'));
    expect(md).toMatch(/\| tls\.certificate \| Jane \| .* \| renewal booked CAB-12 \|/);
    expect(md).toMatch(/\| approvals\.management \| Jane Doe \(CTO\) \|/);
    expect(md).toMatch(/\*\*NO-GO\*\*/);
    const status = await ltc(['golive', 'status', '--json']);
    expect((status.json as { checks: { rc: string; go: boolean }[] }).checks).toEqual([expect.objectContaining({ rc: RC, go: false })]);
    // a waiver for another RC does not count; once it has expired the item fails again and the report marks it
    expect((await item('tls.certificate', 'expiring', 'rc-2026-02-15')).status).toBe('failed');
    const file = join(dir, '.ltc', 'signoffs.json');
    const kept = await readFile(file, 'utf8');
    const f = JSON.parse(kept) as { waivers: { expires: string }[] };
    f.waivers.at(-1)!.expires = new Date(Date.now() - 60_000).toISOString();
    await writeFile(file, JSON.stringify(f, null, 2) + '\n');
    const expired = await item('tls.certificate', 'expiring');
    expect(expired.status).toBe('failed');
    expect(expired.fix).toBe('renew the certificate of localhost');
    await ltc(['golive', 'check', '--rc', RC, '--env', 'expiring', '--report', report]);
    expect(await readFile(report, 'utf8')).toMatch(/\| tls\.certificate \| Jane \| .* \(expired\) \| renewal booked CAB-12 \|/);
    await writeFile(file, kept);
  }, 60_000);

  it('a corrupted or hand-edited signoffs.json is refused naming the file and line, and left as it was', async () => {
    const file = join(dir, '.ltc', 'signoffs.json');
    const good = await readFile(file, 'utf8');
    const broken = good.replace('"by": "Jane Doe (CTO)",', '"by": "Jane Doe (CTO)"');
    await writeFile(file, broken);
    const r = await ltc(['golive', 'signoff', 'support.ready', '--rc', RC, '--by', 'Max']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/signoffs\.json:\d+: not valid JSON/);
    expect(await readFile(file, 'utf8')).toBe(broken);
    const edited = good.replace('"by": "Jane Doe (CTO)"', '"by": 42');
    await writeFile(file, edited);
    const c = await ltc(['golive', 'check', '--rc', RC, '--env', 'prod', '--item', 'approvals.management']);
    expect(c.code).toBe(2);
    const line = edited.split('\n').findIndex((l) => l.includes('"by": 42')) + 1;
    expect(c.stderr).toContain(`signoffs.json:${line}: signoffs.0.by:`);
    expect(await readFile(file, 'utf8')).toBe(edited);
    await writeFile(file, good);
  });

  it('an ops repo runbooks/golive.yaml overrides the shipped checklist', async () => {
    await mkdir(join(dir, 'runbooks'), { recursive: true });
    await writeFile(
      join(dir, 'runbooks', 'golive.yaml'),
      stringify({
        name: 'our go-live',
        inputs: { rc: { required: true }, environment: { required: true } },
        steps: [
          { id: 'dns', name: 'names resolve', check: { item: 'dns.resolves', phase: 1, decided_by: 'check', probe: 'dns' } },
          { id: 'cab', name: 'CAB approved', check: { item: 'cab.approved', phase: 3, decided_by: 'signoff' } },
        ],
      }),
    );
    const r = await ltc(['golive', 'check', '--rc', RC, '--env', 'prod', '--json']);
    const doc = r.json as { items: Item[]; runbook: string };
    expect(doc.runbook).toBe(join(dir, 'runbooks', 'golive.yaml'));
    expect(doc.items.map((i) => i.item)).toEqual(['dns.resolves', 'cab.approved']);
    expect(r.code).toBe(1);
    await ltc(['golive', 'signoff', 'cab.approved', '--rc', RC, '--by', 'CAB']);
    const go = await ltc(['golive', 'check', '--rc', RC, '--env', 'prod']);
    expect(go.code, go.stdout).toBe(0);
    expect(go.stdout).toMatch(/GO: rc-2026-03-01 may go live/);
    const viaRunbook = await ltc(['runbook', 'run', 'golive', '--input', `rc=${RC}`, '--input', 'environment=prod']);
    expect(viaRunbook.code, viaRunbook.stderr + viaRunbook.stdout).toBe(0);
    const { rm } = await import('node:fs/promises');
    await rm(join(dir, 'runbooks'), { recursive: true });
  }, 60_000);
});
