/**
 * The masker hides every form a secret takes on its way out (issue 10, security 2): as is,
 * base64 (standard / URL-safe, padded or not, inside a longer base64 text), hex (both cases),
 * percent-encoding (both cases, + for space, the WHATWG URL serializer's output), JSON-escaped.
 * In-process: each form is produced by the encoder a program would use, never by the masker.
 */
import { describe, expect, it } from 'vitest';
import { MASK, Masker } from '../src/core/masker.js';

const SECRET = 'Summer 2026%off/ä+&=?#xy'; // 25 bytes: its base64 is padded
const masker = new Masker();
masker.add(SECRET);

function hidden(form: string, around = (f: string) => `before ${f} after`): void {
  expect(form).not.toBe(SECRET); // the encoding really changed it (except where noted)
  const line = around(form);
  const out = masker.mask(line);
  expect(out, `form ${JSON.stringify(form)} passed through`).not.toContain(form);
  expect(out).toContain(MASK);
}

const bytes = Buffer.from(SECRET, 'utf8');
const lowerPercent = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

describe('masker: every encoding of a secret', () => {
  it('as is, and inside JSON', () => {
    expect(masker.mask(`x ${SECRET} y`)).toBe(`x ${MASK} y`);
    const doc = JSON.stringify({ token: SECRET, n: 1 });
    expect(masker.mask(doc)).toBe(`{"token":"${MASK}","n":1}`);
  });

  it('base64: standard and URL-safe, padded and not', () => {
    const std = bytes.toString('base64');
    const url = bytes.toString('base64url');
    expect(std).toContain('='); // the case with padding is covered
    hidden(std);
    hidden(std.replace(/=+$/, ''));
    hidden(url);
    hidden(url + '='.repeat((4 - (url.length % 4)) % 4));
  });

  it('base64 of the secret inside a longer text (an Authorization: Basic header), at each of the 3 offsets', () => {
    for (const user of ['a', 'ab', 'abc']) {
      const header = Buffer.from(`${user}:${SECRET}`).toString('base64');
      const out = masker.mask(`Authorization: Basic ${header}`);
      expect(out, `user ${user}`).toContain(MASK);
      // What is left of the header cannot be decoded back to the secret, not even to half of it.
      expect(Buffer.from(out.replace('Authorization: Basic ', '').replace(MASK, ''), 'base64').toString('utf8')).not.toContain(SECRET.slice(0, 10));
    }
  });

  it('hex, lower and upper case', () => {
    hidden(bytes.toString('hex'));
    hidden(bytes.toString('hex').toUpperCase());
  });

  it('percent-encoding: encodeURIComponent, encodeURI, both hex cases', () => {
    hidden(encodeURIComponent(SECRET));
    hidden(lowerPercent(encodeURIComponent(SECRET)));
    hidden(encodeURI(SECRET));
    hidden(lowerPercent(encodeURI(SECRET)));
  });

  it('form encoding (URLSearchParams: + for space), both hex cases', () => {
    const form = new URLSearchParams({ p: SECRET }).toString().slice(2);
    expect(form).toContain('+');
    hidden(form);
    hidden(lowerPercent(form));
  });

  it('the WHATWG URL serializer: path, query, fragment, userinfo (e.g. Summer%202026%off)', () => {
    const path = new URL(`http://127.0.0.1/${'Summer 2026%off'}`).href;
    expect(path).toBe('http://127.0.0.1/Summer%202026%off');
    const m = new Masker();
    m.add('Summer 2026%off');
    expect(m.mask(`GET ${path}: 500`)).toBe(`GET http://127.0.0.1/${MASK}: 500`);
    const u = new URL('http://127.0.0.1/');
    u.pathname = `/a/${SECRET}`;
    hidden(u.pathname.slice(3));
    const q = new URL(`http://127.0.0.1/x?t=${SECRET.replace('#', '')}`);
    const qm = new Masker();
    qm.add(SECRET.replace('#', ''));
    expect(qm.mask(q.href)).not.toContain(q.search.slice(3));
    expect(qm.mask(q.href)).toContain(MASK);
    const f = new URL(`http://127.0.0.1/x#${SECRET}`);
    hidden(f.hash.slice(1));
    const userinfo = new URL('http://127.0.0.1/');
    userinfo.username = 'u';
    userinfo.password = SECRET;
    hidden(userinfo.password);
    hidden(userinfo.href.split('@')[0]!.slice('http://u:'.length));
  });

  it('JSON-escaped: as JSON.stringify writes it, with \\u escapes for non-ASCII (either case) and \\/ for /', () => {
    const json = JSON.stringify(SECRET).slice(1, -1);
    const ascii = json.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
    const m = new Masker();
    const quoted = 'he said "hi"\\ and left';
    m.add(quoted);
    const q = JSON.stringify({ v: quoted });
    expect(m.mask(q)).toBe(`{"v":"${MASK}"}`);
    hidden(ascii);
    hidden(ascii.replace(/\\u([0-9a-f]{4})/g, (_, h: string) => '\\u' + h.toUpperCase()));
    hidden(json.replace(/\//g, '\\/'));
  });

  it('a URL host is lower-cased by the serializer: that form is masked too', () => {
    const m = new Masker();
    m.add('TopSecretHost');
    expect(m.mask(new URL('http://TopSecretHost.example/').href)).toBe(`http://${MASK}.example/`);
  });

  it('values under the minimum length are left alone; ordinary text is untouched', () => {
    const m = new Masker();
    m.add('abc');
    expect(m.size).toBe(0);
    m.add('a-long-enough-secret');
    expect(m.mask('nothing secret here: 2026 %20 + abc')).toBe('nothing secret here: 2026 %20 + abc');
  });

  it('cost is one combined pattern: adding a value twice adds nothing, and masking stays correct with many secrets', () => {
    const m = new Masker();
    m.add('first-secret-value');
    const size = m.size;
    m.add('first-secret-value');
    expect(m.size).toBe(size);
    const many = Array.from({ length: 200 }, (_, i) => `secret-number-${i}-${'x'.repeat(i % 7)}`);
    for (const v of many) m.add(v);
    const line = many.map((v) => Buffer.from(v).toString('hex')).join(' ');
    expect(m.mask(line).split(' ').every((w) => w === MASK)).toBe(true);
  });
});
