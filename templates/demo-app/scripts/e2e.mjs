// End-to-end check: starts server.mjs on a free loopback port, checks /api/health and /, stops it.
// Needs a prior `npm run build`. Exit 0 when every check passes, 1 otherwise. Loopback traffic only.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const TITLE = 'LifeTimeCircle Service Heft';

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const port = await freePort();
const base = `http://${HOST}:${port}`;
let output = '';
let exited = false;
const server = spawn(process.execPath, [path.join(appDir, 'server.mjs')], {
  cwd: appDir,
  env: { ...process.env, PORT: String(port), HOST },
  stdio: ['ignore', 'pipe', 'pipe'],
});
server.stdout.on('data', (chunk) => (output += chunk));
server.stderr.on('data', (chunk) => (output += chunk));
const exitPromise = new Promise((resolve) => server.once('exit', (code, signal) => {
  exited = true;
  resolve({ code, signal });
}));

let failures = 0;
function report(ok, name, detail) {
  if (!ok) failures += 1;
  console.log(`${ok ? 'ok  ' : 'FAIL'} - ${name}${detail ? `: ${detail}` : ''}`);
}

async function waitForServer(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited) {
    try {
      await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(1000) });
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}

async function check(name, fn) {
  try {
    const detail = await fn();
    report(true, name, detail);
  } catch (err) {
    report(false, name, err.message);
  }
}

try {
  const up = await waitForServer(10_000);
  report(up, `server answers on ${base}`, up ? '' : `no answer within 10s${exited ? ' (server exited)' : ''}`);
  if (up) {
    await check('GET /api/health -> 200 {"status":"ok"}', async () => {
      const res = await fetch(`${base}/api/health`);
      const text = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status} ${text}`);
      const body = JSON.parse(text);
      if (body.status !== 'ok') throw new Error(`status is ${JSON.stringify(body.status)}`);
      return `version ${body.version} (${body.rc})`;
    });
    await check(`GET / -> 200 with title "${TITLE}"`, async () => {
      const res = await fetch(`${base}/`);
      const text = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status} ${text.trim()}`);
      if (!text.includes(TITLE)) throw new Error('title not found in page');
      return '';
    });
  }
} finally {
  if (!exited) server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
  const { code, signal } = await exitPromise;
  clearTimeout(timer);
  if (process.platform !== 'win32') {
    report(code === 0, 'server exits 0 on SIGTERM', code === 0 ? '' : `code ${code}, signal ${signal}`);
  }
}

if (failures > 0) {
  console.log(`\ne2e failed: ${failures} check(s) failed. Server output:\n${output}`);
  process.exit(1);
}
console.log('\ne2e passed');
