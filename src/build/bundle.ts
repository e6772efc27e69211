/**
 * `npm run build`, after tsc: dist/src/cli/main.js and everything it imports (lazily too) as a few
 * ESM chunks in dist/bundle/, with zod, yaml and commander inside. Node then resolves, stats and
 * links about 60 files for a rollback instead of about 250 (issue 17: startup). Packages that are
 * large, native or load their own files by path stay outside and load from node_modules.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { packageRoot } from '../core/paths.js';
import { builtinsByGetBuiltinModule } from './builtins-plugin.js';

const EXTERNAL = ['@aws-sdk/*', 'node-vault', '@secretlint/*', 'secretlint', 'listr2', '@inquirer/*', 'chalk', 'execa', 'zx', 'undici', 'pg', 're2js'];

/**
 * zod's namespace re-exports all of its ~50 message locales (370 kB, half of zod in the bundle);
 * ltc configures none but the default English one, so `z.locales` (classic and core) holds only `en`.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir) ? { path: join(args.resolveDir, '..', 'locales', 'en-only.js'), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: join(args.path, '..'),
      loader: 'js',
    }));
  },
};

export async function bundle(root = packageRoot()): Promise<string> {
  const outdir = join(root, 'dist', 'bundle');
  await rm(outdir, { recursive: true, force: true });
  const common: BuildOptions = {
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    outdir,
    external: EXTERNAL,
    // yaml and commander are CommonJS: their require() calls need a require in ESM chunks.
    // Made on the first require(): createRequire costs about a millisecond, and the fast paths never call it.
    banner: { js: "let __ltcRequire; const require = (id) => (__ltcRequire ??= process.getBuiltinModule('node:module').createRequire(import.meta.url))(id);" },
    plugins: [zodEnglishOnly, builtinsByGetBuiltinModule],
    logLevel: 'warning',
  };
  await build({ ...common, entryPoints: { main: join(root, 'dist', 'src', 'cli', 'main.js') }, splitting: true });
  // bin/ltc.js's fast paths (src/cli/fast-path.ts), each built on its own so that what it loads at
  // once is one file (lazy imports stay chunks): every further module costs a resolve, a realpath
  // and a read, which is what a fast path is short of.
  const fast = { 'fast-secrets-get': ['secrets', 'fast.js'], 'fast-releases': ['deploy', 'releases-fast.js'] };
  for (const [name, path] of Object.entries(fast)) {
    await build({ ...common, entryPoints: { [name]: join(root, 'dist', 'src', ...path) }, splitting: true, chunkNames: `${name}-[hash]` });
  }
  return outdir;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  process.stdout.write(`bundled into ${await bundle()}\n`);
}
