// Builds the static frontend: copies frontend/ into dist/ and stamps the release version into index.html.
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = path.join(appDir, 'frontend');
const distDir = path.join(appDir, 'dist');

function fail(message) {
  console.error(`build failed: ${message}`);
  process.exit(1);
}

let release;
try {
  release = JSON.parse(await readFile(path.join(appDir, 'release.json'), 'utf8'));
} catch (err) {
  fail(`cannot read release.json: ${err.message}`);
}
if (typeof release.version !== 'string' || typeof release.rc !== 'string') {
  fail('release.json needs string fields "version" and "rc"');
}

try {
  await rm(distDir, { recursive: true, force: true });
  await cp(srcDir, distDir, { recursive: true });
} catch (err) {
  fail(`cannot copy frontend/ to dist/: ${err.message}`);
}

const indexFile = path.join(distDir, 'index.html');
const html = await readFile(indexFile, 'utf8').catch((err) => fail(`cannot read dist/index.html: ${err.message}`));
if (!html.includes('{{VERSION}}')) fail('frontend/index.html has no {{VERSION}} placeholder');
await writeFile(indexFile, html.replaceAll('{{VERSION}}', release.version).replaceAll('{{RC}}', release.rc));

console.log(`built dist/ for version ${release.version} (${release.rc})`);
