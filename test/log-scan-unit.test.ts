/** The log scan's test of "an access log line of ltc's health probe" (src/deploy/verify.ts mentionsPath). */
import { describe, expect, it } from 'vitest';
import { linesToScan, mentionsPath } from '../src/deploy/verify.ts';

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

describe('the lines of the log the scan reads', () => {
  const probe = 'INFO "GET /api/health HTTP/1.1" 503';
  const lines = (text: string, from: number, greenAt: number | undefined) => linesToScan({ text, from }, greenAt, ['/api/health']);

  it('leaves out the probe lines that ended before green, keeps the same line after it and every other line', () => {
    const before = `${probe}\nERROR boot 500\n${probe}\n`;
    const text = `${before}${probe}\n2026-12-07T10:00:00Z ltc: started\n`;
    expect(lines(text, 0, Buffer.byteLength(before))).toEqual({ lines: ['ERROR boot 500', probe], probes: 2 });
    // No green known (it never went green): nothing is left out.
    expect(lines(text, 0, undefined).probes).toBe(0);
  });

  it('a log longer than what is read: green is found inside the newest bytes, counted from where they start', () => {
    // The window starts 10 MiB into the log, mid-line; green lies 2 probe lines into it.
    const from = 10 << 20;
    const text = `alth HTTP/1.1" 503\n${probe}\n${probe}\n`;
    const greenAt = from + Buffer.byteLength(`alth HTTP/1.1" 503\n${probe}\n`);
    expect(lines(text, from, greenAt)).toEqual({ lines: ['alth HTTP/1.1" 503', probe], probes: 1 });
    // Green before the window: every line in it is after green and scanned.
    expect(lines(text, from, from - 1)).toEqual({ lines: ['alth HTTP/1.1" 503', probe, probe], probes: 0 });
  });

  it('counts bytes, not characters: a line of multi-byte text before green', () => {
    const before = `Grüße ✓ ${probe}\n`;
    const text = `${before}${probe}\n`;
    expect(lines(text, 0, Buffer.byteLength(before))).toEqual({ lines: [probe], probes: 1 });
  });
});
