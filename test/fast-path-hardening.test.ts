import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { printFast } from '../src/cli/fast-path.js';
import { createLoadedConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema/index.js';
import { parseRevisionLine } from '../src/targets/revision-line.js';
import { LTC } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ltc-fast-hardening-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fast paths and what they read, against hostile input', () => {
  it('a FIFO or a device as --config is refused at once (exit 2), never read', () => {
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    for (const config of [fifo, '/dev/zero']) {
      for (const args of [['releases'], ['secrets', 'get', 'LTC_SECRET_KEY']]) {
        const r = spawnSync(process.execPath, [LTC, ...args, '--config', config], { cwd: dir, encoding: 'utf8', timeout: 20_000, env: { ...process.env, XDG_CACHE_HOME: dir } });
        expect(r.status, `${args.join(' ')} --config ${config}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(config === fifo ? /FIFO/ : /a device/);
      }
    }
  });

  it('output that shows a credential in any form the masker knows (here lower-cased) goes to the full CLI', async () => {
    const result = async () => ({ data: {}, text: 'releases of demo' });
    const p = { positional: [], json: false, noColor: true };
    expect(await printFast(p, { VAULT_TOKEN: 'DEMO' }, result)).toBeUndefined();
    expect(await printFast({ ...p, json: true }, { VAULT_TOKEN: 'ro\\ot' }, async () => ({ data: { root: '/x/ro\\ot' }, text: '' }))).toBeUndefined();
  });

  it('revisions.log lines that are not records are skipped, not shown or crashed on', () => {
    for (const line of ['null', '42', '[]', '"x"', '{"time":"2026-01-01T00:00:00Z","action":{"a":1},"outcome":null}', '{"time":5,"action":"stop","outcome":"ok"}', '{"time":"x"', '']) {
      expect(parseRevisionLine(line), line).toBeUndefined();
    }
    expect(parseRevisionLine('{"time":"2026-01-01T00:00:00Z","action":"deploy","outcome":"ok"}')).toMatchObject({ action: 'deploy', outcome: 'ok' });
  });

  it('__proto__, constructor and toString are unknown environments', () => {
    const loaded = createLoadedConfig(join(dir, 'ltc.config.yaml'), { environments: { staging: {} } } as unknown as Config);
    for (const name of ['__proto__', 'constructor', 'toString']) {
      expect(() => loaded.environment(name), name).toThrow(`unknown environment "${name}"`);
    }
  });
});
