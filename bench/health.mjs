// `ltc health` against 100 endpoints that each answer after 200 ms, compared with one probe.
// Target: one run over 100 endpoints takes ≤ 2× a run with a single endpoint (probes run
// concurrently, each on its own undici connection). A second row probes 100 paths on ONE
// origin, which would queue behind undici's pool if connections were pooled and limited.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { LTC, compare, report } from './lib.mjs';

const N = 100;
const DELAY_MS = 200;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

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
  const sameOrigin = Array.from({ length: N }, (_, i) => `http://127.0.0.1:${ports[0]}/api/health/${i}`);
  const ltc = (list) => [process.execPath, LTC, 'health', ...list.flatMap((u) => ['--url', u]), '--json'];
  const env = { NO_COLOR: '1', LTC_CONFIG: '', LTC_ENV: '' };
  const t = compare(
    {
      single: ltc(urls.slice(0, 1)),
      hundred: ltc(urls),
      sameOrigin: ltc(sameOrigin),
    },
    RUNS,
    { env, expectExit: 0 },
  );
  report(`ltc health: ${N} endpoints answering after ${DELAY_MS} ms (median of ${RUNS} runs)`, [
    { name: 'one endpoint (ltc health --url <one>)', value: t.single, unit: ' ms', digits: 0 },
    { name: `${N} endpoints on ${N} ports`, value: t.hundred, unit: ' ms', digits: 0 },
    { name: `${N} endpoints on one origin (no pool queuing)`, value: t.sameOrigin, unit: ' ms', digits: 0 },
    { name: `ratio ${N} ports / one`, value: t.hundred / t.single, unit: '×', target: 2 },
    { name: `ratio ${N} paths on one origin / one`, value: t.sameOrigin / t.single, unit: '×', target: 2 },
  ]);
  if (t.hundred / t.single > 2 || t.sameOrigin / t.single > 2) process.exitCode = 1;
} finally {
  servers.kill('SIGTERM');
}
