/**
 * The Vault and AWS backends against what the real services do: KV v2 destroys versions beyond
 * max_versions (a string of failed rotations must not push the current value out), a secret
 * scheduled for deletion is refused by Secrets Manager, and an endpoint that answers something
 * other than AWS JSON is a config error.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import vault from 'node-vault';
import { DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from './helpers/cli.js';
import { makeOps, type Ops } from './helpers/secrets.js';
import { startAwsSecretsManager, type AwsSecretsManagerServer } from './servers/aws-secrets-manager.js';
import { startVault, type VaultServer } from './servers/vault-kv2.js';

afterAll(cleanupTempDirs);

const NO_AWS_FILES = { AWS_CONFIG_FILE: '/nonexistent/ltc-test', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/ltc-test', AWS_EC2_METADATA_DISABLED: 'true', AWS_PROFILE: '' };

const failingRunbook = (marker: string) => `name: always fails its test
inputs:
  secret: { required: true }
  environment: { required: true }
  phase: { required: true }
steps:
  - id: test
    name: the app does not take the new value
    when: inputs.phase == "test"
    run: { command: [bash, -c, 'if test -e "$0"; then echo "the new value is refused" >&2; exit 1; fi', '${marker}'] }
  - id: other
    name: nothing to do in the other phases
    when: inputs.phase != "test"
    run: { command: ["true"] }
`;

async function reveal(ops: Ops, name: string): Promise<string> {
  const r = await ops.ltc(['secrets', 'get', name, '--reveal', '--yes']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe('vault: failed rotations and max_versions', () => {
  let server: VaultServer;
  let ops: Ops;
  beforeAll(async () => {
    server = await startVault();
    ops = await makeOps(
      {
        staging: {
          secrets: {
            backend: 'vault',
            mount: 'secret',
            path_prefix: 'ltc',
            required: [
              { name: 'DATABASE_PASSWORD', kind: 'password', rotate: { runbook: 'always-fails' } },
              { name: 'API_TOKEN', kind: 'token', rotate: { runbook: 'always-fails' } },
            ],
          },
        },
      },
      { env: { VAULT_ADDR: server.url, VAULT_TOKEN: server.token } },
    );
    await mkdir(join(ops.dir, 'runbooks'));
    await writeFile(join(ops.dir, 'runbooks', 'always-fails.yaml'), failingRunbook(join(ops.dir, 'fail-the-test')));
    await writeFile(join(ops.dir, 'fail-the-test'), '');
  });
  afterAll(async () => {
    await server.close();
  });

  it('12 failed rotations (more than the default max_versions 10) keep the current and previous values readable', async () => {
    expect((await ops.ltc(['secrets', 'set', 'DATABASE_PASSWORD'], { input: 'first-password-of-vault-17' })).code).toBe(0);
    expect((await ops.ltc(['secrets', 'set', 'DATABASE_PASSWORD'], { input: 'second-password-of-vault-17' })).code).toBe(0);
    let last = '';
    for (let i = 0; i < 12; i++) {
      const r = await ops.ltc(['secrets', 'rotate', 'DATABASE_PASSWORD']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('failed at test');
      last = r.stderr;
    }
    expect(await reveal(ops, 'DATABASE_PASSWORD')).toBe('second-password-of-vault-17');
    const client = vault({ apiVersion: 'v1', endpoint: server.url, token: server.token });
    const md = (await client.read('secret/metadata/ltc/staging/DATABASE_PASSWORD')) as {
      data: { current_version: number; oldest_version: number; custom_metadata: Record<string, string>; versions: Record<string, { destroyed: boolean }> };
    };
    // Without care, version 2 (current) would have been destroyed by the 10th pending version.
    expect(md.data.current_version).toBeGreaterThan(10);
    const cur = Number(md.data.custom_metadata.ltc_current);
    const prev = Number(md.data.custom_metadata.ltc_previous);
    expect(cur).toBeGreaterThanOrEqual(md.data.oldest_version);
    expect(prev).toBeGreaterThanOrEqual(md.data.oldest_version);
    expect(md.data.custom_metadata.ltc_pending).toBeUndefined();
    // The message names the version that is current now (moved forward, same value).
    expect(last).toContain(`version ${cur} is still current`);
    const value = (await client.read(`secret/data/ltc/staging/DATABASE_PASSWORD?version=${cur}`)) as { data: { data: { value: string } } };
    expect(value.data.data.value).toBe('second-password-of-vault-17');
    // previous is still there for `ltc secrets rollback`.
    await rm(join(ops.dir, 'fail-the-test'));
    const back = await ops.ltc(['secrets', 'rollback', 'DATABASE_PASSWORD']);
    expect(back.code, back.stderr).toBe(0);
    expect(await reveal(ops, 'DATABASE_PASSWORD')).toBe('first-password-of-vault-17');
  });

  it('honours a mount max_versions of 3: 4 more failed rotations keep current readable', async () => {
    const client = vault({ apiVersion: 'v1', endpoint: server.url, token: server.token });
    // The mount's max_versions (the key has none of its own) is read from <mount>/config.
    await client.write('secret/config', { max_versions: 3 });
    await writeFile(join(ops.dir, 'fail-the-test'), '');
    try {
      expect((await ops.ltc(['secrets', 'set', 'API_TOKEN'], { input: 'api-token-one-xxxxxxxxxxxxxxxx' })).code).toBe(0);
      expect((await ops.ltc(['secrets', 'set', 'API_TOKEN'], { input: 'api-token-two-xxxxxxxxxxxxxxxx' })).code).toBe(0);
      for (let i = 0; i < 4; i++) {
        const r = await ops.ltc(['secrets', 'rotate', 'API_TOKEN']);
        expect(r.code, r.stderr).toBe(1);
      }
      const md = (await client.read('secret/metadata/ltc/staging/API_TOKEN')) as { data: { oldest_version: number; custom_metadata: Record<string, string> } };
      expect(Number(md.data.custom_metadata.ltc_current)).toBeGreaterThanOrEqual(md.data.oldest_version);
      expect(Number(md.data.custom_metadata.ltc_previous)).toBeGreaterThanOrEqual(md.data.oldest_version);
      expect(await reveal(ops, 'API_TOKEN')).toBe('api-token-two-xxxxxxxxxxxxxxxx');
    } finally {
      await client.write('secret/config', { max_versions: 0 });
    }
  });
});

describe('aws: scheduled for deletion, and endpoints that are not Secrets Manager', () => {
  let server: AwsSecretsManagerServer;
  let ops: Ops;
  const others: Server[] = [];
  beforeAll(async () => {
    server = await startAwsSecretsManager({ region: 'eu-central-1' });
    ops = await makeOps(
      { staging: { secrets: { backend: 'aws', region: server.region, endpoint: server.url, prefix: 'ltc/', required: [{ name: 'LTC_SECRET_KEY', kind: 'secret_key' }] } } },
      { env: { ...NO_AWS_FILES, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey } },
    );
  });
  afterAll(async () => {
    for (const o of others) o.close();
    await server.close();
  });

  it('a secret scheduled for deletion: list says so, generate and get exit 2 naming restore-secret', async () => {
    expect((await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY'])).code).toBe(0);
    const sm = new SecretsManagerClient({ region: server.region, endpoint: server.url, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
    await sm.send(new DeleteSecretCommand({ SecretId: 'ltc/staging/LTC_SECRET_KEY', RecoveryWindowInDays: 7 }));
    sm.destroy();

    const list = await ops.ltc(['secrets', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('SCHEDULED FOR DELETION');
    expect(list.stdout).not.toContain('MISSING');
    expect(list.stdout).toContain('aws secretsmanager restore-secret');
    const json = await ops.ltc(['secrets', 'list', '--json']);
    expect(json.json).toMatchObject({ scheduledForDeletion: ['LTC_SECRET_KEY'], missing: [] });

    const gen = await ops.ltc(['secrets', 'generate', 'LTC_SECRET_KEY']);
    expect(gen.code, gen.stderr).toBe(2);
    expect(gen.stderr).toContain('ltc/staging/LTC_SECRET_KEY is scheduled for deletion (DeleteSecret on 20');
    expect(gen.stderr).toContain('aws secretsmanager restore-secret --secret-id ltc/staging/LTC_SECRET_KEY');
    expect(gen.stderr).toContain('RestoreSecret');
    expect(gen.stderr).not.toContain('retry');
    const get = await ops.ltc(['secrets', 'get', 'LTC_SECRET_KEY', '--reveal', '--yes']);
    expect(get.code, get.stderr).toBe(2);
    expect(get.stderr).toContain('scheduled for deletion');
  });

  for (const status of [200, 501]) {
    it(`an endpoint answering non-JSON with HTTP ${status}: exit 2 "does not answer like Secrets Manager"`, async () => {
      const other = createServer((_req, res) => {
        res.writeHead(status, { 'content-type': 'text/html' });
        res.end('<html><body>It works!</body></html>');
      });
      others.push(other);
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const elsewhere = await makeOps(
        { staging: { secrets: { backend: 'aws', region: 'eu-central-1', endpoint: url } } },
        { env: { ...NO_AWS_FILES, AWS_ACCESS_KEY_ID: server.accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey } },
      );
      for (const args of [['secrets', 'list'], ['secrets', 'get', 'LTC_SECRET_KEY']]) {
        const r = await elsewhere.ltc(args);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`${url} does not answer like AWS Secrets Manager`);
        expect(r.stderr).not.toContain('Deserialization error');
      }
    });
  }
});
