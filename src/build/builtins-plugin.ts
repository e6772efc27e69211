/**
 * An ES module `import { readFileSync } from 'node:fs'` makes Node build a module namespace for the
 * whole builtin (every export, kept in sync), about 0.5–1 ms per builtin at startup — a fast path's
 * whole budget over `node -e 0` is a few of those. `process.getBuiltinModule` hands over the same
 * object without that. This esbuild plugin turns each static named or default import of a `node:`
 * builtin into a small bundled module that does that and exports just the names that file imports
 * (so no deprecated getter such as `fs.F_OK` is ever read). Anything else (`import * as`,
 * re-exports, dynamic imports) stays a real import.
 */
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

const NAMESPACE = 'ltc-builtin';

/** The names `source` imports from `specifier`, or undefined when one import is not a plain named/default one. */
export function importedBuiltinNames(source: string, specifier: string): string[] | undefined {
  const quoted = specifier.replace(/[/]/g, '\\/');
  const any = new RegExp(`(?:import|export)\\b[^;'"]*?from\\s*['"]${quoted}['"]|import\\s*['"]${quoted}['"]`, 'g');
  const plain = new RegExp(`^import\\s+(?:([A-Za-z_$][\\w$]*)\\s*,?\\s*)?(?:\\{([^}]*)\\})?\\s*from\\s*['"]${quoted}['"]$`);
  const names = new Set<string>();
  for (const match of source.matchAll(any)) {
    const statement = match[0];
    if (/^import\s*['"]/.test(statement)) continue;
    const parts = plain.exec(statement.replace(/\s+/g, ' ').trim());
    if (!parts || (!parts[1] && parts[2] === undefined)) return undefined;
    if (parts[1]) names.add('default');
    for (const item of (parts[2] ?? '').split(',')) {
      const name = item.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]?.trim();
      if (name && !/^type$/.test(name)) names.add(name);
    }
  }
  return [...names].sort();
}

/**
 * Builtins Node does not load at startup whose exports are all functions (but `constants`): they are
 * loaded on the first call, so a path that imports but never calls one (the fast paths and
 * node:fs/promises, 1.5 ms) does not pay for it.
 */
const LOADED_ON_FIRST_CALL = new Set(['node:fs/promises']);

export function builtinModuleSource(specifier: string, names: readonly string[]): string {
  const spec = JSON.stringify(specifier);
  if (LOADED_ON_FIRST_CALL.has(specifier) && !names.some((n) => n === 'default' || n === 'constants')) {
    const lines = ['let builtin;', `const load = () => (builtin ??= process.getBuiltinModule(${spec}));`];
    for (const name of names) lines.push(`export const ${name} = (...args) => load().${name}(...args);`);
    return `${lines.join('\n')}\n`;
  }
  const lines = [`const builtin = process.getBuiltinModule(${spec});`];
  for (const name of names) {
    lines.push(name === 'default' ? 'export default builtin;' : `export const ${name} = builtin.${name};`);
  }
  return `${lines.join('\n')}\n`;
}

export const builtinsByGetBuiltinModule: Plugin = {
  name: 'builtins-by-getBuiltinModule',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, async (args) => {
      if (args.kind !== 'import-statement' || !args.importer) return { path: args.path, external: true };
      const names = importedBuiltinNames(await readFile(args.importer, 'utf8'), args.path);
      if (!names || names.some((n) => !/^[A-Za-z_$][\w$]*$/.test(n))) return { path: args.path, external: true };
      return { path: `${args.path}#${names.join(',')}`, namespace: NAMESPACE };
    });
    b.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
      const [specifier = '', list = ''] = args.path.split('#');
      return { contents: builtinModuleSource(specifier, list ? list.split(',') : []), loader: 'js' };
    });
  },
};
