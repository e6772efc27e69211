/**
 * `npm run build`, after tsc: dist/src/cli/main.js and everything it imports (lazily too) as a few
 * ESM chunks in dist/bundle/, with zod, yaml and commander inside. Node then resolves, stats and
 * links about 60 files for a rollback instead of about 250 (issue 17: startup). Packages that are
 * large, native or load their own files by path stay outside and load from node_modules.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { packageRoot } from '../core/paths.js';

const EXTERNAL = ['@aws-sdk/*', 'node-vault', '@secretlint/*', 'secretlint', 'listr2', '@inquirer/*', 'chalk', 'execa', 'zx', 'undici', 'pg', 're2js'];

export async function bundle(root = packageRoot()): Promise<string> {
  const outdir = join(root, 'dist', 'bundle');
  await rm(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { main: join(root, 'dist', 'src', 'cli', 'main.js') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    outdir,
    external: EXTERNAL,
    // yaml and commander are CommonJS: their require() calls need a require in ESM chunks.
    banner: { js: "import { createRequire as __ltcCreateRequire } from 'node:module'; const require = __ltcCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return outdir;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  process.stdout.write(`bundled into ${await bundle()}\n`);
}
