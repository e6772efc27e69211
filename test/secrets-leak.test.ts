/**
 * The leak test: every secrets command runs with known values; none of the values — nor their
 * base64, base64url, hex, JSON-escaped or URL-encoded forms — may appear in stdout (except the
 * one `get --reveal` that asks for it), stderr, run journals, the audit log or any file under
 * `.ltc/` other than the encrypted store.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir, type LtcRun } from './helpers/cli.js';
import { makeOps } from './helpers/secrets.js';

afterAll(cleanupTempDirs);

function forms(value: string): string[] {
  const b64 = Buffer.from(value).toString('base64');
  return [...new Set([value, b64, b64.replace(/=+$/, ''), Buffer.from(value).toString('base64url'), Buffer.from(value).toString('hex'), encodeURIComponent(value), encodeURI(value), JSON.stringify(value).slice(1, -1)])].filter(
    (f) => f.length >= 8,
  );
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe('secret values never leak', () => {
  it('runs every secrets command and finds no value in any output, journal, audit entry or state file', async () => {
    const app = await tempDir('ltc-leak-app-');
    await execa('git', ['init', '-q', app]);
    const known = 'Leak+Test/Value=with&special chars%' + randomBytes(8).toString('hex');
    const weak = 'weak-' + randomBytes(4).toString('hex');
    const typed = 'typed-on-argv-' + randomBytes(6).toString('hex');
    // What runs meanwhile: the rotation runbook's restart command snapshots every process's argv.
    const psFile = join(app, 'ps-during-rotation.txt');
    if ((await execa('sh', ['-c', 'command -v ps'], { reject: false })).exitCode !== 0) throw new Error('ps not found: install the Debian package "procps"');
    const ops = await makeOps(
      {
        staging: {
          secrets: {
            backend: 'file',
            required: [
              { name: 'LTC_SECRET_KEY', kind: 'secret_key', rotate: { runbook: 'rotate-secret', inputs: { env_file: 'shared/.env', restart: `ps -eo args >> '${psFile}'` } } },
              { name: 'DATABASE_PASSWORD', kind: 'password', length: 24 },
              { name: 'PARTNER_API_TOKEN', kind: 'token' },
            ],
          },
        },
      },
      { app: { repo: app } },
    );
    await mkdir(join(ops.dir, 'shared'));
    const runs: Array<{ args: string[]; r: LtcRun; revealed?: boolean }> = [];
    const ltc = async (args: string[], opts: { input?: string; env?: Record<string, string>; revealed?: boolean } = {}) => {
      const r = await ops.ltc(args, opts);
      runs.push({ args, r, revealed: opts.revealed });
      return r;
    };
    const reveal = async (name: string, stage: string) => {
      const r = await ltc(['secrets', 'get', name, '--stage', stage, '--reveal', '--yes'], { revealed: true });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    const values = new Set<string>([known, weak, typed, ops.env.LTC_MASTER_KEY!]);
    /** Every value any version ever had: revealed after each change (dropped versions included). */
    const collect = async () => {
      const list = await ltc(['secrets', 'list', '--json']);
      for (const s of (list.json as { secrets: Array<{ name: string; versions: Array<{ stages: string[] }> }> }).secrets) {
        for (const stage of ['current', 'previous', 'pending']) {
          if (s.versions.some((v) => v.stages.includes(stage))) values.add(await reveal(s.name, stage));
        }
      }
    };

    expect((await ltc(['secrets', 'set', 'PARTNER_API_TOKEN'], { input: known })).code).toBe(0);
    expect((await ltc(['secrets', 'set', 'PARTNER_API_TOKEN'], { input: weak })).code).toBe(2);
    expect((await ltc(['secrets', 'set', 'PARTNER_API_TOKEN', typed])).code).toBe(2);
    expect((await ltc(['secrets', 'set', 'PARTNER_API_TOKEN', typed, '--json'])).code).toBe(2);
    expect((await ltc(['secrets', 'generate', 'LTC_SECRET_KEY'])).code).toBe(0);
    expect((await ltc(['secrets', 'generate', 'DATABASE_PASSWORD', '--verbose'])).code).toBe(0);
    await collect();
    expect((await ltc(['secrets', 'generate', 'DATABASE_PASSWORD', '--yes', '--json'])).code).toBe(0);
    await collect();
    for (const args of [['secrets', 'list'], ['secrets', 'list', '--json'], ['secrets', 'get', 'PARTNER_API_TOKEN'], ['secrets', 'get', 'PARTNER_API_TOKEN', '--json', '--debug']]) {
      expect((await ltc(args)).code, args.join(' ')).toBe(0);
    }
    expect((await ltc(['secrets', 'get', 'PARTNER_API_TOKEN', '--reveal'])).code).toBe(2);
    expect((await ltc(['secrets', 'get', 'PARTNER_API_TOKEN', '--reveal', '--yes', '--json'])).code).toBe(2);
    expect(await reveal('PARTNER_API_TOKEN', 'current')).toBe(known);

    // Rotation through the shipped runbook (journals under .ltc/runs/), with --verbose streaming its steps.
    expect((await ltc(['secrets', 'rotate', 'LTC_SECRET_KEY', '--dry-run'])).code).toBe(0);
    const rot = await ltc(['secrets', 'rotate', 'LTC_SECRET_KEY', '--verbose']);
    expect(rot.code, rot.stderr).toBe(0);
    expect((await ltc(['secrets', 'rotate', 'DATABASE_PASSWORD', '--json'])).code).toBe(0);
    expect((await ltc(['secrets', 'rollback', 'DATABASE_PASSWORD'])).code).toBe(0);
    await collect();
    expect((await ltc(['secrets', 'rotate', 'PARTNER_API_TOKEN'], { env: { LTC_TEST_KILL_AT: 'rotate:created' } })).code).not.toBe(0);
    await collect();
    expect((await ltc(['secrets', 'verify'])).code).toBe(1); // the unfinished rotation is reported
    expect((await ltc(['secrets', 'rotate', 'PARTNER_API_TOKEN', '--debug'])).code).toBe(0);
    expect((await ltc(['secrets', 'verify', '--json'])).code).toBe(0);
    for (const args of [['secrets', 'audit'], ['secrets', 'audit', '--json'], ['audit', 'log'], ['audit', 'log', '--json'], ['audit', 'verify']]) {
      expect((await ltc(args)).code, args.join(' ')).toBe(0);
    }

    // Failures print nothing of the values either.
    expect((await ltc(['secrets', 'get', 'PARTNER_API_TOKN', '--debug'])).code).toBe(2);
    expect((await ltc(['secrets', 'verify', '--debug'], { env: { LTC_MASTER_KEY: randomBytes(32).toString('base64') } })).code).toBe(2);
    const rb = await ltc(['secrets', 'rollback', 'LTC_SECRET_KEY', '--json']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);

    await collect();
    // master key, weak, typed, known + 2 LTC_SECRET_KEY + 3 DATABASE_PASSWORD + 1 rotated PARTNER_API_TOKEN
    expect(values.size).toBe(10);

    // Scanning finds the stored value in a file and prints it masked.
    await writeFile(join(ops.dir, 'notes.md'), `token: ${known}\n`);
    for (const args of [['secrets', 'scan'], ['secrets', 'scan', '--format', 'json'], ['secrets', 'scan', '--format', 'sarif'], ['secrets', 'scan', '--json']]) {
      expect((await ltc(args)).code, args.join(' ')).toBe(1);
    }
    expect((await ltc(['secrets', 'hook', 'install'])).code).toBe(0);
    expect((await ltc(['audit', 'verify'])).code).toBe(0);
    // A reveal is recorded as what it is (issue 10, "records disagree"), not as a plain read.
    const logged = (await readFile(join(ops.dir, '.ltc', 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; details?: { purpose?: string } });
    expect(logged.filter((e) => e.action === 'secret.reveal').length).toBe(runs.filter((x) => x.revealed && x.r.code === 0).length);
    expect(logged.some((e) => e.action === 'secret.read' && e.details?.purpose === 'reveal')).toBe(false);

    // Where values may not be: all output (but the revealing stdout) and every file under .ltc/ but the store.
    const store = join(ops.dir, '.ltc', 'secrets', 'staging.json');
    const files = (await filesUnder(join(ops.dir, '.ltc'))).filter((f) => f !== store);
    expect(files.some((f) => f.includes(`${join('.ltc', 'runs')}`))).toBe(true);
    expect(files.some((f) => f.endsWith('audit.jsonl'))).toBe(true);
    const haystacks: Array<{ where: string; text: string }> = [];
    for (const { args, r, revealed } of runs) {
      if (!revealed) haystacks.push({ where: `stdout of ltc ${args.join(' ')}`, text: r.stdout });
      haystacks.push({ where: `stderr of ltc ${args.join(' ')}`, text: r.stderr });
    }
    for (const f of files) haystacks.push({ where: relative(ops.dir, f), text: await readFile(f, 'utf8') });
    // No value in any process's argv while the rotation ran (ps taken by the runbook's restart step).
    const ps = await readFile(psFile, 'utf8');
    expect(ps).toContain('secrets rotate LTC_SECRET_KEY');
    haystacks.push({ where: 'ps -eo args during the rotation', text: ps });
    const leaks: string[] = [];
    for (const v of values) {
      for (const form of forms(v)) {
        for (const h of haystacks) if (h.text.includes(form)) leaks.push(`${h.where} contains a form of a secret value`);
      }
    }
    expect(leaks).toEqual([]);
    // The detector works: the revealing outputs (left out above) do hold every stored value.
    const revealedOut = runs.filter((x) => x.revealed).map((x) => x.r.stdout).join('\n');
    for (const v of values) if (v !== weak && v !== typed && v !== ops.env.LTC_MASTER_KEY) expect(revealedOut.includes(v)).toBe(true);
    // The masking was real: the env file outside .ltc/ holds the key, the scan output shows a masked one.
    expect(await readFile(join(ops.dir, 'shared', '.env'), 'utf8')).toMatch(/^LTC_SECRET_KEY=/m);
    expect(runs.find((x) => x.args.join(' ') === 'secrets scan')!.r.stdout).toContain('ltc/stored-secret-value');
  });
});
