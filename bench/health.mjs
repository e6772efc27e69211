// `ltc health` over 100 endpoints (100 local ports, each answering after 200 ms) against one
// `curl --parallel` over the same URLs, interleaved in one run. Both are whole processes timed
// until they exit. Goal: ≤ 1.5× curl.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { LTC, emit, interleave, timeProcess } from './lib.mjs';

const N = 100;
const DELAY_MS = 200;

// The servers live in their own process: the timing below uses spawnSync, which blocks this one.
const serverScript = `
const http = require('node:http');
const ports = [];
let pending = ${N};
for (let i = 0; i < ${N}; i++) {
  const s = http.createServer((req, res) => setTimeout(() => { res.setHeader('content-type', 'application/json'); res.end('{"status":"ok"}'); }, ${DELAY_MS}));
  s.listen(0, '127.0.0.1', () => { ports[i] = s.address().port; if (--pending === 0) console.log(JSON.stringify(ports)); });
}
`;
const servers = spawn(process.execPath, ['-e', serverScript], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = await once(createInterface({ input: servers.stdout }), 'line');
const ports = JSON.parse(line);

try {
  const urls = ports.map((p) => `http://127.0.0.1:${p}/api/health`);
  const env = { ...process.env, NO_COLOR: '1', LTC_CONFIG: '', LTC_ENV: '' };
  const ltc = [process.execPath, LTC, 'health', ...urls.flatMap((u) => ['--url', u]), '--json'];
  const curl = ['curl', '--silent', '--fail', '--parallel', '--parallel-immediate', '--parallel-max', String(N), ...urls.flatMap((u) => ['-o', '/dev/null', u])];
  const t = await interleave({
    ltc: () => timeProcess(ltc, { env }),
    curl: () => timeProcess(curl, { env }),
  });
  emit('health', [{ case: `ltc health, ${N} endpoints answering after ${DELAY_MS} ms`, ltc: t.ltc, floorName: 'curl --parallel, same URLs', floor: t.curl, goal: 1.5 }]);
} finally {
  servers.kill('SIGTERM');
}
