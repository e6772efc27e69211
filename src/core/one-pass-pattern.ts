/**
 * Recognises the patterns that V8's backtracking engine runs in linear time with the same meaning
 * as RE2, so that they need not load RE2 (re2js: about 7 ms of loading and compiling, issue 17):
 * anchored at the start (`^`), no group, no alternation, and at most one repeat of variable length
 * (`*`, `+`, `?`, `{n,}`, `{n,m}`; fixed `{n}` are free). Anchored, the match is tried from one
 * position only, and the single variable repeat is the only place to backtrack into: each of its
 * at most n positions retries the fixed rest of the pattern once. The atoms are ASCII literals,
 * `\d`, `\w`, escaped punctuation and bracket classes of those, which mean the same in both
 * engines (no `.`, `\s` or `\b`, whose edges differ). Everything else goes to RE2.
 */
const LITERAL = /[A-Za-z0-9_ :/@=,%#&~<>'"!;-]/;
const ESCAPE = /\\[dw.\-/+*?()[\]{}^$|\\]/y;
const COUNT = /\{(\d{1,4})(,(\d{0,4}))?\}\??/y;
const SIMPLE_QUANTIFIER = /[*+?]\??/y;
/** RE2 refuses a repeat count over 1000; such patterns go to RE2 to be refused with its reason. */
const MAX_COUNT = 1000;

function matchAt(re: RegExp, s: string, i: number): string | undefined {
  re.lastIndex = i;
  return re.exec(s)?.[0];
}

const CLASS_CHAR = /[A-Za-z0-9_.:/@=,+]/;
const ALNUM = /[A-Za-z0-9]/;
const CLASS_ESCAPE = /\\[dw.\-\]\\]/y;

/**
 * A bracket class at `i` whose meaning both engines agree on, as written; else undefined. Ranges
 * only between two letters or two digits in order (`a-z`, `0-9`): `[y-9]` is an error in both, and
 * `[a-\d]` is a range error in RE2 but three items in JavaScript. A `-` stands for itself only
 * first or last.
 */
function bracketClass(s: string, start: number): string | undefined {
  if (s[start] !== '[') return undefined;
  let i = start + 1;
  if (s[i] === '^') i++;
  const first = i;
  while (i < s.length && s[i] !== ']') {
    const esc = matchAt(CLASS_ESCAPE, s, i);
    if (esc) {
      i += esc.length;
      continue;
    }
    const c = s[i]!;
    if (c === '-') {
      if (i !== first && s[i + 1] !== ']') return undefined;
      i++;
      continue;
    }
    if (!CLASS_CHAR.test(c)) return undefined;
    if (s[i + 1] === '-' && s[i + 2] !== undefined && s[i + 2] !== ']') {
      const to = s[i + 2]!;
      const sameKind = (/[a-z]/.test(c) && /[a-z]/.test(to)) || (/[A-Z]/.test(c) && /[A-Z]/.test(to)) || (/[0-9]/.test(c) && /[0-9]/.test(to));
      if (!ALNUM.test(c) || !sameKind || to < c) return undefined;
      i += 3;
      continue;
    }
    i++;
  }
  if (s[i] !== ']' || i === first) return undefined;
  return s.slice(start, i + 1);
}

export function isOnePassPattern(source: string): boolean {
  if (!source.startsWith('^') || source.length > 200) return false;
  let i = 1;
  let variableRepeats = 0;
  const end = source.endsWith('$') && !source.endsWith('\\$') ? source.length - 1 : source.length;
  while (i < end) {
    const atom = matchAt(ESCAPE, source, i) ?? bracketClass(source, i) ?? (LITERAL.test(source[i]!) ? source[i] : undefined);
    if (atom === undefined) return false;
    i += atom.length;
    const simple = matchAt(SIMPLE_QUANTIFIER, source, i);
    if (simple !== undefined) {
      variableRepeats++;
      i += simple.length;
      continue;
    }
    COUNT.lastIndex = i;
    const count = COUNT.exec(source);
    if (count) {
      const lo = Number(count[1]);
      const hi = count[3] === undefined || count[3] === '' ? undefined : Number(count[3]);
      if (lo > MAX_COUNT || (hi !== undefined && (hi > MAX_COUNT || hi < lo))) return false;
      if (count[2] !== undefined) variableRepeats++;
      i += count[0].length;
    }
  }
  return i === end && variableRepeats <= 1;
}
