import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { startAwsSecretsManager, type AwsSecretsManagerServer } from './aws-secrets-manager.js';

function clientFor(server: AwsSecretsManagerServer, secretAccessKey = server.secretAccessKey, accessKeyId = server.accessKeyId) {
  return new SecretsManagerClient({
    region: server.region,
    endpoint: server.url,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

/** Runs `action` and returns the error it rejects with (fails the test if it resolves). */
async function failureOf(action: () => Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const status = '$metadata' in error && typeof error.$metadata === 'object' && error.$metadata !== null
      ? (error.$metadata as { httpStatusCode?: unknown }).httpStatusCode
      : undefined;
    return { name: error.name, message: error.message, status: typeof status === 'number' ? status : undefined };
  }
  throw new Error('expected the call to fail');
}

describe('AWS Secrets Manager protocol server', () => {
  let server: AwsSecretsManagerServer;
  let sm: SecretsManagerClient;

  beforeAll(async () => {
    server = await startAwsSecretsManager({ region: 'eu-central-1' });
    sm = clientFor(server);
  });

  afterAll(async () => {
    sm.destroy();
    await server.close();
  });

  it('binds to loopback and creates a secret whose first version is AWSCURRENT', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const token = randomUUID();
    const created = await sm.send(
      new CreateSecretCommand({ Name: 'ltc/db/password', SecretString: 'hunter2', ClientRequestToken: token, Description: 'db' }),
    );
    expect(created.Name).toBe('ltc/db/password');
    expect(created.VersionId).toBe(token);
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:eu-central-1:123456789012:secret:ltc\/db\/password-[A-Za-z0-9]{6}$/);

    const before = Date.now();
    const byName = await sm.send(new GetSecretValueCommand({ SecretId: 'ltc/db/password' }));
    expect(byName.SecretString).toBe('hunter2');
    expect(byName.VersionId).toBe(token);
    expect(byName.VersionStages).toEqual(['AWSCURRENT']);
    expect(byName.ARN).toBe(created.ARN);
    expect(byName.CreatedDate).toBeInstanceOf(Date);
    expect(Math.abs((byName.CreatedDate?.getTime() ?? 0) - before)).toBeLessThan(5_000);

    const byArn = await sm.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    expect(byArn.SecretString).toBe('hunter2');
  });

  it('rejects creating a secret whose name already exists', async () => {
    const failure = await failureOf(() => sm.send(new CreateSecretCommand({ Name: 'ltc/db/password', SecretString: 'x' })));
    expect(failure).toMatchObject({ name: 'ResourceExistsException', status: 400 });
  });

  it('PutSecretValue moves AWSCURRENT and gives the old current AWSPREVIOUS', async () => {
    const v1 = (await sm.send(new GetSecretValueCommand({ SecretId: 'ltc/db/password' }))).VersionId;
    const v2 = randomUUID();
    const put = await sm.send(new PutSecretValueCommand({ SecretId: 'ltc/db/password', SecretString: 'second', ClientRequestToken: v2 }));
    expect(put.VersionId).toBe(v2);
    expect(put.VersionStages).toEqual(['AWSCURRENT']);

    const current = await sm.send(new GetSecretValueCommand({ SecretId: 'ltc/db/password' }));
    expect(current).toMatchObject({ SecretString: 'second', VersionId: v2, VersionStages: ['AWSCURRENT'] });
    const previous = await sm.send(new GetSecretValueCommand({ SecretId: 'ltc/db/password', VersionStage: 'AWSPREVIOUS' }));
    expect(previous).toMatchObject({ SecretString: 'hunter2', VersionId: v1, VersionStages: ['AWSPREVIOUS'] });
    const byId = await sm.send(new GetSecretValueCommand({ SecretId: 'ltc/db/password', VersionId: v1 }));
    expect(byId.SecretString).toBe('hunter2');
  });

  it('PutSecretValue is idempotent per ClientRequestToken', async () => {
    const token = randomUUID();
    const first = await sm.send(new PutSecretValueCommand({ SecretId: 'ltc/db/password', SecretString: 'third', ClientRequestToken: token }));
    const retry = await sm.send(new PutSecretValueCommand({ SecretId: 'ltc/db/password', SecretString: 'third', ClientRequestToken: token }));
    expect(retry.VersionId).toBe(first.VersionId);
    expect(retry.VersionStages).toEqual(['AWSCURRENT']);

    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'ltc/db/password', IncludeDeprecated: true }));
    expect(versions.Versions?.filter((v) => v.VersionId === token)).toHaveLength(1);
    expect(versions.Versions).toHaveLength(3);

    const conflict = await failureOf(() =>
      sm.send(new PutSecretValueCommand({ SecretId: 'ltc/db/password', SecretString: 'different', ClientRequestToken: token })),
    );
    expect(conflict).toMatchObject({ name: 'ResourceExistsException', status: 400 });
    expect(conflict.message).toBe("You can't modify an existing version, you can only create a new version.");
  });

  it('hides deprecated versions unless IncludeDeprecated is set', async () => {
    // After three puts: v1 lost its label when v3 pushed AWSPREVIOUS onto v2.
    const visible = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'ltc/db/password' }));
    expect(visible.Name).toBe('ltc/db/password');
    expect(visible.Versions?.map((v) => v.VersionStages)).toEqual([['AWSPREVIOUS'], ['AWSCURRENT']]);
    const all = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'ltc/db/password', IncludeDeprecated: true }));
    expect(all.Versions?.map((v) => v.VersionStages)).toEqual([undefined, ['AWSPREVIOUS'], ['AWSCURRENT']]);
    expect(all.Versions?.[0].CreatedDate).toBeInstanceOf(Date);
  });

  it('UpdateSecretVersionStage moves AWSCURRENT (dragging AWSPREVIOUS) and validates RemoveFromVersionId', async () => {
    const name = 'ltc/api/key';
    const v1 = randomUUID();
    const v2 = randomUUID();
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'one', ClientRequestToken: v1 }));
    const pending = await sm.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'two', ClientRequestToken: v2, VersionStages: ['AWSPENDING'] }),
    );
    expect(pending.VersionStages).toEqual(['AWSPENDING']);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('one');

    const wrongHolder = await failureOf(() =>
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: v2, RemoveFromVersionId: v2 })),
    );
    expect(wrongHolder).toMatchObject({ name: 'InvalidParameterException', status: 400 });
    const missingRemove = await failureOf(() =>
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: v2 })),
    );
    expect(missingRemove.name).toBe('InvalidParameterException');

    const moved = await sm.send(
      new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: v2, RemoveFromVersionId: v1 }),
    );
    expect(moved.Name).toBe(name);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSPENDING', 'AWSCURRENT'] });

    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSPENDING', RemoveFromVersionId: v2 }));
    const current = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    expect(current).toMatchObject({ SecretString: 'two', VersionId: v2, VersionStages: ['AWSCURRENT'] });
    const previous = await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }));
    expect(previous).toMatchObject({ SecretString: 'one', VersionId: v1 });

    const cannotDropCurrent = await failureOf(() =>
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', RemoveFromVersionId: v2 })),
    );
    expect(cannotDropCurrent.name).toBe('InvalidParameterException');
  });

  it('DescribeSecret reports ARN, name, description, dates and version stages', async () => {
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'ltc/db/password' }));
    expect(described.Name).toBe('ltc/db/password');
    expect(described.Description).toBe('db');
    expect(described.ARN).toMatch(/:secret:ltc\/db\/password-/);
    expect(described.LastChangedDate).toBeInstanceOf(Date);
    expect(described.CreatedDate).toBeInstanceOf(Date);
    expect(described.DeletedDate).toBeUndefined();
    expect(Object.values(described.VersionIdsToStages ?? {}).sort()).toEqual([['AWSCURRENT'], ['AWSPREVIOUS']]);
  });

  it('ListSecrets lists secrets and honours name filters', async () => {
    const all = await sm.send(new ListSecretsCommand({}));
    expect(all.SecretList?.map((s) => s.Name)).toEqual(['ltc/db/password', 'ltc/api/key']);
    const filtered = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['ltc/api'] }] }));
    expect(filtered.SecretList?.map((s) => s.Name)).toEqual(['ltc/api/key']);
    expect(Object.keys(filtered.SecretList?.[0].SecretVersionsToStages ?? {})).toHaveLength(2);
  });

  it('reports a missing secret as ResourceNotFoundException', async () => {
    const failure = await failureOf(() => sm.send(new GetSecretValueCommand({ SecretId: 'ltc/nope' })));
    expect(failure).toEqual({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      status: 400,
    });
  });

  it('validates member constraints before looking the secret up (ValidationException, even for a missing secret)', async () => {
    const get = await failureOf(() => sm.send(new GetSecretValueCommand({ SecretId: 'ltc/nope', VersionId: 'too-short' })));
    expect(get).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(get.message).toContain("at 'versionId' failed to satisfy constraint: Member must have length greater than or equal to 32");
    const move = await failureOf(() => sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'ltc/nope', VersionStage: 'AWSCURRENT', MoveToVersionId: 'short' })));
    expect(move).toMatchObject({ name: 'ValidationException', status: 400 });
  });

  it('DeleteSecret schedules deletion, or removes at once with ForceDeleteWithoutRecovery', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'ltc/tmp/a', SecretString: 'a' }));
    await sm.send(new CreateSecretCommand({ Name: 'ltc/tmp/b', SecretString: 'b' }));

    const scheduled = await sm.send(new DeleteSecretCommand({ SecretId: 'ltc/tmp/a', RecoveryWindowInDays: 7 }));
    expect(scheduled.Name).toBe('ltc/tmp/a');
    const days = ((scheduled.DeletionDate?.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
    const blocked = await failureOf(() => sm.send(new GetSecretValueCommand({ SecretId: 'ltc/tmp/a' })));
    expect(blocked).toMatchObject({ name: 'InvalidRequestException', status: 400 });
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'ltc/tmp/a' }))).DeletedDate).toBeInstanceOf(Date);
    const visible = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['ltc/tmp/'] }] }));
    expect(visible.SecretList?.map((s) => s.Name)).toEqual(['ltc/tmp/b']);
    const withPlanned = await sm.send(
      new ListSecretsCommand({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: ['ltc/tmp/'] }] }),
    );
    expect(withPlanned.SecretList?.map((s) => s.Name)).toEqual(['ltc/tmp/a', 'ltc/tmp/b']);

    await sm.send(new DeleteSecretCommand({ SecretId: 'ltc/tmp/b', ForceDeleteWithoutRecovery: true }));
    const gone = await failureOf(() => sm.send(new DescribeSecretCommand({ SecretId: 'ltc/tmp/b' })));
    expect(gone.name).toBe('ResourceNotFoundException');
  });

  it('rejects a request signed with the wrong secret key', async () => {
    const seen = server.requests.length;
    const wrong = clientFor(server, `${server.secretAccessKey}x`);
    const failure = await failureOf(() => wrong.send(new GetSecretValueCommand({ SecretId: 'ltc/db/password' })));
    wrong.destroy();
    expect(failure.name).toBe('InvalidSignatureException');
    expect(failure.status).toBe(400);
    expect(failure.message).toMatch(/^The request signature we calculated does not match/);
    expect(server.requests).toHaveLength(seen);
  });

  it('rejects an unknown access key id', async () => {
    const stranger = clientFor(server, server.secretAccessKey, 'unknown-access-key-id');
    const failure = await failureOf(() => stranger.send(new ListSecretsCommand({})));
    stranger.destroy();
    expect(failure).toMatchObject({ name: 'UnrecognizedClientException', status: 400 });
  });

  it('records authenticated operations and their bodies', () => {
    const ops = server.requests.map((r) => r.op);
    expect(ops).toContain('CreateSecret');
    expect(ops).toContain('UpdateSecretVersionStage');
    expect(server.requests.find((r) => r.op === 'DeleteSecret')?.body).toEqual({ SecretId: 'ltc/tmp/a', RecoveryWindowInDays: 7 });
  });

  it('speaks AWS JSON 1.1 errors on the wire (__type body and x-amzn-ErrorType header)', async () => {
    const url = new URL(server.url);
    const body = JSON.stringify({ SecretId: 'ltc/missing' });
    const signer = new SignatureV4({
      service: 'secretsmanager',
      region: server.region,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      sha256: Sha256,
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body,
    });
    const response = await fetch(server.url, { method: 'POST', headers: signed.headers, body });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(response.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await response.json()).toEqual({
      __type: 'ResourceNotFoundException',
      Message: "Secrets Manager can't find the specified secret.",
    });

    const unsigned = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.ListSecrets' },
      body: '{}',
    });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  });
});

