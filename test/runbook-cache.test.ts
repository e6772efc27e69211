/**
 * The cache of valid runbooks (src/runbook/cache.ts): a hit is the same model as a fresh parse,
 * its position table answers positionOf as the parsed YAML does, and a changed text is a miss.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunbook } from '../src/runbook/read.ts';
import { parseRunbook } from '../src/runbook/load.ts';
import { YamlSource } from '../src/config/yaml-source.ts';
import { tableSource } from '../src/config/position-table.ts';
import type { RunbookRef } from '../src/runbook/locate.ts';
import { loadStepTypes, stepTypesNamed } from '../src/runbook/registry.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'ltc-rb-cache-'));
  dirs.push(dir);
  const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') };
  delete env.LTC_NO_CONFIG_CACHE;
  return { dir, env };
}

const shipped = (name: string): RunbookRef => ({ name, file: join(process.cwd(), 'runbooks', `${name}.yaml`), origin: 'shipped' });

describe('runbook cache', () => {
  it('a hit gives the model a fresh parse gives, and the same positions', async () => {
    const { dir, env } = await setup();
    for (const name of ['deploy', 'rollback', 'golive', 'rotate-secret', 'smoke-test']) {
      const ref = shipped(name);
      const text = await readFile(ref.file, 'utf8');
      const fresh = await parseRunbook(ref, text);
      await readRunbook(ref, env); // miss: parses and writes the entry
      const hit = await readRunbook(ref, env);
      expect(hit.source).not.toBeInstanceOf(YamlSource);
      const { source: _a, ...freshModel } = fresh;
      const { source: _b, ...hitModel } = hit;
      expect(JSON.parse(JSON.stringify(hitModel)), name).toEqual(JSON.parse(JSON.stringify(freshModel)));
      expect(hit.steps.map((s) => s.stepType.name)).toEqual(fresh.steps.map((s) => s.stepType.name));
      for (const step of fresh.steps.flatMap((s) => [s, ...s.onFailure])) {
        for (const [path, key] of [[step.path], [step.path, step.type], [[...step.path, step.type, 'nope', 3]], [[...step.path, 'with'], 'x']] as const) {
          expect(hit.source.positionOf(path as PropertyKey[], key as string | undefined), `${name} ${String(path)} ${key}`).toEqual(fresh.source.positionOf(path as PropertyKey[], key as string | undefined));
        }
      }
    }
    expect((await readdir(join(dir, 'cache', 'ltc', 'runbook'))).length).toBe(5);
  });

  it('a changed text is a miss: the edited runbook is parsed (and an invalid one refused) again', async () => {
    const { dir, env } = await setup();
    const file = join(dir, 'main.yaml');
    const ref: RunbookRef = { name: 'main', file, origin: 'file' };
    await writeFile(file, 'name: main\nsteps:\n  - id: a\n    run: [echo, hi]\n');
    expect((await readRunbook(ref, env)).steps.map((s) => s.id)).toEqual(['a']);
    expect((await readRunbook(ref, env)).steps.map((s) => s.id)).toEqual(['a']);
    await writeFile(file, 'name: main\nsteps:\n  - id: a\n    run: [echo, hi]\n  - id: b\n    rnu: [echo]\n');
    await expect(readRunbook(ref, env)).rejects.toThrow(/main\.yaml:6:5/);
  });

  it('a hit looks up only the step types its runbook uses, each by its own name', async () => {
    const all = await loadStepTypes();
    for (const [name, type] of all) expect((await stepTypesNamed([name])).get(name)).toBe(type);
    expect([...(await stepTypesNamed(['deploy', 'switch', 'nonsense'])).keys()].sort()).toEqual(['deploy', 'switch']);
    const { env } = await setup();
    await readRunbook(shipped('rollback'), env);
    const hit = await readRunbook(shipped('rollback'), env);
    const used = new Set(hit.steps.map((s) => s.type));
    for (const step of hit.steps) expect(step.stepType).toBe(all.get(step.type));
    expect(used.size).toBeLessThan(all.size);
  });

  it('a position table answers like the parsed YAML for paths that stop early and "0" as an index', () => {
    const text = 'a:\n  b:\n    - x: 1\n    - { y: 2 }\n  c: hello\n';
    const src = YamlSource.parse('/t.yaml', text, 'test');
    const table = tableSource(src.positionTable());
    for (const [path, key] of [[['a']], [['a', 'b', 1, 'y']], [['a', 'b', '0', 'x']], [['a', 'zz', 'q']], [['a'], 'c'], [['a', 'b', 0], 'x'], [[], 'a']] as Array<[PropertyKey[], string?]>) {
      expect(table.positionOf(path, key), `${JSON.stringify(path)} ${key}`).toEqual(src.positionOf(path, key));
    }
  });
});

describe('the validated-config cache is used only when it is this user\'s own', () => {
  it('a cache folder or entry writable by others is passed over (read and write); a relative XDG_CACHE_HOME is ignored', async () => {
    const { mkdtempSync, chmodSync, existsSync, rmSync } = await import('node:fs');
    const { tmpdir, homedir } = await import('node:os');
    const { join } = await import('node:path');
    const { cacheKey, readCached, writeCached } = await import('../src/config/cache.ts');
    const base = mkdtempSync(join(tmpdir(), 'ltc-cache-trust-'));
    try {
      const env = { XDG_CACHE_HOME: base };
      const key = await cacheKey('/x/ltc.config.yaml', 'version: 1\n');
      await writeCached('config', key, { ok: 1 }, env);
      expect(await readCached('config', key, env)).toEqual({ ok: 1 });
      const dir = join(base, 'ltc', 'config');
      chmodSync(dir, 0o777);
      expect(await readCached('config', key, env)).toBeUndefined();
      chmodSync(dir, 0o700);
      chmodSync(join(dir, `${key.id}.json`), 0o666);
      expect(await readCached('config', key, env)).toBeUndefined();
      chmodSync(join(dir, `${key.id}.json`), 0o600);
      expect(await readCached('config', key, env)).toEqual({ ok: 1 });
      // The folders above count too: ltc/ writable by others, or a cache home writable by others without the sticky bit.
      chmodSync(join(base, 'ltc'), 0o777);
      expect(await readCached('config', key, env)).toBeUndefined();
      chmodSync(join(base, 'ltc'), 0o700);
      chmodSync(base, 0o777);
      expect(await readCached('config', key, env)).toBeUndefined();
      chmodSync(base, 0o1777);
      expect(await readCached('config', key, env)).toEqual({ ok: 1 });
      chmodSync(base, 0o700);
      // Nothing is written into a folder others may write.
      chmodSync(dir, 0o777);
      const other = await cacheKey('/x/other.yaml', 'version: 1\n');
      await writeCached('config', other, { ok: 2 }, env);
      expect(existsSync(join(dir, `${other.id}.json`))).toBe(false);
      // Relative: the default under the home folder, never a folder that follows the cwd.
      const relative = { XDG_CACHE_HOME: 'rel-cache' };
      await writeCached('config', other, { ok: 3 }, relative);
      expect(existsSync(join(process.cwd(), 'rel-cache'))).toBe(false);
      expect(existsSync(join(homedir(), '.cache', 'ltc', 'config', `${other.id}.json`))).toBe(true);
      rmSync(join(homedir(), '.cache', 'ltc', 'config', `${other.id}.json`), { force: true });
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
