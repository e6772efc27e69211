/** The file backend and the secrets commands on it: round trips, stages, bad input and policy. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Masker } from '../src/core/masker.js';
import { FileBackend } from '../src/secrets/backends/file.js';
import { generatePassword, generateSecret } from '../src/secrets/generate.js';
import { cleanupTempDirs, tempDir } from './helpers/cli.js';
import { fileEnv, makeOps } from './helpers/secrets.js';

afterAll(cleanupTempDirs);

async function openStore(env: Record<string, string>, dir: string, config: Record<string, unknown> = {}): Promise<{ backend: FileBackend; masker: Masker }> {
  const masker = new Masker();
  const backend = FileBackend.open({
    environment: 'staging',
    config: { backend: 'file', required: [], ...config },
    resolvePath: (p) => (p.startsWith('/') ? p : join(dir, p)),
    stateDir: join(dir, '.ltc'),
    env,
    masker,
  });
  return { backend, masker };
}

describe('file backend', () => {
  it('round-trips values through the encrypted store and moves stages like AWS', async () => {
    const dir = await tempDir();
    const env = { LTC_MASTER_KEY: randomBytes(32).toString('hex') };
    const { backend, masker } = await openStore(env, dir);
    expect(await backend.list()).toEqual([]);
    expect((await backend.put('API_TOKEN', 'first-value-1234')).versionId).toBe('1');
    expect((await backend.put('API_TOKEN', 'second-value-5678')).versionId).toBe('2');
    expect(masker.mask('x first-value-1234 second-value-5678')).toBe('x *** ***');

    let d = await backend.describe('API_TOKEN');
    expect(d.versions.map((v) => [v.id, v.stages])).toEqual([['1', ['previous']], ['2', ['current']]]);
    expect((await backend.getValue('API_TOKEN')).value).toBe('second-value-5678');
    expect((await backend.getValue('API_TOKEN', { stage: 'previous' })).value).toBe('first-value-1234');

    // pending: idempotent by request token; a new token replaces it.
    const p1 = await backend.createPending('API_TOKEN', 'third-value-9999', 'token-a');
    expect(p1).toEqual({ versionId: '3', created: true });
    expect(await backend.createPending('API_TOKEN', 'ignored-value-000', 'token-a')).toEqual({ versionId: '3', created: false });
    expect((await backend.getValue('API_TOKEN', { stage: 'pending' })).value).toBe('third-value-9999');
    expect(await backend.discardPending('API_TOKEN')).toEqual({ discarded: '3' });
    d = await backend.describe('API_TOKEN');
    expect(d.versions.map((v) => v.id)).toEqual(['1', '2']);

    const p2 = await backend.createPending('API_TOKEN', 'fourth-value-4444', 'token-b');
    await backend.promote('API_TOKEN', p2.versionId);
    d = await backend.describe('API_TOKEN');
    expect(d.versions.map((v) => [v.id, v.stages])).toEqual([['2', ['previous']], ['4', ['current']]]);

    expect(await backend.rollback('API_TOKEN')).toEqual({ current: '2', previous: '4' });
    expect((await backend.getValue('API_TOKEN')).value).toBe('second-value-5678');

    // No value readable in the file (names, versions and stages are, by design).
    const raw = await readFile(join(dir, '.ltc', 'secrets', 'staging.json'), 'utf8');
    for (const v of ['first-value-1234', 'second-value-5678', 'fourth-value-4444']) expect(raw).not.toContain(v);
    expect(JSON.parse(raw)).toMatchObject({ meta: { secrets: { API_TOKEN: { versions: [{ id: '2', stages: ['current'] }, { id: '4', stages: ['previous'] }] } } } });
    const { stat } = await import('node:fs/promises');
    expect((await stat(join(dir, '.ltc', 'secrets', 'staging.json'))).mode & 0o777).toBe(0o600);

    // A second instance (another process) reads the same data.
    const again = await openStore(env, dir);
    expect((await again.backend.getValue('API_TOKEN', { versionId: '4' })).value).toBe('fourth-value-4444');
  });

  it('accepts a passphrase (scrypt) and refuses the raw key for that store', async () => {
    const dir = await tempDir();
    const { backend } = await openStore({ LTC_MASTER_KEY: 'correct horse battery staple' }, dir);
    await backend.put('LTC_SECRET_KEY', randomBytes(48).toString('base64url'));
    const raw = JSON.parse(await readFile(join(dir, '.ltc', 'secrets', 'staging.json'), 'utf8')) as { kdf: { name: string } };
    expect(raw.kdf.name).toBe('scrypt');
    const wrong = await openStore({ LTC_MASTER_KEY: randomBytes(32).toString('base64') }, dir);
    expect((await wrong.backend.list()).map((d) => d.name)).toEqual(['LTC_SECRET_KEY']); // metadata needs no key
    await expect(wrong.backend.getValue('LTC_SECRET_KEY')).rejects.toThrow(/wrong master key.*passphrase/);
  });
});

describe('secrets commands on the file backend', () => {
  it('set reads stdin (never argv), get shows metadata, --reveal needs a TTY or --yes', async () => {
    const ops = await makeOps({ staging: fileEnv() });
    const value = 'smtp-' + randomBytes(12).toString('hex');
    const set = await ops.ltc(['secrets', 'set', 'SMTP_PASSWORD'], { input: value + '\n' });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout + set.stderr).not.toContain(value);
    // The first version: nothing became previous.
    expect(set.stdout.trim()).toBe('stored SMTP_PASSWORD version 1 as current (staging)');

    const meta = await ops.ltc(['secrets', 'get', 'SMTP_PASSWORD', '--json']);
    expect(meta.code).toBe(0);
    expect(meta.json).toMatchObject({ ok: true, secret: { name: 'SMTP_PASSWORD', versions: [{ id: '1', stages: ['current'] }] } });
    expect(meta.stdout).not.toContain(value);

    const noTty = await ops.ltc(['secrets', 'get', 'SMTP_PASSWORD', '--reveal']);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('--yes');
    expect(noTty.stdout).toBe('');

    const json = await ops.ltc(['secrets', 'get', 'SMTP_PASSWORD', '--reveal', '--yes', '--json']);
    expect(json.code).toBe(2);
    expect(json.stdout).not.toContain(value);

    const shown = await ops.ltc(['secrets', 'get', 'SMTP_PASSWORD', '--reveal', '--yes']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toBe(value);

    // A value typed on the command line is refused without being echoed back (also not in --json).
    for (const json of [[], ['--json']]) {
      const argv = await ops.ltc(['secrets', 'set', 'SMTP_PASSWORD', 'hunter2-from-argv', ...json]);
      expect(argv.code).toBe(2);
      expect(argv.stdout + argv.stderr).not.toContain('hunter2-from-argv');
      expect(argv.stdout + argv.stderr).toContain('takes no value on the command line');
      expect(argv.stdout + argv.stderr).toContain('treat it as exposed');
    }
    // A value typed where the name belongs is not echoed either (it is no secret name).
    for (const json of [[], ['--json']]) {
      const asName = await ops.ltc(['secrets', 'set', 'Hunter2-typed-as-name!', ...json]);
      expect(asName.code).toBe(2);
      expect(asName.stdout + asName.stderr).not.toContain('Hunter2-typed-as-name');
      expect(asName.stdout + asName.stderr).toContain('not a secret name');
      expect(asName.stdout + asName.stderr).toContain('treat it as exposed');
    }
    expect((await ops.ltc(['secrets', 'get', 'SMTP_PASSWORD', '--reveal', '--yes'])).stdout).toBe(value);
    const empty = await ops.ltc(['secrets', 'set', 'SMTP_PASSWORD']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('stdin');

    const audit = await ops.ltc(['secrets', 'audit', '--json']);
    const entries = (audit.json as { entries: Array<{ action: string; outcome: string; secret: string }> }).entries;
    expect(entries.map((e) => `${e.action}:${e.outcome}`)).toEqual(['secret.write:ok', 'secret.reveal:ok', 'secret.reveal:ok']);
    expect(JSON.stringify(entries)).not.toContain(value);
  });

  it('wrong master key: exit 2 naming the store file, nothing changed', async () => {
    const ops = await makeOps({ staging: fileEnv() });
    expect((await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY'])).code).toBe(0);
    const store = join(ops.dir, '.ltc', 'secrets', 'staging.json');
    const before = await readFile(store, 'utf8');
    // Metadata (list, get without --reveal) needs no key; every value read or write does.
    expect((await ops.ltc(['secrets', 'list'], { env: { LTC_MASTER_KEY: randomBytes(32).toString('base64') } })).code).toBe(0);
    for (const args of [['secrets', 'get', 'LTC_SECRET_KEY', '--reveal', '--yes'], ['secrets', 'generate', 'OTHER_TOKEN'], ['secrets', 'rotate', 'LTC_SECRET_KEY']]) {
      const r = await ops.ltc(args, { env: { LTC_MASTER_KEY: randomBytes(32).toString('base64') } });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(store);
      expect(r.stderr).toContain('wrong master key');
      expect(r.stdout).toBe('');
    }
    expect(await readFile(store, 'utf8')).toBe(before);
    // The rotation that could not read the store left nothing to resume: no journal, no started rotation.
    expect(existsSync(join(ops.dir, '.ltc', 'rotations', 'staging', 'LTC_SECRET_KEY.json'))).toBe(false);
    const actions = (await readFile(join(ops.dir, '.ltc', 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action);
    expect(actions).not.toContain('secret.rotate');
    const rot = await ops.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY', '--json']);
    expect(rot.code, rot.stderr).toBe(0);
    expect(rot.json).toMatchObject({ resumed: false, current: '2', previous: '1' });
    const none = await ops.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--reveal', '--yes'], { env: { LTC_MASTER_KEY: '' } });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('LTC_MASTER_KEY');
  });

  it('a corrupted store: exit 2 naming the file', async () => {
    const ops = await makeOps({ staging: fileEnv() });
    expect((await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY'])).code).toBe(0);
    const store = join(ops.dir, '.ltc', 'secrets', 'staging.json');
    const doc = JSON.parse(await readFile(store, 'utf8')) as { data: string };
    const flipped = (doc.data[10] === 'A' ? 'B' : 'A');
    await writeFile(store, JSON.stringify({ ...doc, data: doc.data.slice(0, 10) + flipped + doc.data.slice(11) }));
    let r = await ops.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--reveal', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`secrets store ${store} is corrupted: authentication failed`);
    expect(r.stdout).toBe('');
    // The readable metadata is authenticated too: moving a stage by hand is found.
    const meta = doc as unknown as { meta: { secrets: Record<string, { versions: Array<{ stages: string[] }> }> } };
    meta.meta.secrets.LTC_SECRET_KEY!.versions[0]!.stages = ['previous'];
    await writeFile(store, JSON.stringify(meta));
    r = await ops.ltc(['secrets', 'generate', 'API_TOKEN']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is corrupted: authentication failed');
    await writeFile(store, '{"format": "ltc-secrets/1", "da');
    r = await ops.ltc(['secrets', 'list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${store} is corrupted: it is not valid JSON`);
  });

  it('an unknown secret: exit 2 with a did-you-mean', async () => {
    const ops = await makeOps({ staging: fileEnv() });
    expect((await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY'])).code).toBe(0);
    const r = await ops.ltc(['secrets', 'get', 'LTC_SECRET_KY']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown secret "LTC_SECRET_KY"');
    expect(r.stderr).toContain('did you mean "LTC_SECRET_KEY"?');
    const rot = await ops.ltc(['secrets', 'rotate', 'NOPE']);
    expect(rot.code).toBe(2);
    const bad = await ops.ltc(['secrets', 'get', 'lower-case']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid secret name');
  });

  it('key_file must be mode 0600', async () => {
    const dir = await tempDir();
    const keyFile = join(dir, 'master.key');
    await writeFile(keyFile, randomBytes(32).toString('base64'), { mode: 0o644 });
    await chmod(keyFile, 0o644);
    const ops = await makeOps({ staging: fileEnv([], { key_file: keyFile }) }, { env: { LTC_MASTER_KEY: '' } });
    const loose = await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY']);
    expect(loose.code).toBe(2);
    expect(loose.stderr).toContain('mode 0644');
    expect(loose.stderr).toContain(`chmod 600 ${keyFile}`);
    await chmod(keyFile, 0o600);
    const ok = await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('generate: 48 random bytes base64url by default, refuses fewer than 32, passwords by policy', async () => {
    const ops = await makeOps({ staging: fileEnv([{ name: 'LTC_SECRET_KEY', kind: 'secret_key', min_bytes: 32 }, { name: 'DATABASE_PASSWORD', kind: 'password', length: 24 }]) });
    const few = await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY', '--bytes', '31']);
    expect(few.code).toBe(2);
    expect(few.stderr).toContain('at least 32');
    expect((await ops.ltc(['secrets', 'list', '--json'])).json).toMatchObject({ secrets: [], missing: ['LTC_SECRET_KEY', 'DATABASE_PASSWORD'] });

    expect((await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY'])).code).toBe(0);
    const key = (await ops.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--reveal', '--yes'])).stdout;
    expect(key).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(Buffer.from(key, 'base64url')).toHaveLength(48);

    const short = await ops.ltc(['secrets', 'generate', 'DATABASE_PASSWORD', '--length', '20']);
    expect(short.code).toBe(2);
    expect((await ops.ltc(['secrets', 'generate', 'DATABASE_PASSWORD'])).code).toBe(0);
    const pw = (await ops.ltc(['secrets', 'get', 'DATABASE_PASSWORD', '--reveal', '--yes'])).stdout;
    expect(pw).toHaveLength(32);

    // An existing secret is replaced only with a confirmation.
    const again = await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--yes');
    expect((await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY', '--yes'])).code).toBe(0);
    expect((await ops.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--reveal', '--yes'])).stdout).not.toBe(key);
  });

  it('passwords: every class present, none of / @ " \' \\, uniform enough', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const p = generatePassword(32);
      expect(p).toHaveLength(32);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[a-z]/);
      expect(p).toMatch(/[0-9]/);
      expect(p).toMatch(/[!*+,\-.=^_~]/);
      expect(p).not.toMatch(/[/@"'\\\s]/);
      for (const c of p) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.size).toBe(26 + 26 + 10 + 10);
    expect(() => generateSecret('LTC_SECRET_KEY', undefined, { bytes: 16 })).toThrow(/at least 32/);
  });

  it('set refuses a value too short to be masked (1-3 characters), whatever its kind', async () => {
    const ops = await makeOps({ staging: fileEnv([{ name: 'SITE_PIN', kind: 'string' }]) });
    for (const short of ['7', 'x9', 'a+b']) {
      const r = await ops.ltc(['secrets', 'set', 'SITE_PIN'], { input: short });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('cannot be masked');
    }
    expect(existsSync(join(ops.dir, '.ltc', 'secrets', 'staging.json'))).toBe(false);
    expect((await ops.ltc(['secrets', 'set', 'SITE_PIN'], { input: 'a+b4' })).code).toBe(0);
  });

  it('verify: exit 1 for a missing or weak secret, 0 when all meet policy', async () => {
    const ops = await makeOps({ staging: fileEnv([{ name: 'LTC_SECRET_KEY', kind: 'secret_key' }, { name: 'DATABASE_PASSWORD', kind: 'password', length: 20 }]) });
    expect((await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY'])).code).toBe(0);
    let r = await ops.ltc(['secrets', 'verify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL  DATABASE_PASSWORD: missing');
    // A weak value set from outside (a policy check on `set` refuses it, so write it through the backend).
    const { backend } = await openStore(ops.env, ops.dir);
    await backend.put('DATABASE_PASSWORD', 'short/pw@1');
    r = await ops.ltc(['secrets', 'verify', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.stringify(r.json)).toContain('at least 20 are required');
    expect(r.stdout).not.toContain('short/pw@1');
    expect((await ops.ltc(['secrets', 'generate', 'DATABASE_PASSWORD', '--yes'])).code).toBe(0);
    r = await ops.ltc(['secrets', 'verify']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('2/2 required secrets ok');
  });

  it('rollback without a previous version: exit 2; secrets audit --since filters', async () => {
    const ops = await makeOps({ staging: fileEnv() });
    expect((await ops.ltc(['secrets', 'generate', 'API_TOKEN'])).code).toBe(0);
    const r = await ops.ltc(['secrets', 'rollback', 'API_TOKEN']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no previous version');

    // A rotation killed after its finish step (journal left) is cleared by the next rotate, not rolled over.
    expect((await ops.ltc(['secrets', 'rotate', 'API_TOKEN'], { env: { LTC_TEST_KILL_AT: 'rotate:tested' } })).code).not.toBe(0);
    const journal = join(ops.dir, '.ltc', 'rotations', 'staging', 'API_TOKEN.json');
    expect(existsSync(journal)).toBe(true);
    const refused = await ops.ltc(['secrets', 'rollback', 'API_TOKEN']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('unfinished rotation (pending version 2)');
    expect(refused.stderr).toContain('ltc secrets rotate API_TOKEN');
    const { backend } = await openStore(ops.env, ops.dir);
    await backend.promote('API_TOKEN', '2'); // as if killed between the finish step and the journal's removal
    const stillRefused = await ops.ltc(['secrets', 'rollback', 'API_TOKEN']);
    expect(stillRefused.code).toBe(2);
    expect(stillRefused.stderr).toContain('unfinished rotation (journal phase tested)');
    const finish = await ops.ltc(['secrets', 'rotate', 'API_TOKEN', '--json']);
    expect(finish.json).toMatchObject({ ok: true, resumed: true, current: '2', previous: '1' });
    expect(existsSync(journal)).toBe(false);
    const back = await ops.ltc(['secrets', 'rollback', 'API_TOKEN', '--json']);
    expect(back.json).toMatchObject({ ok: true, current: '1', previous: '2' });

    const recent = await ops.ltc(['secrets', 'audit', '--since', '1h', '--json']);
    expect((recent.json as { entries: unknown[] }).entries.length).toBeGreaterThan(0);
    const none = await ops.ltc(['secrets', 'audit', '--since', '2999-01-01', '--json']);
    expect((none.json as { entries: unknown[] }).entries).toHaveLength(0);
  });
});
