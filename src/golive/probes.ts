/**
 * The automated go-live checks. Each reads the world (config, secret backend, database, target,
 * TLS, DNS, git, revisions log, gate results, backups, webhook) and returns what it found: the
 * evidence (what, where, when) and, for a failure, the command that fixes it. A probe never
 * throws for a failing check; a thrown error is reported as a failure of that item.
 */
import { openLocalReleases } from '../targets/local/open.js';
import { lookup } from 'node:dns/promises';
import { access, constants, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { parseDuration, formatDuration } from '../core/duration.js';
import type { RevisionRecord } from '../targets/target.js';
import type { GoliveScope } from './scope.js';
import { isPlaceholder } from '../core/placeholder.js';
import { incidentsReviewed, noSecurityIncident } from './incident-probes.js';

export type ProbeStatus = 'passed' | 'failed' | 'not_applicable' | 'no_evidence';

export interface ProbeOutcome {
  status: ProbeStatus;
  evidence: string[];
  fix?: string;
  data?: Record<string, unknown>;
}

export type Probe = (s: GoliveScope, params: Record<string, unknown>) => Promise<ProbeOutcome>;

const pass = (evidence: string[], data?: Record<string, unknown>): ProbeOutcome => ({ status: 'passed', evidence, ...(data ? { data } : {}) });
const fail = (evidence: string[], fix?: string, data?: Record<string, unknown>): ProbeOutcome => ({ status: 'failed', evidence, ...(fix ? { fix } : {}), ...(data ? { data } : {}) });
const na = (why: string): ProbeOutcome => ({ status: 'not_applicable', evidence: [why] });


function envOf(s: GoliveScope, params: Record<string, unknown>): string {
  if (params.environment === 'staging') return s.golive.staging;
  return typeof params.environment === 'string' ? params.environment : s.environment;
}

// ---------------------------------------------------------------- phase 1

const architecture: Probe = async (s) => {
  const a = s.golive.architecture;
  const keys = ['hosting', 'api_deployment', 'database', 'frontend'] as const;
  const open = keys.filter((k) => isPlaceholder(a[k]));
  const where = `golive.architecture in ${s.loaded.file}`;
  if (open.length) return fail([`${where}: ${open.join(', ')} ${open.length === 1 ? 'is' : 'are'} not decided (missing, empty or TBD)`], `write the decision under golive.architecture.${open[0]} in ${s.loaded.file}`);
  return pass(keys.map((k) => `${k}: ${a[k]}`).concat(`(${where})`));
};

function decodedBytes(value: string): number {
  if (/^[A-Za-z0-9_-]+$/.test(value)) return Buffer.from(value, 'base64url').length;
  if (/^[A-Za-z0-9+/]+=*$/.test(value)) return Buffer.from(value, 'base64').length;
  return Buffer.byteLength(value);
}

const secrets: Probe = async (s, params) => {
  const envName = envOf(s, params);
  const e = s.envConfig(envName);
  if (!e.secrets) return fail([`environment "${envName}" has no secrets: section in ${s.loaded.file}`], `add secrets: { backend: file, required: [{ name: LTC_SECRET_KEY, kind: secret_key }] } to environments.${envName}`);
  if (e.secrets.required.length === 0) return na(`environment "${envName}" lists no required secrets`);
  const backend = await s.backend(envName);
  const maxAge = parseDuration(s.golive.secret_max_age);
  const policy = params.policy !== false;
  const evidence: string[] = [];
  const problems: string[] = [];
  let firstMissing: string | undefined;
  for (const p of e.secrets.required) {
    let desc;
    try {
      desc = await backend.describe(p.name);
    } catch {
      problems.push(`${p.name}: missing in ${backend.location}`);
      firstMissing ??= p.name;
      continue;
    }
    const current = desc.versions.find((v) => v.stages.includes('current'));
    if (!current) {
      problems.push(`${p.name}: no current version in ${backend.location}`);
      firstMissing ??= p.name;
      continue;
    }
    const created = current.created ?? desc.updated ?? desc.created;
    const age = created ? s.now - Date.parse(created) : undefined;
    let line = `${p.name}: version ${current.id}${created ? `, set ${created}` : ''}`;
    if (policy) {
      const limit = p.max_age !== undefined ? parseDuration(p.max_age) : maxAge;
      const limitName = p.max_age !== undefined ? `its max_age ${p.max_age}` : `golive.secret_max_age ${s.golive.secret_max_age}`;
      if (age !== undefined && age > limit) problems.push(`${p.name}: ${formatDuration(age)} old, older than ${limitName}`);
      const v = await backend.getValue(p.name);
      const kind = p.kind ?? (p.name.endsWith('_KEY') ? 'secret_key' : p.name.includes('PASSWORD') ? 'password' : 'string');
      if (kind === 'secret_key' || kind === 'token') {
        const min = Math.max(p.min_bytes ?? 0, kind === 'secret_key' ? 32 : 16);
        const n = decodedBytes(v.value);
        if (n < min) problems.push(`${p.name}: ${n} bytes, policy needs at least ${min}`);
        else line += `, ${n} bytes (≥ ${min})`;
      } else if (kind === 'password') {
        const min = p.length ?? 16;
        if (v.value.length < min) problems.push(`${p.name}: ${v.value.length} characters, policy needs at least ${min}`);
        else line += `, ${v.value.length} characters (≥ ${min})`;
      }
    }
    evidence.push(line);
  }
  evidence.push(`(${backend.kind} backend ${backend.location}, read ${new Date(s.now).toISOString()})`);
  if (problems.length) {
    const fix = firstMissing ? `ltc secrets generate ${firstMissing} --env ${envName}` : `ltc secrets rotate ${problems[0]!.split(':')[0]} --env ${envName}`;
    return fail([...problems, ...evidence], fix);
  }
  return pass(evidence);
};

async function pgClient(s: GoliveScope, envName: string) {
  const e = s.envConfig(envName);
  const db = e.database!;
  const backend = await s.backend(envName);
  const password = (await backend.getValue(db.password_secret)).value;
  const pg = ((await import('pg')) as unknown as { default: typeof import('pg') }).default;
  const client = new pg.Client({ host: db.host, port: db.port, user: db.user, password, database: db.name, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

function pgMessage(err: unknown): string {
  const code = (err as { code?: string }).code;
  return `${err instanceof Error ? err.message : String(err)}${code ? ` (${code})` : ''}`;
}

const databaseLogin: Probe = async (s, params) => {
  const envName = envOf(s, params);
  const db = s.envConfig(envName).database;
  if (!db) return na(`environment "${envName}" has no database: section`);
  const where = `${db.user}@${db.host}:${db.port}/${db.name}`;
  try {
    const c = await pgClient(s, envName);
    try {
      const r = await c.query<{ v: string }>('select version() as v');
      return pass([`logged in as ${where} with the password from ${db.password_secret}`, String(r.rows[0]?.v ?? '').split(',')[0]!]);
    } finally {
      await c.end().catch(() => undefined);
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    const auth = code === '28P01' || code === '28000';
    return fail(
      [`cannot log in as ${where}: ${pgMessage(err)}`],
      auth ? `the password in ${db.password_secret} does not match the database: ltc secrets rotate ${db.password_secret} --env ${envName}` : `check that PostgreSQL at ${db.host}:${db.port} is up and environments.${envName}.database`,
    );
  }
};

const targetWritable: Probe = async (s, params) => {
  const envName = envOf(s, params);
  const t = s.envConfig(envName).target;
  if (!t || t.type !== 'local') return fail([`environment "${envName}" has no local target: section`], `add target: { type: local, deploy_root: … } to environments.${envName}`);
  const root = s.loaded.resolvePath(t.deploy_root);
  let dir = root;
  try {
    await stat(root);
  } catch {
    dir = dirname(root);
  }
  const probe = join(dir, `.ltc-golive-${process.pid}`);
  try {
    await access(dir, constants.W_OK);
    await writeFile(probe, 'ok');
    await rm(probe, { force: true });
    return pass([`${t.type} target, deploy root ${root}${dir !== root ? ' (not created yet; its parent is writable)' : ''} is writable`]);
  } catch (err) {
    return fail([`deploy root ${root} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`], `create ${root} and give the deploying user write access`);
  }
};

function daysLeft(cert: PeerCertificate, now: number): number {
  return Math.floor((Date.parse(cert.valid_to) - now) / 86_400_000);
}

const tls: Probe = async (s, params) => {
  const envName = envOf(s, params);
  const url = s.envConfig(envName).url;
  if (!url) return fail([`environment "${envName}" has no url`], `add url: https://… to environments.${envName}`);
  const u = new URL(url);
  if (u.protocol !== 'https:') return na(`${url} is not https (no certificate to check)`);
  const ca = s.golive.tls_ca ? await readFile(s.loaded.resolvePath(s.golive.tls_ca), 'utf8') : undefined;
  const host = u.hostname;
  const port = u.port ? Number(u.port) : 443;
  const result = await new Promise<{ cert?: PeerCertificate; authorized: boolean; error?: string }>((resolve) => {
    const options: ConnectionOptions = { host, port, rejectUnauthorized: false, timeout: 5000, ...(ca ? { ca } : {}), ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }) };
    const sock = tlsConnect(options);
    sock.once('secureConnect', () => {
      const cert = sock.getPeerCertificate();
      resolve({ cert, authorized: sock.authorized, ...(sock.authorizationError ? { error: String(sock.authorizationError) } : {}) });
      sock.end();
    });
    sock.once('timeout', () => {
      resolve({ authorized: false, error: 'timed out after 5s' });
      sock.destroy();
    });
    sock.once('error', (err) => resolve({ authorized: false, error: err.message }));
  });
  if (!result.cert || !result.cert.valid_to) return fail([`no TLS handshake with ${host}:${port}: ${result.error ?? 'no certificate'}`], `check that ${url} serves https`);
  const days = daysLeft(result.cert, s.now);
  const problems: string[] = [];
  const idErr = checkServerIdentity(host, result.cert);
  if (idErr) problems.push(`the certificate does not match ${host}: ${idErr.message}`);
  else if (!result.authorized && result.error && !/ALTNAME|HOSTNAME/i.test(result.error)) problems.push(`the certificate is not trusted: ${result.error}`);
  if (days < s.golive.tls_min_days) problems.push(`it expires in ${days} days (${result.cert.valid_to}), fewer than golive.tls_min_days ${s.golive.tls_min_days}`);
  const ev = `${host}:${port}: certificate for ${result.cert.subject?.CN ?? '?'}, valid until ${result.cert.valid_to} (${days} days left)`;
  if (problems.length) return fail([...problems, ev], idErr ? `issue a certificate for ${host}` : `renew the certificate of ${host}`);
  return pass([ev, `matches ${host}; trusted`]);
};

const dns: Probe = async (s) => {
  const names = s.golive.hostnames ?? [
    ...new Set(
      Object.values(s.loaded.config.environments)
        .map((e) => (e.url ? new URL(e.url).hostname : undefined))
        .filter((h): h is string => !!h),
    ),
  ];
  if (names.length === 0) return na('no host names configured (golive.hostnames or environment urls)');
  const results = await Promise.all(
    names.map(async (n) => {
      try {
        const r = await lookup(n, { all: true });
        return { n, ok: true, text: `${n} → ${r.map((a) => a.address).join(', ')}` };
      } catch (err) {
        return { n, ok: false, text: `${n} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
      }
    }),
  );
  const bad = results.filter((r) => !r.ok);
  const ev = results.map((r) => r.text);
  return bad.length ? fail(ev, `create the DNS record for ${bad[0]!.n}`) : pass(ev);
};

const ciWorkflow: Probe = async (s) => {
  const { git } = await import('../git/git.js');
  const mirror = await s.mirror();
  const commit = await s.commit();
  const found: string[] = [];
  for (const p of s.golive.ci_workflows) {
    const out = await git(['ls-tree', '-r', '--name-only', commit, '--', p], { cwd: mirror }).catch(() => '');
    found.push(...out.split('\n').filter(Boolean));
  }
  if (found.length === 0) return fail([`no CI workflow in ${s.rc} (${commit.slice(0, 12)}): looked for ${s.golive.ci_workflows.join(', ')}`], 'commit a CI workflow (e.g. .github/workflows/ci.yml) and tag a new RC');
  return pass([`${s.rc} (${commit.slice(0, 12)}) has ${found.slice(0, 5).join(', ')}${found.length > 5 ? ` and ${found.length - 5} more` : ''}`]);
};

// ---------------------------------------------------------------- phase 2

async function revisions(s: GoliveScope, envName: string): Promise<{ root: string; records: RevisionRecord[] } | undefined> {
  const env = s.envConfig(envName);
  if (env.target?.type !== 'local') return undefined;
  const target = openLocalReleases(envName, env, s.loaded);
  return { root: target.root, records: await target.readRevisions() };
}

/** The smoke tests and log scan of the RC's ok deploy, as its revisions.log record says (`verified`). */
function smokeEvidence(s: GoliveScope, envName: string, ok: RevisionRecord, evidence: string[]): ProbeOutcome {
  const v = ok.verified;
  const again = `ltc deploy --rc ${s.rc} --env ${envName}`;
  if (!v || (v.smoke === undefined && v.logScan === undefined)) {
    return fail([`the deploy of ${ok.release} recorded no smoke test or log scan result (a runbook without the smoke and log_scan phases, or an older ltc)`, ...evidence], again);
  }
  const problems: string[] = [];
  const found: string[] = [];
  if (v.smoke === undefined) problems.push('the smoke phase did not run in that deploy');
  else if (v.smoke === 0) problems.push(`no smoke tests configured (environments.${envName}.target.smoke is empty)`);
  else found.push(`${v.smoke} smoke test(s) passed`);
  if (v.logScan === undefined) problems.push('the log scan did not run in that deploy');
  else if (v.logScan.patterns === 0) problems.push(`the log scan has no patterns (environments.${envName}.target.log_scan is empty)`);
  else found.push(`log scan: ${v.logScan.scanned} line(s) of the app log, none matched ${v.logScan.patterns} pattern(s)`);
  if (problems.length) return fail([...problems, ...found, ...evidence], v.smoke === 0 || v.logScan?.patterns === 0 ? `configure environments.${envName}.target.smoke / log_scan in ${s.loaded.file}, then ${again}` : again);
  return pass([...found, ...evidence]);
}

const stagingDeployed: Probe = async (s, params) => {
  const envName = envOf(s, { environment: params.environment ?? 'staging' });
  const commit = await s.commit();
  const rev = await revisions(s, envName);
  if (!rev) return fail([`environment "${envName}" has no target`], `configure environments.${envName}.target`);
  const deploys = rev.records.filter((r) => r.action === 'deploy' && r.commit === commit);
  const ok = deploys.filter((r) => r.outcome === 'ok').at(-1);
  if (!ok) {
    const last = deploys.at(-1);
    return fail(
      [last ? `the last deploy of ${s.rc} to ${envName} (${last.time}) ended ${last.outcome}${last.failedPhase ? ` in ${last.failedPhase}` : ''}` : `${s.rc} (${commit.slice(0, 12)}) was never deployed to ${envName} (${join(rev.root, 'revisions.log')})`],
      `ltc deploy --rc ${s.rc} --env ${envName}`,
    );
  }
  const { readReleaseLink } = await import('../targets/local/releases.js');
  const current = await readReleaseLink(join(rev.root, 'current'));
  const currentRec = rev.records.filter((r) => r.release === current && (r.action === 'deploy' || r.action === 'rollback')).at(-1);
  const evidence = [`deployed ${ok.time} by ${ok.actor} as ${ok.release}, outcome ok in ${formatDuration(ok.durationMs)} (${join(rev.root, 'revisions.log')})`];
  if (params.part === 'smoke') return smokeEvidence(s, envName, ok, evidence);
  if (current !== ok.release && currentRec?.commit !== commit) return fail([...evidence, `but ${envName} runs ${current ?? 'nothing'} now`], `ltc deploy --rc ${s.rc} --env ${envName}`);
  return pass([...evidence, `current on ${envName}: ${current}`], { release: ok.release, durationMs: ok.durationMs, time: ok.time });
};

const health: Probe = async (s, params) => {
  const envName = envOf(s, params);
  const e = s.envConfig(envName);
  if (!e.health || e.health.endpoints.length === 0) return fail([`environment "${envName}" has no health endpoints`], `add health: { endpoints: [...] } to environments.${envName}`);
  const { probeEndpoints } = await import('../health/run.js');
  const h = e.health as unknown as { endpoints: Parameters<typeof probeEndpoints>[0] } & Record<string, unknown>;
  const results = await probeEndpoints(h.endpoints, { ...(e.url ? { baseUrl: e.url } : {}), resolvePath: s.loaded.resolvePath, retries: 1 } as Parameters<typeof probeEndpoints>[1], s.signal);
  const ev = results.map((r) => `${r.name}: ${r.ok ? 'ok' : 'FAILED'} ${r.status ?? r.error ?? ''}${r.latencyMs !== null ? ` in ${r.latencyMs}ms` : ''} (${new Date().toISOString()})`);
  return results.every((r) => r.ok) ? pass(ev) : fail(ev, `ltc health --env ${envName}`);
};

const rollbackRehearsed: Probe = async (s, params) => {
  const envName = envOf(s, { environment: params.environment ?? 'staging' });
  const rev = await revisions(s, envName);
  if (!rev) return fail([`environment "${envName}" has no target`]);
  const maxAge = parseDuration(s.golive.rehearsal_max_age);
  const rto = parseDuration(s.golive.rto);
  const recent = rev.records.filter((r) => r.action === 'rollback' && s.now - Date.parse(r.time) <= maxAge);
  const good = recent.filter((r) => r.outcome === 'ok' && r.durationMs < rto).at(-1);
  if (!good) {
    const last = recent.at(-1);
    return fail(
      [last ? `the last rollback on ${envName} (${last.time}) ${last.outcome !== 'ok' ? `ended ${last.outcome}` : `took ${formatDuration(last.durationMs)}, not under the RTO ${s.golive.rto}`}` : `no rollback on ${envName} within golive.rehearsal_max_age ${s.golive.rehearsal_max_age}`],
      `ltc rollback --env ${envName}  (then deploy the RC again)`,
    );
  }
  return pass([`rollback on ${envName} ${good.time} by ${good.actor}: ${good.from ?? '?'} → ${good.release ?? '?'} in ${formatDuration(good.durationMs)} (RTO ${s.golive.rto})`], { durationMs: good.durationMs, time: good.time });
};

// ---------------------------------------------------------------- phase 3

const gates: Probe = async (s) => {
  const { checkGatesGreen } = await import('../gates/result.js');
  const commit = await s.commit();
  const g = await checkGatesGreen(s.stateDir, commit, parseDuration(s.golive.gates_max_age), { gates: s.loaded.config.gates, now: s.now });
  const list = g.result?.gates.map((x) => `${x.name} ${x.status}`).join(', ');
  const ev = [g.reason, ...(list ? [list] : []), `(${join(s.stateDir, 'gates', commit + '.json')})`];
  return g.green ? pass(ev, { gates: g.result?.gates.map((x) => ({ name: x.name, status: x.status })) }) : fail(ev, `ltc gates run --rc ${s.rc}`);
};

const secretScan: Probe = async (s) => {
  const commit = await s.commit();
  const { storeValues, packageVersion } = await import('../secrets/scan.js');
  const values = await storeValues(s.ctx);
  const cache = await import('./scan-cache.js');
  const key = await cache.scanCacheKey(s.stateDir, { version: packageVersion(), commit, values });
  const cached = await cache.readCachedScan(s.stateDir, commit, key);
  let result: { files: number; findings: Array<{ file: string; line: number; message: string; secret: string }> };
  let note = '';
  if (cached) {
    result = cached;
    note = ` (the scan of ${cached.at}: the commit, ltc and the stored values are unchanged since)`;
  } else {
    // The tree export runs in git child processes: load the scanner (secretlint) meanwhile.
    const [tree, { scan }] = await Promise.all([s.tree(), import('../secrets/scan.js'), import('@secretlint/node')]);
    const report = await scan(s.ctx, tree, { knownValues: values });
    result = { files: report.scanned.files, findings: report.findings.map((f) => ({ file: f.file, line: f.line, message: f.message, secret: f.secret })) };
    await cache.writeCachedScan(s.stateDir, commit, { key, at: new Date().toISOString(), ...result }).catch(() => undefined);
  }
  if (result.findings.length) {
    return fail(
      result.findings.slice(0, 5).map((f) => `${f.file}:${f.line}: ${f.message} (${f.secret})`).concat(`${result.findings.length} finding(s) in ${s.rc} (${commit.slice(0, 12)})${note}`),
      'remove the secret from the repo, rotate it (ltc secrets rotate), tag a new RC',
    );
  }
  return pass([`${result.files} files of ${s.rc} (${commit.slice(0, 12)}) scanned, no secret found${note}`]);
};

// ---------------------------------------------------------------- phase 4

const backupRecent: Probe = async (s, params) => {
  const envName = envOf(s, params);
  const db = s.envConfig(envName).database;
  if (!db) return na(`environment "${envName}" has no database`);
  if (!db.backup) return fail([`environments.${envName}.database has no backup: section`], `add database.backup: { dir, key_secret } and run ltc backup create --env ${envName}`);
  const { readIndex } = await import('../backup/backup.js');
  const index = await readIndex(s.loaded.resolvePath(db.backup.dir));
  const newest = index.filter((b) => b.environment === envName).at(-1);
  const rpo = parseDuration(s.golive.rpo);
  const rto = parseDuration(s.golive.rto);
  if (!newest) return fail([`no backup of ${envName} in ${db.backup.dir}`], `ltc backup create --env ${envName}`);
  const age = s.now - Date.parse(newest.created);
  const problems: string[] = [];
  if (age > rpo) problems.push(`the newest backup ${newest.file} is ${formatDuration(age)} old, older than the RPO ${s.golive.rpo}`);
  if (!newest.verify) problems.push(`${newest.file} was never verified by a restore`);
  else if (!newest.verify.ok) problems.push(`the restore check of ${newest.file} failed (${newest.verify.time}): ${newest.verify.error ?? ''}`);
  else if (newest.verify.restoreMs > rto) problems.push(`restoring ${newest.file} took ${formatDuration(newest.verify.restoreMs)}, longer than the RTO ${s.golive.rto}`);
  const ev = `${newest.file}: ${newest.created}, ${newest.size} bytes, sha256 ${newest.sha256.slice(0, 12)}…${newest.verify ? `; verified ${newest.verify.time}, restore ${formatDuration(newest.verify.restoreMs)}` : ''}`;
  if (problems.length) return fail([...problems, ev], newest.verify?.ok === false || age > rpo ? `ltc backup create --env ${envName} && ltc backup verify --env ${envName}` : `ltc backup verify --env ${envName}`);
  return pass([ev]);
};

const dbConnections: Probe = async (s, params) => {
  const envName = envOf(s, params);
  const db = s.envConfig(envName).database;
  if (!db) return na(`environment "${envName}" has no database`);
  let c;
  try {
    c = await pgClient(s, envName);
  } catch (err) {
    return fail([`cannot connect to ${db.host}:${db.port}/${db.name}: ${pgMessage(err)}`], `check the database login item first`);
  }
  try {
    const max = Number((await c.query<{ max_connections: string }>('show max_connections')).rows[0]?.max_connections ?? 0);
    const used = Number((await c.query<{ n: string }>('select count(*)::int as n from pg_stat_activity')).rows[0]?.n ?? 0);
    const long = (
      await c.query<{ pid: number; secs: number; q: string }>(
        "select pid, extract(epoch from now() - query_start)::float as secs, left(query, 60) as q from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() and query_start is not null order by query_start limit 1",
      )
    ).rows[0];
    const limit = parseDuration(db.max_query_time);
    const problems: string[] = [];
    if (used > max * db.max_connection_share) problems.push(`${used} of ${max} connections in use, above the share ${db.max_connection_share}`);
    if (long && long.secs * 1000 > limit) problems.push(`query of pid ${long.pid} has run ${formatDuration(long.secs * 1000)} (> ${db.max_query_time})`);
    const ev = `${used} of max_connections ${max} in use (limit ${Math.floor(max * db.max_connection_share)}); longest active query ${long ? formatDuration(long.secs * 1000) : 'none'}`;
    return problems.length ? fail([...problems, ev], 'find the sessions in pg_stat_activity; end runaway queries (pg_cancel_backend)') : pass([ev]);
  } finally {
    await c.end().catch(() => undefined);
  }
};

interface AlertRecord {
  time: string;
  ok: boolean;
  status: number | null;
  error?: string;
}

const alertWebhook: Probe = async (s) => {
  const file = join(s.stateDir, 'golive', 'alert-test.json');
  let url = s.golive.alert_webhook;
  if (!url && s.golive.alert_webhook_secret) url = (await (await s.backend(s.environment)).getValue(s.golive.alert_webhook_secret)).value;
  if (!url) return fail(['no alert webhook configured (golive.alert_webhook or golive.alert_webhook_secret)'], `set golive.alert_webhook in ${s.loaded.file}`);
  s.ctx.masker.add(url);
  if (s.sendTestAlert) {
    const rec: AlertRecord = { time: new Date().toISOString(), ok: false, status: null };
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: `ltc golive check: test alert for ${s.rc} on ${s.environment} (no action needed)` }),
        signal: AbortSignal.any([s.signal, AbortSignal.timeout(10_000)]),
      });
      rec.status = res.status;
      rec.ok = res.ok;
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      rec.error = (err as Error).message;
    }
    const { writeFileAtomic } = await import('../core/fs-atomic.js');
    await writeFileAtomic(file, JSON.stringify(rec, null, 2) + '\n', 0o644);
  }
  let rec: AlertRecord | undefined;
  try {
    rec = JSON.parse(await readFile(file, 'utf8')) as AlertRecord;
  } catch {
    return fail(['no test alert recorded'], 'ltc golive check --send-test-alert --item alerts.webhook');
  }
  const age = s.now - Date.parse(rec.time);
  if (!rec.ok) return fail([`the test alert of ${rec.time} was refused: ${rec.status ?? rec.error}`], 'fix the webhook, then ltc golive check --send-test-alert');
  if (age > 7 * 86_400_000) return fail([`the last accepted test alert is from ${rec.time} (older than 7 days)`], 'ltc golive check --send-test-alert');
  return pass([`test alert accepted with HTTP ${rec.status} at ${rec.time} (${file})`]);
};

const contacts: Probe = async (s) => {
  const list = s.loaded.config.contacts;
  const problems: string[] = [];
  if (list.length === 0) problems.push(`no contacts in ${s.loaded.file}`);
  list.forEach((c, i) => {
    for (const [k, v] of Object.entries(c)) {
      if (typeof v === 'string' && isPlaceholder(v, k)) problems.push(`contacts[${i}] (${c.role}) ${k} is still a placeholder: ${JSON.stringify(v)}`);
    }
  });
  if (isPlaceholder(s.golive.paging_tool)) problems.push('no paging tool named (golive.paging_tool)');
  if (isPlaceholder(s.golive.status_page)) problems.push('no status page URL (golive.status_page)');
  if (problems.length) return fail(problems, `fill in contacts and golive.paging_tool / golive.status_page in ${s.loaded.file}`);
  return pass([`${list.length} contacts (${list.map((c) => c.role).join(', ')}), paging: ${s.golive.paging_tool}, status page: ${s.golive.status_page}`]);
};

/** Evidence from features built elsewhere (.ltc/watch/*.json, .ltc/incidents/*.json): read when there. */
const recorded: Probe = async (s, params) => {
  const kind = params.kind === 'incidents' ? 'incidents' : 'watch';
  const dir = join(s.stateDir, kind);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) return { status: 'no_evidence', evidence: [`no evidence recorded (${dir} is empty)`] };
  if (kind === 'watch') {
    // ltc watch results (src/watch/run.ts): the watches of this rc on this environment, newest first.
    const { watchEvidence } = await import('../watch/evidence.js');
    const ev = await watchEvidence(dir, files, s.rc, s.environment);
    if (ev) return { status: 'no_evidence', evidence: ev };
  }
  const newest = files.at(-1)!;
  let summary = '';
  try {
    const d = JSON.parse(await readFile(join(dir, newest), 'utf8')) as Record<string, unknown>;
    summary = ['rc', 'status', 'verdict', 'outcome', 'severity', 'title'].filter((k) => typeof d[k] === 'string').map((k) => `${k} ${d[k]}`).join(', ');
  } catch {
    summary = 'unreadable';
  }
  return { status: 'no_evidence', evidence: [`${files.length} record(s) in ${dir}; newest ${newest}${summary ? `: ${summary}` : ''}`] };
};

/** Rough cost of each probe: the costly ones start first, so they overlap with the cheap ones. */
export const PROBE_COST: Record<string, number> = {
  'secrets.scan': 10,
  'ci.workflow': 5,
  health: 4,
  'database.login': 3,
  'database.connections': 3,
  secrets: 3,
  'staging.deployed': 3,
  'rollback.rehearsed': 2,
  gates: 2,
  tls: 2,
  dns: 2,
};

export const PROBES: Record<string, Probe> = {
  architecture,
  secrets,
  'database.login': databaseLogin,
  'target.writable': targetWritable,
  tls,
  dns,
  'ci.workflow': ciWorkflow,
  'staging.deployed': stagingDeployed,
  health,
  'rollback.rehearsed': rollbackRehearsed,
  gates,
  'secrets.scan': secretScan,
  'backup.recent': backupRecent,
  'database.connections': dbConnections,
  'alerts.webhook': alertWebhook,
  contacts,
  'incidents.security': noSecurityIncident,
  'incidents.reviewed': incidentsReviewed,
  recorded,
};
