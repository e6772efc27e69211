import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinModuleSource, builtinsByGetBuiltinModule, importedBuiltinNames } from '../src/build/builtins-plugin.js';

const dir = mkdtempSync(join(tmpdir(), 'ltc-builtins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('builtins plugin (bundles import node: builtins through process.getBuiltinModule)', () => {
  it('reads the names a file imports, and gives up on anything but plain named/default imports', () => {
    const src = "import { readFileSync, statSync as st } from 'node:fs';\nimport fs, {\n  writeFileSync,\n} from 'node:fs';\nimport 'node:fs';";
    expect(importedBuiltinNames(src, 'node:fs')).toEqual(['default', 'readFileSync', 'statSync', 'writeFileSync']);
    expect(importedBuiltinNames("import * as fs from 'node:fs';", 'node:fs')).toBeUndefined();
    expect(importedBuiltinNames("export { join } from 'node:path';", 'node:path')).toBeUndefined();
    expect(importedBuiltinNames("import { join } from 'node:path/posix';", 'node:path')).toEqual([]);
    expect(builtinModuleSource('node:fs/promises', ['readFile'])).toBe(
      'let builtin;\nconst load = () => (builtin ??= process.getBuiltinModule("node:fs/promises"));\nexport const readFile = (...args) => load().readFile(...args);\n',
    );
    expect(builtinModuleSource('node:fs/promises', ['constants', 'readFile'])).toMatch(/^const builtin = process.getBuiltinModule/);
    expect(builtinModuleSource('node:fs', ['default', 'readFileSync'])).toBe(
      'const builtin = process.getBuiltinModule("node:fs");\nexport default builtin;\nexport const readFileSync = builtin.readFileSync;\n',
    );
  });

  it('bundles code that then runs with no ES import of a builtin left, and leaves namespace imports alone', async () => {
    const entry = join(dir, 'entry.js');
    writeFileSync(entry, "import { readFileSync } from 'node:fs';\nimport { readFile } from 'node:fs/promises';\nimport path, { join } from 'node:path';\nimport * as os from 'node:os';\nexport const out = [typeof readFileSync, path.sep, join('a', 'b'), typeof os.homedir, (await readFile(import.meta.filename, 'utf8')).includes('getBuiltinModule')];\n");
    const r = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', write: false, plugins: [builtinsByGetBuiltinModule] });
    const code = r.outputFiles[0]!.text;
    expect(code).not.toMatch(/from ["']node:(fs|fs\/promises|path)["']/);
    expect(code).toMatch(/from ["']node:os["']/);
    const file = join(dir, 'out.mjs');
    writeFileSync(file, code);
    const mod = (await import(file)) as { out: string[] };
    expect(mod.out).toEqual(['function', '/', 'a/b', 'function', true]);
  });
});
