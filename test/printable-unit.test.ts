/** What ltc shows of outside text on a terminal (src/core/printable.ts). */
import { describe, expect, it } from 'vitest';
import { plainLine, printable, printableLine } from '../src/core/printable.ts';

describe('printable', () => {
  it('escapes control characters and bidi overrides, keeps newline and tab', () => {
    expect(printable('a\u001b[2Jb\u202ec\nd\te\u0085')).toBe('a\\u001b[2Jb\\u202ec\nd\te\\u0085');
  });

  it('escapes characters that show nothing, so two names that look alike are told apart', () => {
    const invisible = ['\u00ad', '\u034f', '\u061c', '\u115f', '\u1160', '\u17b4', '\u180e', '\u200b', '\u2060', '\u2063', '\u3164', '\ufeff', '\uffa0', '\ufff9', '\ufffb', '\u206a', '\u206f', '\ufe00', '\u180b', '\u070f'];
    for (const c of invisible) {
      const code = c.charCodeAt(0).toString(16).padStart(4, '0');
      expect(printable(`ad${c}min`), `U+${code}`).toBe(`ad\\u${code}min`);
    }
    expect(printable('tag\u{e0041}\u{e007f}')).toBe('tag\\u{e0041}\\u{e007f}');
    expect(printable('a\u{1d173}b\u{e0100}c\u{1bca0}')).toBe('a\\u{1d173}b\\u{e0100}c\\u{1bca0}');
  });

  it('escapes a lone surrogate, keeps a pair (an emoji) and the joiners scripts and emoji need', () => {
    expect(printable('x\ud800y\udc00z')).toBe('x\\ud800y\\udc00z');
    expect(printable('ok \u{1f680} \u2764\ufe0f \u{1f468}\u200d\u{1f4bb} \u0645\u200c\u06cc')).toBe('ok \u{1f680} \u2764\ufe0f \u{1f468}\u200d\u{1f4bb} \u0645\u200c\u06cc');
    expect(printable('Jürgen Groß, 東京')).toBe('Jürgen Groß, 東京');
  });

  it('a kept line (a sign-off name, an incident title) with an invisible character is refused', () => {
    expect(() => plainLine('--by', 'J\u200bane')).toThrow(/holds a control character/);
    expect(plainLine('--by', 'Jane Doe')).toBe('Jane Doe');
    expect(printableLine('a\nb')).toBe('a\\nb');
  });
});
