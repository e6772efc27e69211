// Runs every check of the demo app (Node twin of tools/test_all.ps1): ist_check, build, e2e.
// Prints a summary and exits 1 if any step failed.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STEPS = [
  ['ist_check', 'tools/ist_check.mjs'],
  ['build', 'scripts/build.mjs'],
  ['e2e', 'scripts/e2e.mjs'],
];

const results = [];
let failed = false;
for (const [name, script] of STEPS) {
  if (failed) {
    results.push([name, 'SKIPPED', '']);
    continue;
  }
  console.log(`\n=== ${name}: node ${script}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [path.join(appDir, script)], { cwd: appDir, stdio: 'inherit' });
  const seconds = `${((Date.now() - started) / 1000).toFixed(1)}s`;
  const ok = run.status === 0;
  if (!ok) failed = true;
  results.push([name, ok ? 'PASS' : `FAIL (exit ${run.status ?? run.signal ?? run.error?.message})`, seconds]);
}

console.log('\n=== summary');
for (const [name, result, seconds] of results) console.log(`${name.padEnd(10)} ${result.padEnd(16)} ${seconds}`);
console.log(failed ? '\ntest_all failed' : '\ntest_all passed');
process.exit(failed ? 1 : 0);
