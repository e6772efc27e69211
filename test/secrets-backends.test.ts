/**
 * The AWS Secrets Manager and Vault backends, driven through `ltc` (which uses the real
 * @aws-sdk/client-secrets-manager and node-vault) against the protocol-level servers in
 * test/servers/: AWS JSON 1.1 with SigV4 verified, Vault KV v2 with X-Vault-Token.
 */
import { GetSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import vault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, freePort, tempDir } from './helpers/cli.js';
import { makeOps, type Ops } from './helpers/secrets.js';
import { startAwsSecretsManager, type AwsSecretsManagerServer } from './servers/aws-secrets-manager.js';
import { startVault, type VaultServer } from './servers/vault-kv2.js';

afterAll(cleanupTempDirs);

const NO_AWS_FILES = { AWS_CONFIG_FILE: '/nonexistent/ltc-test', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/ltc-test', AWS_EC2_METADATA_DISABLED: 'true', AWS_PROFILE: '' };

interface Meta {
  versions: Array<{ id: string; stages: string[] }>;
}

async function meta(ops: Ops, name: string): Promise<Meta> {
  const r = await ops.ltc(['secrets', 'get', name, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (r.json as { secret: Meta }).secret;
}

function idAt(m: Meta, stage: string): string | undefined {
  return m.versions.find((v) => v.stages.includes(stage))?.id;
}

async function reveal(ops: Ops, name: string, stage = 'current'): Promise<string> {
  const r = await ops.ltc(['secrets', 'get', name, '--stage', stage, '--reveal', '--yes']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('aws backend', () => {
  let server: AwsSecretsManagerServer;
  let denied = new Set<string>();
  let ops: Ops;

  beforeAll(async () => {
    server = await startAwsSecretsManager({ region: 'eu-central-1', deny: (op) => denied.has(op) });
    ops = await makeOps(
      { staging: { secrets: { backend: 'aws', region: server.region, endpoint: server.url, prefix: 'ltc/', required: [{ name: 'LTC_SECRET_KEY', kind: 'secret_key' }] } } },
      { env: { ...NO_AWS_FILES, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey } },
    );
  });

  afterAll(async () => {
    await server.close();
  });

  it('generates, stores, reads, rotates and rolls back with staging labels', async () => {
    expect((await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY'])).code).toBe(0);
    const set = await ops.ltc(['secrets', 'set', 'SMTP_PASSWORD'], { input: 'smtp-password-for-aws-1' });
    expect(set.code, set.stderr).toBe(0);
    const list = await ops.ltc(['secrets', 'list', '--json']);
    expect((list.json as { secrets: Array<{ name: string }> }).secrets.map((s) => s.name)).toEqual(['LTC_SECRET_KEY', 'SMTP_PASSWORD']);

    const first = await reveal(ops, 'LTC_SECRET_KEY');
    expect(Buffer.from(first, 'base64url')).toHaveLength(48);
    const v1 = idAt(await meta(ops, 'LTC_SECRET_KEY'), 'current');

    const rot = await ops.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY', '--json']);
    expect(rot.code, rot.stderr).toBe(0);
    const m = await meta(ops, 'LTC_SECRET_KEY');
    const v2 = idAt(m, 'current');
    expect(v2).not.toBe(v1);
    expect(idAt(m, 'previous')).toBe(v1);
    expect(idAt(m, 'pending')).toBeUndefined();
    // The version id is the ClientRequestToken of the PutSecretValue that made it pending.
    const put = server.requests.find((r) => r.op === 'PutSecretValue' && (r.body as { ClientRequestToken?: string }).ClientRequestToken === v2);
    expect(put?.body).toMatchObject({ SecretId: 'ltc/staging/LTC_SECRET_KEY', VersionStages: ['AWSPENDING'] });
    expect(server.requests.some((r) => r.op === 'UpdateSecretVersionStage' && (r.body as { VersionStage?: string }).VersionStage === 'AWSCURRENT')).toBe(true);

    // What AWS itself now holds, read with the SDK.
    const sm = new SecretsManagerClient({ region: server.region, endpoint: server.url, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
    const cur = await sm.send(new GetSecretValueCommand({ SecretId: 'ltc/staging/LTC_SECRET_KEY', VersionStage: 'AWSCURRENT' }));
    expect(cur.VersionId).toBe(v2);
    expect(cur.SecretString).toBe(await reveal(ops, 'LTC_SECRET_KEY'));
    const prev = await sm.send(new GetSecretValueCommand({ SecretId: 'ltc/staging/LTC_SECRET_KEY', VersionStage: 'AWSPREVIOUS' }));
    expect(prev.SecretString).toBe(first);

    const back = await ops.ltc(['secrets', 'rollback', 'LTC_SECRET_KEY']);
    expect(back.code, back.stderr).toBe(0);
    const after = await sm.send(new GetSecretValueCommand({ SecretId: 'ltc/staging/LTC_SECRET_KEY', VersionStage: 'AWSCURRENT' }));
    expect(after.SecretString).toBe(first);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'ltc/staging/LTC_SECRET_KEY', VersionStage: 'AWSPREVIOUS' }))).VersionId).toBe(v2);
    sm.destroy();

    expect((await ops.ltc(['secrets', 'verify'])).code).toBe(0);
  });

  it('a rotation killed (SIGKILL) after created is finished by the next run with the same ClientRequestToken', async () => {
    const before = idAt(await meta(ops, 'LTC_SECRET_KEY'), 'current');
    const killed = await ops.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY'], { env: { LTC_TEST_KILL_AT: 'rotate:created' } });
    expect(killed.code).not.toBe(0);
    const journalFile = join(ops.dir, '.ltc', 'rotations', 'staging', 'LTC_SECRET_KEY.json');
    const journal = JSON.parse(await readFile(journalFile, 'utf8')) as { token: string; versionId: string; phase: string };
    expect(journal).toMatchObject({ phase: 'created', versionId: journal.token });
    expect(idAt(await meta(ops, 'LTC_SECRET_KEY'), 'pending')).toBe(journal.token);
    const pending = await reveal(ops, 'LTC_SECRET_KEY', 'pending');

    const next = await ops.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY', '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.json).toMatchObject({ resumed: true, token: journal.token, current: journal.token, previous: before });
    expect(await reveal(ops, 'LTC_SECRET_KEY')).toBe(pending);
    // One PutSecretValue for that token: the resumed run did not write a second value.
    expect(server.requests.filter((r) => r.op === 'PutSecretValue' && (r.body as { ClientRequestToken?: string }).ClientRequestToken === journal.token)).toHaveLength(1);
  });

  it('a journal whose pending version is gone (an undo killed before removing it) starts over with a new token', async () => {
    const killed = await ops.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY'], { env: { LTC_TEST_KILL_AT: 'rotate:created' } });
    expect(killed.code).not.toBe(0);
    const journal = JSON.parse(await readFile(join(ops.dir, '.ltc', 'rotations', 'staging', 'LTC_SECRET_KEY.json'), 'utf8')) as { token: string };
    const current = idAt(await meta(ops, 'LTC_SECRET_KEY'), 'current');
    // What the undo did before it was killed: AWSPENDING taken off the version.
    const sm = new SecretsManagerClient({ region: server.region, endpoint: server.url, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'ltc/staging/LTC_SECRET_KEY', VersionStage: 'AWSPENDING', RemoveFromVersionId: journal.token }));
    sm.destroy();
    // AWS refuses a ClientRequestToken for a second value: the spent token must not be reused.
    const next = await ops.ltc(['secrets', 'rotate', 'LTC_SECRET_KEY', '--json']);
    expect(next.code, next.stderr).toBe(0);
    const r = next.json as { token: string; current: string; previous: string };
    expect(r.token).not.toBe(journal.token);
    expect(r).toMatchObject({ current: r.token, previous: current });
    expect(idAt(await meta(ops, 'LTC_SECRET_KEY'), 'pending')).toBeUndefined();
  });

  it('an unknown secret: exit 2', async () => {
    const r = await ops.ltc(['secrets', 'get', 'NOT_THERE']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown secret "NOT_THERE"');
  });

  it('AccessDenied: exit 2 naming the action and the secret', async () => {
    denied = new Set(['GetSecretValue']);
    try {
      const r = await ops.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--reveal', '--yes']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('AWS denied secretsmanager:GetSecretValue on ltc/staging/LTC_SECRET_KEY');
      expect(r.stdout).toBe('');
      const audit = await ops.ltc(['secrets', 'audit', '--secret', 'LTC_SECRET_KEY', '--json']);
      const last = (audit.json as { entries: Array<{ action: string; outcome: string }> }).entries.at(-1);
      // A refused read is recorded as denied (what a SIEM alerts on), not as a mere failure.
      expect(last).toMatchObject({ action: 'secret.reveal', outcome: 'denied', secret: 'LTC_SECRET_KEY' });
    } finally {
      denied = new Set();
    }
  });

  it('a --version-id AWS refuses (ValidationException), or an endpoint that is not Secrets Manager: exit 2, not "retry"', async () => {
    const bad = await ops.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--version-id', 'nope', '--reveal', '--yes']);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toContain('AWS refused secretsmanager:GetSecretValue on ltc/staging/LTC_SECRET_KEY');
    expect(bad.stderr).not.toContain('retry');
    const other = createServer((_req, res) => {
      res.writeHead(404, { 'content-length': '0' });
      res.end();
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const elsewhere = await makeOps(
        { staging: { secrets: { backend: 'aws', region: 'eu-central-1', endpoint: url } } },
        { env: { ...NO_AWS_FILES, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey } },
      );
      const r = await elsewhere.ltc(['secrets', 'get', 'LTC_SECRET_KEY']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${url} did not answer like AWS Secrets Manager (HTTP 404`);
    } finally {
      other.close();
    }
  });

  it('wrong credentials: exit 2', async () => {
    const r = await ops.ltc(['secrets', 'list'], { env: { AWS_SECRET_ACCESS_KEY: 'not-the-right-secret-key-000000000000000' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('AWS rejected the credentials');
  });

  it('an unknown profile: exit 2 naming the profile, the files it was looked for in, and the fix (never the real ~/.aws)', async () => {
    const dir = await tempDir('ltc-aws-profile-');
    const configFile = join(dir, 'aws-config');
    const credentialsFile = join(dir, 'aws-credentials');
    await writeFile(configFile, '[default]\nregion = eu-central-1\n[profile deploy]\nregion = eu-central-1\n[sso-session corp]\nsso_region = eu-central-1\n');
    await writeFile(credentialsFile, `[deploy]\naws_access_key_id = ${server.accessKeyId}\naws_secret_access_key = ${server.secretAccessKey}\n`);
    const files = { AWS_CONFIG_FILE: configFile, AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_EC2_METADATA_DISABLED: 'true', AWS_PROFILE: '', HOME: dir };
    const withProfile = (profile: string) =>
      makeOps({ staging: { secrets: { backend: 'aws', profile, region: server.region, endpoint: server.url, prefix: 'ltc/' } } }, { env: files });

    const requestsBefore = server.requests.length;
    const nope = await withProfile('nope');
    const r = await nope.ltc(['secrets', 'list']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`AWS profile "nope" (environments.staging.secrets.profile in ${join(nope.dir, 'ltc.config.yaml')}) is not defined in ${configFile} (AWS_CONFIG_FILE) or ${credentialsFile} (AWS_SHARED_CREDENTIALS_FILE)`);
    expect(r.stderr).toContain('hint: create it with `aws configure --profile nope`, or fix `profile:` (environments.staging.secrets.profile) in');
    // the profiles those files do define; an sso-session is no profile
    expect(r.stderr).toContain('(profiles there: default, deploy)');
    expect(r.stderr).not.toContain('no AWS credentials found');
    expect(r.stderr).not.toContain(server.secretAccessKey);
    const json = await nope.ltc(['secrets', 'list', '--json']);
    expect(json.code).toBe(2);
    expect(json.json).toMatchObject({ ok: false, error: { code: 'config', message: expect.stringContaining('AWS profile "nope"') } });

    // a near miss is named
    const typo = await (await withProfile('deplyo')).ltc(['secrets', 'list']);
    expect(typo.code, typo.stderr).toBe(2);
    expect(typo.stderr).toContain('did you mean "deploy"?');
    expect(server.requests.length).toBe(requestsBefore);

    // and the profile that is there works: its keys sign the requests
    const ok = await (await withProfile('deploy')).ltc(['secrets', 'list']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(server.requests.length).toBeGreaterThan(requestsBefore);
  });

  it('an unreachable endpoint (closed port): exit 1', async () => {
    const port = await freePort();
    const closed = await makeOps(
      { staging: { secrets: { backend: 'aws', region: 'eu-central-1', endpoint: `http://127.0.0.1:${port}` } } },
      { env: { ...NO_AWS_FILES, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example' } },
    );
    const r = await closed.ltc(['secrets', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach AWS Secrets Manager at http://127.0.0.1:${port}`);
  });
});

describe('vault backend', () => {
  let server: VaultServer;
  let ops: Ops;

  beforeAll(async () => {
    server = await startVault();
    ops = await makeOps(
      { staging: { secrets: { backend: 'vault', mount: 'secret', path_prefix: 'ltc', required: [{ name: 'DATABASE_PASSWORD', kind: 'password' }] } } },
      { env: { VAULT_ADDR: server.url, VAULT_TOKEN: server.token } },
    );
  });

  afterAll(async () => {
    await server.close();
  });

  it('stores KV v2 versions with cas and keeps the stages in custom_metadata', async () => {
    expect((await ops.ltc(['secrets', 'generate', 'DATABASE_PASSWORD'])).code).toBe(0);
    const first = await reveal(ops, 'DATABASE_PASSWORD');
    expect(first).toHaveLength(32);
    const set = await ops.ltc(['secrets', 'set', 'DATABASE_PASSWORD'], { input: 'a-new-password-for-vault-17' });
    expect(set.code, set.stderr).toBe(0);
    let m = await meta(ops, 'DATABASE_PASSWORD');
    expect([idAt(m, 'current'), idAt(m, 'previous')]).toEqual(['2', '1']);

    const rot = await ops.ltc(['secrets', 'rotate', 'DATABASE_PASSWORD']);
    expect(rot.code, rot.stderr).toBe(0);
    m = await meta(ops, 'DATABASE_PASSWORD');
    expect([idAt(m, 'current'), idAt(m, 'previous'), idAt(m, 'pending')]).toEqual(['3', '2', undefined]);

    const client = vault({ apiVersion: 'v1', endpoint: server.url, token: server.token });
    const md = (await client.read('secret/metadata/ltc/staging/DATABASE_PASSWORD')) as { data: { current_version: number; custom_metadata: Record<string, string> } };
    expect(md.data.custom_metadata).toEqual({ ltc_current: '3', ltc_previous: '2' });
    const v3 = (await client.read('secret/data/ltc/staging/DATABASE_PASSWORD?version=3')) as { data: { data: { value: string } } };
    expect(v3.data.data.value).toBe(await reveal(ops, 'DATABASE_PASSWORD'));
    expect(server.requests.some((r) => r.method === 'POST' && r.path === '/v1/secret/data/ltc/staging/DATABASE_PASSWORD')).toBe(true);

    const back = await ops.ltc(['secrets', 'rollback', 'DATABASE_PASSWORD']);
    expect(back.code, back.stderr).toBe(0);
    expect(await reveal(ops, 'DATABASE_PASSWORD')).toBe('a-new-password-for-vault-17');
    const list = await ops.ltc(['secrets', 'list', '--json']);
    expect((list.json as { secrets: Array<{ name: string }> }).secrets.map((s) => s.name)).toEqual(['DATABASE_PASSWORD']);
    expect((await ops.ltc(['secrets', 'verify'])).code).toBe(0);
  });

  it('an unknown secret: exit 2', async () => {
    const r = await ops.ltc(['secrets', 'get', 'DATABASE_PASWORD']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('did you mean "DATABASE_PASSWORD"?');
  });

  it('a wrong token: exit 2 with a hint to log in again', async () => {
    const r = await ops.ltc(['secrets', 'list'], { env: { VAULT_TOKEN: 'hvs.wrong-token' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Vault rejected the token');
    expect(r.stderr).toContain('vault login');
    const none = await ops.ltc(['secrets', 'list'], { env: { VAULT_TOKEN: '' } });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('VAULT_TOKEN');
  });

  it('a rotation killed (SIGKILL) after set is finished by the next run with the same pending version', async () => {
    const killed = await ops.ltc(['secrets', 'rotate', 'DATABASE_PASSWORD'], { env: { LTC_TEST_KILL_AT: 'rotate:set' } });
    expect(killed.code).not.toBe(0);
    const m = await meta(ops, 'DATABASE_PASSWORD');
    const pendingId = idAt(m, 'pending');
    const currentId = idAt(m, 'current');
    expect(pendingId).toBeDefined();
    const pending = await reveal(ops, 'DATABASE_PASSWORD', 'pending');
    const next = await ops.ltc(['secrets', 'rotate', 'DATABASE_PASSWORD', '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.json).toMatchObject({ resumed: true, current: pendingId, previous: currentId });
    expect(await reveal(ops, 'DATABASE_PASSWORD')).toBe(pending);
    const client = vault({ apiVersion: 'v1', endpoint: server.url, token: server.token });
    const md = (await client.read('secret/metadata/ltc/staging/DATABASE_PASSWORD')) as { data: { custom_metadata: Record<string, string> } };
    expect(md.data.custom_metadata).toEqual({ ltc_current: pendingId, ltc_previous: currentId });
  });

  it('a mount with no KV engine, or another server at the address: exit 2 naming the mount, not "unknown secret" or an empty list', async () => {
    const wrongMount = await makeOps(
      { staging: { secrets: { backend: 'vault', mount: 'kv', path_prefix: 'ltc', required: [{ name: 'DATABASE_PASSWORD', kind: 'password' }] } } },
      { env: { VAULT_ADDR: server.url, VAULT_TOKEN: server.token } },
    );
    for (const args of [['secrets', 'list'], ['secrets', 'get', 'DATABASE_PASSWORD'], ['secrets', 'verify']]) {
      const r = await wrongMount.ltc(args);
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('has no KV version 2 engine at kv/');
      expect(r.stdout).not.toContain('MISSING');
    }
    // Something that is not Vault answers 404 with an empty body to everything.
    const other = createServer((_req, res) => {
      res.writeHead(404, { 'content-length': '0' });
      res.end();
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const r = await ops.ltc(['secrets', 'get', 'DATABASE_PASSWORD'], { env: { VAULT_ADDR: `http://127.0.0.1:${(other.address() as AddressInfo).port}` } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('has no KV version 2 engine at secret/');
      expect(r.stderr).not.toContain('unknown secret');
    } finally {
      other.close();
    }
  });

  it('a VAULT_ADDR that is no URL: exit 2 naming it', async () => {
    const r = await ops.ltc(['secrets', 'list'], { env: { VAULT_ADDR: 'vault.example.com:8200' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('VAULT_ADDR is "vault.example.com:8200", not an http(s) URL of Vault');
  });

  it('an unreachable Vault (closed port): exit 1', async () => {
    const port = await freePort();
    const r = await ops.ltc(['secrets', 'list'], { env: { VAULT_ADDR: `http://127.0.0.1:${port}` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach Vault at http://127.0.0.1:${port}`);
  });

  it('an expired token: exit 2 (last: it ends the token)', async () => {
    server.expireToken();
    const r = await ops.ltc(['secrets', 'get', 'DATABASE_PASSWORD', '--reveal', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Vault rejected the token');
    expect(r.stderr).toContain('expired');
    expect(r.stdout).toBe('');
    const audit = await ops.ltc(['secrets', 'audit', '--secret', 'DATABASE_PASSWORD', '--json']);
    expect((audit.json as { entries: Array<{ action: string; outcome: string }> }).entries.at(-1)).toMatchObject({ action: 'secret.reveal', outcome: 'denied' });
  });
});
