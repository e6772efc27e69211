/**
 * `ltc secrets scan` (secretlint + this project's rule) over files, staged blobs and the whole
 * history of a real git repository, and the pre-commit hook it installs. The secrets are made up
 * at run time so no realistic secret sits in this file.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs,  tempDir } from './helpers/cli.js';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';
import { fileEnv, makeOps } from './helpers/secrets.js';

afterAll(cleanupTempDirs);

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function pick(alphabet: string, n: number): string {
  return Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
}

const githubToken = () => 'ghp_' + pick(ALNUM, 36);
const awsKeyId = () => 'AKIA' + pick('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16);
/** A real (throwaway) RSA key in PEM: secretlint checks the DER inside, random bytes would not do. */
const privateKey = () => generateKeyPairSync('rsa', { modulusLength: 1024, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey.trim();
const secretKey = () => randomBytes(48).toString('base64url');
const dbPassword = () => pick(ALNUM, 20) + '-x';

const GIT_ENV = { GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.invalid', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.invalid' };

async function git(cwd: string, ...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa('git', args, { cwd, env: GIT_ENV, reject: false });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function repo(): Promise<string> {
  const dir = await tempDir('ltc-scan-');
  await git(dir, 'init', '-q', '-b', 'main');
  await writeFile(join(dir, 'README.md'), '# app\n');
  await git(dir, 'add', '.');
  await git(dir, 'commit', '-q', '-m', 'init');
  return dir;
}

interface ScanJson {
  findings: Array<{ file: string; line: number; rule: string; secret: string; source: string; commit?: string }>;
}

function expectNoneOf(text: string, secrets: string[]): void {
  for (const s of secrets) {
    for (const part of s.split('\n')) if (part.length >= 8) expect(text).not.toContain(part);
  }
}

describe('secrets scan', () => {
  it('finds GitHub tokens, AWS keys, private keys and this project\'s shapes in files, masked', async () => {
    const dir = await repo();
    const s = { gh: githubToken(), aws: awsKeyId(), pk: privateKey(), key: secretKey(), pw: dbPassword(), url: dbPassword() };
    await writeFile(join(dir, 'config.js'), `export const token = "${s.gh}";\nexport const awsId = '${s.aws}';\n`);
    await mkdir(join(dir, 'deploy'));
    await writeFile(join(dir, 'deploy', 'id_rsa'), s.pk + '\n');
    await writeFile(join(dir, '.env.production'), `LTC_SECRET_KEY=${s.key}\nDATABASE_URL=postgresql://ltc:${s.url}@db.internal:5432/ltc\nDATABASE_PASSWORD=${s.pw}\n`);
    await writeFile(join(dir, 'docs.md'), 'DATABASE_URL=postgres://user:${DB_PASSWORD}@localhost/db\nLTC_SECRET_KEY=<generate with ltc secrets generate>\n');

    const r = await runLtc(['secrets', 'scan', dir, '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as ScanJson;
    const by = (file: string) => report.findings.filter((f) => f.file === file).map((f) => `${f.line}:${f.rule}`);
    expect(by('config.js')).toEqual(['1:@secretlint/secretlint-rule-github', '2:@secretlint/secretlint-rule-aws']);
    expect(by('deploy/id_rsa')).toEqual(['1:@secretlint/secretlint-rule-privatekey']);
    expect(by('.env.production')).toContain('1:ltc/secret-key');
    expect(by('.env.production').some((x) => x.startsWith('2:'))).toBe(true);
    expect(by('.env.production')).toContain('3:ltc/password-assignment');
    expect(by('docs.md')).toEqual([]);
    expect(report.findings.find((f) => f.file === 'config.js')!.secret).toBe('ghp_****');
    // The preset's tokens keep their public type prefix; nothing of this project's own secrets is shown.
    for (const f of report.findings.filter((x) => x.rule.startsWith('ltc/'))) expect(f.secret, f.rule).toBe('****');
    expect(report.findings.filter((x) => x.rule.startsWith('ltc/')).length).toBeGreaterThanOrEqual(2);
    expectNoneOf(r.stdout + r.stderr, Object.values(s));

    const text = await runLtc(['secrets', 'scan'], { cwd: dir });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/config\.js:1:\d+ {2}@secretlint\/secretlint-rule-github .*\[ghp_\*\*\*\*\]/);
    expect(text.stdout).toContain('secrets found in');
    expectNoneOf(text.stdout + text.stderr, Object.values(s));

    const sarif = await runLtc(['secrets', 'scan', '--format', 'sarif'], { cwd: dir });
    expect(sarif.code).toBe(1);
    const doc = JSON.parse(sarif.stdout) as { version: string; runs: Array<{ tool: { driver: { rules: Array<{ id: string }> } }; results: Array<{ ruleId: string; level: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }> }> }> };
    expect(doc.version).toBe('2.1.0');
    const run = doc.runs[0]!;
    expect(run.results.length).toBe(report.findings.length);
    expect(run.tool.driver.rules.map((x) => x.id)).toContain('ltc/secret-key');
    const gh = run.results.find((x) => x.ruleId === '@secretlint/secretlint-rule-github')!;
    expect(gh.level).toBe('error');
    expect(gh.locations[0]!.physicalLocation).toMatchObject({ artifactLocation: { uri: 'config.js' }, region: { startLine: 1 } });
    expectNoneOf(sarif.stdout, Object.values(s));
  });

  it('exits 0 on a clean tree, and 2 on a bad --format', async () => {
    const dir = await repo();
    const ok = await runLtc(['secrets', 'scan'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('no secrets found');
    const bad = await runLtc(['secrets', 'scan', '--format', 'xml'], { cwd: dir });
    expect(bad.code).toBe(2);
  });

  it('finds the values of the file store wherever they are, by value', async () => {
    const ops = await makeOps({ staging: fileEnv() });
    const value = 'opaque' + pick(ALNUM, 14);
    expect((await ops.ltc(['secrets', 'set', 'PARTNER_SHARED_VALUE'], { input: value })).code).toBe(0);
    await writeFile(join(ops.dir, 'notes.txt'), `call the partner with ${value} tomorrow\n`);
    const r = await ops.ltc(['secrets', 'scan', '--json']);
    expect(r.code).toBe(1);
    const f = (r.json as ScanJson).findings;
    expect(f).toEqual([expect.objectContaining({ file: 'notes.txt', line: 1, rule: 'ltc/stored-secret-value' })]);
    expect(r.stdout + r.stderr).not.toContain(value);
  });

  it('--staged with nothing staged says so (exit 0)', async () => {
    const dir = await repo();
    const r = await runLtc(['secrets', 'scan', '--staged'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('nothing to scan (no staged changes); no secrets found');
  });

  it('--staged scans what is staged, not the working tree', async () => {
    const dir = await repo();
    const staged = githubToken();
    const unstaged = githubToken();
    await writeFile(join(dir, 'a.js'), `const t = "${staged}";\n`);
    await git(dir, 'add', 'a.js');
    await writeFile(join(dir, 'b.js'), `const t = "${unstaged}";\n`);
    // The staged blob is what counts: a later working-tree edit of a.js does not hide it.
    await writeFile(join(dir, 'a.js'), 'const t = process.env.TOKEN;\n');
    const r = await runLtc(['secrets', 'scan', '--staged', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const f = (r.json as ScanJson).findings;
    expect(f.map((x) => `${x.file}:${x.source}`)).toEqual(['a.js:staged']);
    expectNoneOf(r.stdout + r.stderr, [staged, unstaged]);
    await git(dir, 'reset', '-q');
    const none = await runLtc(['secrets', 'scan', '--staged'], { cwd: dir });
    expect(none.code).toBe(0);
  });

  it('--history finds a secret removed in a later commit, with the commit that added it', async () => {
    const dir = await repo();
    const key = secretKey();
    await writeFile(join(dir, '.env'), `LTC_SECRET_KEY=${key}\n`);
    await git(dir, 'add', '.env');
    await git(dir, 'commit', '-q', '-m', 'add env');
    const added = (await git(dir, 'rev-parse', 'HEAD')).stdout.trim();
    await git(dir, 'rm', '-q', '.env');
    await git(dir, 'commit', '-q', '-m', 'remove env');
    expect((await runLtc(['secrets', 'scan'], { cwd: dir })).code).toBe(0);
    const r = await runLtc(['secrets', 'scan', '--history', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const report = r.json as ScanJson & { scanned: { commits: number } };
    expect(report.scanned.commits).toBe(3);
    expect(report.findings).toEqual([expect.objectContaining({ file: '.env', line: 1, rule: 'ltc/secret-key', source: 'history', commit: added })]);
    expectNoneOf(r.stdout + r.stderr, [key]);
  });

  it('--staged and --history outside a git repository: exit 2', async () => {
    const dir = await tempDir();
    const r = await runLtc(['secrets', 'scan', '--staged'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not in a git repository');
  });
});

describe('secrets hook install', () => {
  it('installs a pre-commit hook that blocks a commit staging a secret', async () => {
    const app = await repo();
    const ops = await makeOps({ staging: fileEnv() }, { app: { repo: app } });
    const r = await ops.ltc(['secrets', 'hook', 'install']);
    expect(r.code, r.stderr).toBe(0);
    const hook = join(app, '.git', 'hooks', 'pre-commit');
    expect((await stat(hook)).mode & 0o111).not.toBe(0);
    expect(await readFile(hook, 'utf8')).toContain('secrets scan --staged');

    const token = githubToken();
    await writeFile(join(app, 'leak.js'), `module.exports = "${token}";\n`);
    await git(app, 'add', 'leak.js');
    const blocked = await git(app, 'commit', '-m', 'leak');
    expect(blocked.exitCode).not.toBe(0);
    expect(blocked.stdout + blocked.stderr).toContain('@secretlint/secretlint-rule-github');
    expect(blocked.stdout + blocked.stderr).not.toContain(token);
    expect((await git(app, 'log', '--oneline')).stdout.split('\n')).toHaveLength(1);

    await writeFile(join(app, 'leak.js'), 'module.exports = process.env.TOKEN;\n');
    await git(app, 'add', 'leak.js');
    const clean = await git(app, 'commit', '-q', '-m', 'clean');
    expect(clean.exitCode, clean.stderr).toBe(0);

    // Installing again updates ltc's own hook.
    expect((await ops.ltc(['secrets', 'hook', 'install'])).code).toBe(0);
  });

  it('refuses to replace a foreign hook without --force, and keeps it with --force', async () => {
    const app = await repo();
    const hook = join(app, '.git', 'hooks', 'pre-commit');
    await writeFile(hook, '#!/bin/sh\necho my own hook\n', { mode: 0o755 });
    const refused = await runLtc(['secrets', 'hook', 'install', '--repo', app]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('not written by ltc');
    expect(await readFile(hook, 'utf8')).toContain('my own hook');
    const forced = await runLtc(['secrets', 'hook', 'install', '--repo', app, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(join(app, '.git', 'hooks', 'pre-commit.before-ltc'), 'utf8')).toContain('my own hook');
    expect(await readFile(hook, 'utf8')).toContain('ltc-secrets-scan');
    const notRepo = await runLtc(['secrets', 'hook', 'install', '--repo', await tempDir()]);
    expect(notRepo.code).toBe(2);
    expect(existsSync(join(app, '.git', 'hooks', 'pre-commit'))).toBe(true);
  });
});
