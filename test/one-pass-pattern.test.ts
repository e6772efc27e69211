import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { isOnePassPattern } from '../src/core/one-pass-pattern.ts';
import { userRegex, userRegexProblem } from '../src/core/user-regex.ts';

// Patterns that V8 may run itself (anchored, no group or alternation, one variable repeat at most)
// and those that must go to RE2.
const ONE_PASS = ['^[a-z][a-z0-9-]*$', '^[-a-z]+$', '^[A-Z_][A-Z0-9_-]', '^[^a-c.]x', '^rc-\\d{4}-\\d{2}-\\d{2}$', '^rc-[0-9]{4}-[0-9]{2}-[0-9]{2}\\.?$', '^[A-Z_][A-Z0-9_]{0,63}$', '^v\\d+', '^ok$', '^[^/]+$', '^a{2}b{3}c+$'];
const NOT_ONE_PASS = [
  '^(a+)+$', // a group
  'a*b', // not anchored: tried from every position
  '^a*a*$', // two variable repeats: polynomial backtracking
  '^a+b?$',
  '^a|b', // alternation
  '^.*$', // `.` differs at line ends
  '^\\s+$', // \s differs (Unicode spaces)
  '^\\bword',
  '^a{1001}', // over RE2's limit: RE2 refuses it with its reason
  '^a{3,2}',
  '^a**',
  '^\\u0041',
  '^a\\1',
  '^v[0body-9]+', // y-9: out of order in both engines
  '^[a-\\d]', // a range in RE2 (an error), three items in JavaScript
  '^[z-a]',
  '^[a-Z]',
  '^[]a]',
  '^[a',
];

/** Small strings over the characters these patterns care about, deterministic. */
function* samples(): Generator<string> {
  const alphabet = ['a', 'b', 'c', 'z', 'A', 'Z', '_', '-', '.', '/', '0', '9', ' ', '\n', 'é', 'r', 'v', 'k', 'o'];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let i = 0; i < 3000; i++) {
    const len = next() % 14;
    let s = '';
    for (let j = 0; j < len; j++) s += alphabet[next() % alphabet.length];
    yield s;
  }
  yield* ['rc-2026-03-01', 'rc-2026-03-01.', 'aabbbccc', 'ok', 'v12', 'ENV_NAME', 'staging', 'prod-eu-1'];
}

describe('one-pass user patterns run on V8 without loading RE2, with the same answers', () => {
  it('recognises the one-pass shape and nothing else', () => {
    for (const p of ONE_PASS) expect(isOnePassPattern(p), p).toBe(true);
    for (const p of NOT_ONE_PASS) expect(isOnePassPattern(p), p).toBe(false);
  });

  it('a one-pass pattern matches exactly what RE2 matches', () => {
    for (const p of ONE_PASS) {
      const re2 = RE2JS.compile(p);
      const ours = userRegex(p);
      for (const s of samples()) expect(ours.test(s), `${p} on ${JSON.stringify(s)}`).toBe(re2.test(s));
    }
  });

  it('fuzzed: every pattern taken as one-pass compiles in both engines and matches what RE2 matches', () => {
    const parts = ['a', 'z', 'A', '0', '9', '-', '_', '.', '[', ']', '^', '$', '*', '+', '?', '{', '}', '2', ',', '\\d', '\\w', '\\.', '\\-', '(', ')', '|', 'a-z', '0-9', 'y-9', '\\'];
    let seed = 11;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const texts = [...samples()].slice(0, 80);
    let taken = 0;
    for (let n = 0; n < 8000; n++) {
      let p = '^';
      const len = 1 + (next() % 8);
      for (let j = 0; j < len; j++) p += parts[next() % parts.length];
      if (!isOnePassPattern(p)) continue;
      taken++;
      expect(() => new RegExp(p), p).not.toThrow();
      const re2 = RE2JS.compile(p);
      const js = new RegExp(p);
      for (const t of texts) expect(js.test(t), `${p} on ${JSON.stringify(t)}`).toBe(re2.test(t));
    }
    expect(taken).toBeGreaterThan(200);
  });

  it('patterns outside the shape still go to RE2: refused ones keep their reason, backtracking ones stay linear', () => {
    expect(userRegexProblem('^a{1001}')).toMatch(/repeat count/);
    expect(userRegexProblem('^a\\1')).toMatch(/backreference/);
    expect(userRegex('^(a+)+$').test(`${'a'.repeat(41)}!`)).toBe(false);
    expect(userRegex('^a*a*$').test(`${'a'.repeat(5000)}!`)).toBe(false);
  });
});