describe('AWS Secrets Manager deny hook', () => {
  let server: AwsSecretsManagerServer;
  let sm: SecretsManagerClient;
  const calls: Array<[string, string | undefined]> = [];

  beforeAll(async () => {
    server = await startAwsSecretsManager({
      deny: (op, secretId) => {
        calls.push([op, secretId]);
        return op === 'GetSecretValue' && secretId === 'ltc/locked';
      },
    });
    sm = clientFor(server);
  });

  afterAll(async () => {
    sm.destroy();
    await server.close();
  });

  it('answers denied calls with AccessDeniedException and lets others through', async () => {
    expect(server.region).toBe('us-east-1');
    await sm.send(new CreateSecretCommand({ Name: 'ltc/locked', SecretString: 'x' }));
    await sm.send(new CreateSecretCommand({ Name: 'ltc/open', SecretString: 'y' }));
    const denied = await failureOf(() => sm.send(new GetSecretValueCommand({ SecretId: 'ltc/locked' })));
    expect(denied).toMatchObject({ name: 'AccessDeniedException', status: 400 });
    expect(denied.message).toContain('secretsmanager:GetSecretValue');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'ltc/open' }))).SecretString).toBe('y');
    expect(calls).toEqual([
      ['CreateSecret', 'ltc/locked'],
      ['CreateSecret', 'ltc/open'],
      ['GetSecretValue', 'ltc/locked'],
      ['GetSecretValue', 'ltc/open'],
    ]);
  });
});
