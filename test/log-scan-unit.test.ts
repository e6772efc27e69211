/** The log scan's test of "an access log line of ltc's health probe" (src/deploy/verify.ts mentionsPath). */
import { describe, expect, it } from 'vitest';
import { mentionsPath } from '../src/deploy/verify.ts';

describe('an access log line of a health probe', () => {
  it('Uvicorn, the demo app and common formats: a GET or HEAD of the path', () => {
    expect(mentionsPath('INFO:     127.0.0.1:50000 - "GET /api/health HTTP/1.1" 503 Service Unavailable', '/api/health')).toBe(true);
    expect(mentionsPath('2026-12-07T15:17:48.995Z INFO GET / 200 2ms', '/')).toBe(true);
    expect(mentionsPath('127.0.0.1 - - [07/Dec/2026:15:17:48 +0000] "HEAD /healthz?probe=1 HTTP/1.1" 503 0', '/healthz')).toBe(true);
    expect(mentionsPath('GET /api/health', '/api/health')).toBe(true);
  });

  it('any other line that holds the path is scanned: an error, another path, another method', () => {
    expect(mentionsPath('2026-12-07 ERROR 1 / 4 workers failed to boot', '/')).toBe(false);
    expect(mentionsPath('ERROR cannot reach /api/health dependency: database', '/api/health')).toBe(false);
    expect(mentionsPath('"GET /api/healthz HTTP/1.1" 500', '/api/health')).toBe(false);
    expect(mentionsPath('"GET /api/health/db HTTP/1.1" 500', '/api/health')).toBe(false);
    expect(mentionsPath('"POST /api/health HTTP/1.1" 500', '/api/health')).toBe(false);
    expect(mentionsPath('"GET /api/info HTTP/1.1" 500', '/')).toBe(false);
    expect(mentionsPath('FORGET /api/health', '/api/health')).toBe(false);
  });
});
