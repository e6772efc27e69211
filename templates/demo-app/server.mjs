// LifeTimeCircle Service Heft demo server: health/info API plus the built frontend from dist/.
// No dependencies; Node >= 20.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const appDir = path.dirname(fileURLToPath(import.meta.url));
const distDir = path.join(appDir, 'dist');
const releaseFile = path.join(appDir, 'release.json');
// A regression on purpose (release.json error_every n): every n-th /api/info answers 500.
const errorEvery = await readFile(releaseFile, 'utf8').then((t) => Number(JSON.parse(t).error_every) || 0, () => 0);
let infoRequests = 0;

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 8080);
// Secrets are read but never printed; only whether they are set is reported.
const secretKey = process.env.LTC_SECRET_KEY || '';
const databaseUrl = process.env.DATABASE_URL || '';

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

// Prometheus metrics (text exposition format, no dependencies): requests by route and status,
// and a latency histogram. /metrics itself is not counted.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const requestCounts = new Map();
const durations = { buckets: BUCKETS.map(() => 0), count: 0, sum: 0 };

function routeOf(pathname) {
  if (pathname.startsWith('/api/')) return ['/api/health', '/api/info', '/api/debug/secret-hash'].includes(pathname) ? pathname : '/api/other';
  return 'static';
}

function observe(method, pathname, status, seconds) {
  const key = `method="${method}",route="${routeOf(pathname)}",status="${status}"`;
  requestCounts.set(key, (requestCounts.get(key) || 0) + 1);
  BUCKETS.forEach((le, i) => {
    if (seconds <= le) durations.buckets[i]++;
  });
  durations.count++;
  durations.sum += seconds;
}

function metricsText() {
  const lines = ['# HELP http_requests_total HTTP requests by method, route and status.', '# TYPE http_requests_total counter'];
  for (const [key, n] of requestCounts) lines.push(`http_requests_total{${key}} ${n}`);
  lines.push('# HELP http_request_duration_seconds HTTP request latency.', '# TYPE http_request_duration_seconds histogram');
  BUCKETS.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket{le="${le}"} ${durations.buckets[i]}`));
  lines.push(`http_request_duration_seconds_bucket{le="+Inf"} ${durations.count}`);
  lines.push(`http_request_duration_seconds_sum ${durations.sum}`, `http_request_duration_seconds_count ${durations.count}`);
  return lines.join('\n') + '\n';
}

function log(level, message) {
  process.stdout.write(`${new Date().toISOString()} ${level} ${message}\n`);
}

function send(res, status, body, contentType = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

function sendJson(res, status, value) {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');
}

async function health(res) {
  let release;
  try {
    release = JSON.parse(await readFile(releaseFile, 'utf8'));
  } catch (err) {
    log('ERROR', `health: cannot read release.json: ${err.message}`);
    return sendJson(res, 500, { status: 'error' });
  }
  if (release.health === 'broken') {
    log('ERROR', `health: release ${release.version} (${release.rc}) is marked "health":"broken"`);
    return sendJson(res, 500, { status: 'error' });
  }
  const body = { status: 'ok', version: release.version, rc: release.rc };
  const commit = process.env.LTC_COMMIT || release.commit;
  if (commit) body.commit = commit;
  return sendJson(res, 200, body);
}

async function isFile(file) {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function staticFile(res, pathname) {
  if (!(await stat(distDir).catch(() => null))) {
    return send(res, 503, 'Frontend not built: dist/ is missing - run npm run build\n');
  }
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return send(res, 400, 'Bad request\n');
  }
  const file = path.resolve(distDir, '.' + (decoded.endsWith('/') ? decoded + 'index.html' : decoded));
  if (decoded.includes('\0') || !file.startsWith(distDir + path.sep)) {
    return send(res, 403, 'Forbidden\n');
  }
  const target = (await isFile(file)) ? file : path.join(file, 'index.html');
  if (!(await isFile(target))) return send(res, 404, 'Not found\n');
  const type = CONTENT_TYPES[path.extname(target).toLowerCase()] || 'application/octet-stream';
  return send(res, 200, await readFile(target), type);
}

async function handle(req, res) {
  const { pathname } = new URL(req.url || '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, 'Method not allowed\n');
  }
  if (pathname === '/metrics') return send(res, 200, metricsText(), 'text/plain; version=0.0.4; charset=utf-8');
  if (pathname === '/api/health') return health(res);
  if (pathname === '/api/info') {
    infoRequests++;
    if (errorEvery && infoRequests % errorEvery === 0) {
      log('ERROR', `info: request ${infoRequests} failed (release.json error_every ${errorEvery})`);
      return sendJson(res, 500, { error: 'internal error' });
    }
    return sendJson(res, 200, { secret_key_loaded: secretKey !== '' });
  }
  // Which LTC_SECRET_KEY the process started with: a short SHA-256 of it, never the value.
  if (pathname === '/api/debug/secret-hash') {
    return sendJson(res, 200, { LTC_SECRET_KEY: secretKey ? createHash('sha256').update(secretKey).digest('hex').slice(0, 16) : null });
  }
  if (pathname.startsWith('/api/')) return sendJson(res, 404, { error: 'not found' });
  return staticFile(res, pathname);
}

const server = http.createServer((req, res) => {
  const started = Date.now();
  // Log the path only: query strings may carry tokens.
  const pathname = (req.url || '/').split('?')[0];
  res.on('finish', () => {
    if (pathname === '/metrics') return;
    observe(req.method, pathname, res.statusCode, (Date.now() - started) / 1000);
    const level = res.statusCode >= 500 ? 'ERROR' : 'INFO';
    log(level, `${req.method} ${pathname} ${res.statusCode} ${Date.now() - started}ms`);
  });
  handle(req, res).catch((err) => {
    log('ERROR', `unhandled: ${err.message}`);
    if (!res.headersSent) send(res, 500, 'Internal error\n');
    else res.end();
  });
});

server.on('error', (err) => {
  log('ERROR', `server error: ${err.message}`);
  process.exit(1);
});

function shutdown(signal) {
  log('INFO', `${signal} received, shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(1), 5000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  log('ERROR', `invalid PORT: ${process.env.PORT}`);
  process.exit(1);
}

server.listen(port, host, () => {
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  log('INFO', `LTC_SECRET_KEY ${secretKey ? 'set' : 'not set'}, DATABASE_URL ${databaseUrl ? 'set' : 'not set'}`);
  log('INFO', `listening on http://${host}:${actualPort}`);
});
