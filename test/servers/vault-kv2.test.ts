import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vault from 'node-vault';
import { startVault, type VaultServer } from './vault-kv2.js';

/** The node-vault calls used here, with results typed as `unknown` instead of the library's `any`. */
interface VaultClient {
  read(path: string): Promise<unknown>;
  write(path: string, data: Record<string, unknown>): Promise<unknown>;
  list(path: string): Promise<unknown>;
  delete(path: string): Promise<unknown>;
  request(options: { path: string; method: string }): Promise<unknown>;
  health(): Promise<unknown>;
  tokenLookupSelf(): Promise<unknown>;
}

/** `token: null` builds a client that sends no X-Vault-Token at all. */
function clientFor(server: VaultServer, token: string | null = server.token): VaultClient {
  return vault({ apiVersion: 'v1', endpoint: server.url, token: token ?? undefined });
}

/** Follows `path` through nested objects; undefined when a step is missing. */
function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Runs `action` and returns node-vault's ApiResponseError details (fails the test if it resolves). */
async function failureOf(action: () => Promise<unknown>): Promise<{ message: string; statusCode: unknown; body: unknown }> {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    return { message: error.message, statusCode: field(error, 'response', 'statusCode'), body: field(error, 'response', 'body') };
  }
  throw new Error('expected the call to fail');
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('Vault KV v2 protocol server', () => {
  let server: VaultServer;
  let client: VaultClient;

  beforeAll(async () => {
    server = await startVault({ token: 'hvs.ltc-test-root' });
    client = clientFor(server);
  });

  afterAll(async () => {
    await server.close();
  });

  it('binds to loopback and answers sys/health without a token', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.mount).toBe('secret');
    expect(await clientFor(server, null).health()).toMatchObject({ initialized: true, sealed: false, standby: false });
    expect(server.requests.at(-1)).toEqual({ method: 'GET', path: '/v1/sys/health' });
  });

  it('looks up its own token', async () => {
    expect(await client.tokenLookupSelf()).toMatchObject({
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      wrap_info: null,
      auth: null,
      data: { id: 'hvs.ltc-test-root', policies: ['root'], display_name: 'root', ttl: 0 },
    });
  });

  it('writes with cas and reads back the wrapped secret', async () => {
    const written = await client.write('secret/data/ltc/app', { data: { user: 'app', password: 'p1' }, options: { cas: 0 } });
    expect(written).toMatchObject({
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      wrap_info: null,
      warnings: null,
      auth: null,
      data: { version: 1, deletion_time: '', destroyed: false, custom_metadata: null },
    });
    expect(field(written, 'data', 'created_time')).toMatch(ISO_TIME);

    const read = await client.read('secret/data/ltc/app');
    expect(read).toMatchObject({
      data: {
        data: { user: 'app', password: 'p1' },
        metadata: { version: 1, deletion_time: '', destroyed: false, custom_metadata: null },
      },
    });
    expect(field(read, 'request_id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps versions and serves ?version=N', async () => {
    const second = await client.write('secret/data/ltc/app', { data: { user: 'app', password: 'p2' }, options: { cas: 1 } });
    expect(second).toMatchObject({ data: { version: 2 } });
    expect(await client.read('secret/data/ltc/app')).toMatchObject({ data: { data: { password: 'p2' }, metadata: { version: 2 } } });
    expect(await client.read('secret/data/ltc/app?version=1')).toMatchObject({
      data: { data: { password: 'p1' }, metadata: { version: 1 } },
    });
  });

  it('rejects a check-and-set mismatch with 400', async () => {
    const stale = await failureOf(() => client.write('secret/data/ltc/app', { data: { password: 'p3' }, options: { cas: 1 } }));
    expect(stale).toEqual({
      message: 'check-and-set parameter did not match the current version',
      statusCode: 400,
      body: { errors: ['check-and-set parameter did not match the current version'] },
    });
    const createOnly = await failureOf(() => client.write('secret/data/ltc/app', { data: { password: 'p3' }, options: { cas: 0 } }));
    expect(createOnly.statusCode).toBe(400);
    expect(await client.read('secret/data/ltc/app')).toMatchObject({ data: { metadata: { version: 2 } } });
  });

  it('answers 404 with an empty error list for absent secrets', async () => {
    const missing = await failureOf(() => client.read('secret/data/ltc/nope'));
    expect(missing).toEqual({ message: 'Status 404', statusCode: 404, body: { errors: [] } });
  });

  it('reads and writes metadata', async () => {
    await client.write('secret/metadata/ltc/app', { custom_metadata: { owner: 'ops' }, max_versions: 5 });
    const meta = await client.request({ path: '/secret/metadata/ltc/app', method: 'GET' });
    expect(meta).toMatchObject({
      data: {
        current_version: 2,
        oldest_version: 0,
        max_versions: 5,
        cas_required: false,
        custom_metadata: { owner: 'ops' },
        versions: { '1': { deletion_time: '', destroyed: false }, '2': { deletion_time: '', destroyed: false } },
      },
    });
    expect(field(meta, 'data', 'created_time')).toMatch(ISO_TIME);
    expect(field(meta, 'data', 'updated_time')).toMatch(ISO_TIME);
    expect(await client.read('secret/data/ltc/app')).toMatchObject({ data: { metadata: { custom_metadata: { owner: 'ops' } } } });
  });

  it('enforces cas_required from metadata', async () => {
    await client.write('secret/metadata/ltc/strict', { cas_required: true });
    const missingCas = await failureOf(() => client.write('secret/data/ltc/strict', { data: { a: '1' } }));
    expect(missingCas).toMatchObject({ statusCode: 400, body: { errors: ['check-and-set parameter required for this call'] } });
    expect(await client.write('secret/data/ltc/strict', { data: { a: '1' }, options: { cas: 0 } })).toMatchObject({ data: { version: 1 } });
  });

  it('lists keys with LIST and with GET ?list=true', async () => {
    await client.write('secret/data/ltc/nested/deep', { data: { x: 1 } });
    await client.write('secret/data/top', { data: { y: 2 } });
    expect(await client.list('secret/metadata/ltc')).toMatchObject({ data: { keys: ['app', 'nested/', 'strict'] } });
    expect(await client.request({ path: '/secret/metadata/?list=true', method: 'GET' })).toMatchObject({
      data: { keys: ['ltc/', 'top'] },
    });
    const empty = await failureOf(() => client.list('secret/metadata/none'));
    expect(empty).toMatchObject({ statusCode: 404, body: { errors: [] } });
    expect(server.requests).toContainEqual({ method: 'LIST', path: '/v1/secret/metadata/ltc' });
    expect(server.requests).toContainEqual({ method: 'GET', path: '/v1/secret/metadata/?list=true' });
  });

  it('soft-deletes, undeletes and destroys versions', async () => {
    await client.write('secret/delete/ltc/app', { versions: [2] });
    const deleted = await failureOf(() => client.read('secret/data/ltc/app'));
    expect(deleted.statusCode).toBe(404);
    expect(deleted.body).toMatchObject({ data: { data: null, metadata: { version: 2, destroyed: false } } });
    expect(await client.read('secret/data/ltc/app?version=1')).toMatchObject({ data: { data: { password: 'p1' } } });

    await client.write('secret/undelete/ltc/app', { versions: [2] });
    expect(await client.read('secret/data/ltc/app')).toMatchObject({ data: { data: { password: 'p2' }, metadata: { deletion_time: '' } } });

    await client.write('secret/destroy/ltc/app', { versions: [1] });
    const destroyed = await failureOf(() => client.read('secret/data/ltc/app?version=1'));
    expect(destroyed).toMatchObject({ statusCode: 404, body: { data: { data: null, metadata: { version: 1, destroyed: true } } } });
    expect(await client.request({ path: '/secret/metadata/ltc/app', method: 'GET' })).toMatchObject({
      data: { versions: { '1': { destroyed: true }, '2': { destroyed: false, deletion_time: '' } } },
    });

    const noVersions = await failureOf(() => client.write('secret/delete/ltc/app', { versions: [] }));
    expect(noVersions).toMatchObject({ statusCode: 400, body: { errors: ['No version number provided'] } });
  });

  it('drops the oldest versions beyond max_versions', async () => {
    await client.write('secret/metadata/ltc/rolling', { max_versions: 2 });
    for (const n of [1, 2, 3]) await client.write('secret/data/ltc/rolling', { data: { n } });
    const meta = await client.request({ path: '/secret/metadata/ltc/rolling', method: 'GET' });
    expect(Object.keys(field(meta, 'data', 'versions') ?? {})).toEqual(['2', '3']);
    expect(field(meta, 'data')).toMatchObject({ current_version: 3, oldest_version: 2 });
    expect((await failureOf(() => client.read('secret/data/ltc/rolling?version=1'))).statusCode).toBe(404);
  });

  it('deletes metadata and every version', async () => {
    await client.delete('secret/metadata/ltc/rolling');
    expect((await failureOf(() => client.read('secret/metadata/ltc/rolling'))).statusCode).toBe(404);
    expect((await failureOf(() => client.read('secret/data/ltc/rolling'))).statusCode).toBe(404);
  });

  it('denies a wrong or missing token with 403 permission denied', async () => {
    const wrong = await failureOf(() => clientFor(server, 'hvs.wrong').read('secret/data/ltc/app'));
    expect(wrong).toEqual({ message: 'permission denied', statusCode: 403, body: { errors: ['permission denied'] } });
    const anonymous = await failureOf(() => clientFor(server, null).read('secret/data/ltc/app'));
    expect(anonymous).toMatchObject({ statusCode: 403, body: { errors: ['permission denied'] } });
  });

  it('answers paths outside the mount with 404 no handler', async () => {
    const other = await failureOf(() => client.read('kv/data/x'));
    expect(other).toMatchObject({ statusCode: 404, body: { errors: ['no handler for route "kv/data/x". route entry not found.'] } });
  });
});

describe('Vault KV v2 protocol server on a custom mount', () => {
  let server: VaultServer;

  beforeAll(async () => {
    server = await startVault({ mount: 'ltc-kv' });
  });

  afterAll(async () => {
    await server.close();
  });

  it('generates a token and serves the engine at the given mount', async () => {
    expect(server.token).toMatch(/^hvs\.[A-Za-z0-9]{24}$/);
    const client = clientFor(server);
    expect(await client.write('ltc-kv/data/a', { data: { k: 'v' } })).toMatchObject({ data: { version: 1 } });
    expect(await client.read('ltc-kv/data/a')).toMatchObject({ data: { data: { k: 'v' } } });
    expect((await failureOf(() => client.read('secret/data/a'))).statusCode).toBe(404);
  });
});
