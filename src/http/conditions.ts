/**
 * Gatus-style conditions for HTTP probes.
 *
 *   status == 200                 (also !=, <, <=, >, >=)
 *   response_time < 500           milliseconds (or a duration: 1.5s)
 *   body.status == "ok"           a JSON path into the body: body.a.b[0].c, body["key with space"]
 *   body contains "LifeTimeCircle"   (and: body not contains "…")
 *   body matches "^ok( |$)"       an RE2 pattern, linear time (and: body not matches "…"); docs/patterns.md
 *   certificate_expiration > 14d  time left on the server's TLS certificate (https only)
 *
 * Gatus' own spelling is accepted too: [STATUS], [RESPONSE_TIME], [BODY].status,
 * [CERTIFICATE_EXPIRATION]. Conditions are parsed up front (`parseCondition`); a condition that
 * does not parse is a ConfigError naming it. Evaluation is pure: it takes what a probe observed.
 */
import { ConfigError } from '../core/errors.js';
import { durationMs, formatDuration } from '../core/duration.js';
import { userRegex, userRegexProblem } from '../core/user-regex.js';

export type Operator = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | 'not contains' | 'matches' | 'not matches';
export type Literal = string | number | boolean | null;
export type PathSegment = string | number;

export type Subject =
  | { kind: 'status' }
  | { kind: 'response_time' }
  | { kind: 'certificate_expiration' }
  | { kind: 'body' }
  | { kind: 'body_path'; path: PathSegment[] };

export interface Condition {
  /** The condition as written. */
  source: string;
  subject: Subject;
  op: Operator;
  /** Milliseconds for response_time and certificate_expiration. */
  value: Literal;
}

export interface ConditionResult {
  condition: string;
  ok: boolean;
  /** What was observed: the status, the latency in ms, the JSON value, time left on the certificate… */
  actual: unknown;
  /** Why it failed (absent when ok). */
  message?: string;
}

/** What one probe attempt observed; the input of `evaluateConditions`. */
export interface Observation {
  /** null when no response came (see `error`). */
  status: number | null;
  /** Time to the end of the body, ms. */
  responseTimeMs: number | null;
  body: string | null;
  /** The body was longer than the cap and was cut. */
  bodyTruncated?: boolean;
  isHttps: boolean;
  /** `valid_to` of the peer certificate (https only). */
  certificateExpiresAt?: Date | null;
  /** Why there is no response (connection refused, timeout, …). */
  error?: string;
  /** For tests: the current time in ms. */
  now?: number;
}

export const CONDITION_EXAMPLES =
  'status == 200, response_time < 500, body.status == "ok", body contains "text", certificate_expiration > 14d';

const COMPARISONS: readonly Operator[] = ['==', '!=', '<', '<=', '>', '>='];

class ParseFailure extends Error {}

function fail(reason: string): never {
  throw new ParseFailure(reason);
}

/** A double-quoted string with JSON escapes (\n, \", \u0041); a bad escape or a raw control character is a parse failure. */
function jsonString(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    const bad = /\\(?!["\\/bfnrt]|u[0-9a-fA-F]{4})./.exec(quoted);
    // eslint-disable-next-line no-control-regex
    const control = /[\u0000-\u001f]/.exec(quoted);
    if (bad) fail(`bad escape ${bad[0]} in ${quoted}: strings take JSON escapes (\\n, \\", \\\\, \\u0041)`);
    if (control) fail(`a control character (U+${control[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}) in the string: write it as an escape, e.g. \\u0009`);
    fail(`cannot read the string ${quoted}`);
  }
}

/** Parses a JSON path after `body`: `.a.b[0].c`, `["odd key"]`. Empty string → []. */
export function parseJsonPath(text: string): PathSegment[] {
  const path: PathSegment[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '.') {
      const m = /^[A-Za-z_$][\w$-]*/.exec(text.slice(i + 1));
      if (!m) fail(`expected a key name after "." at "${text.slice(i)}"`);
      path.push(m[0]);
      i += 1 + m[0].length;
    } else if (ch === '[') {
      const rest = text.slice(i);
      const index = /^\[(\d+)\]/.exec(rest);
      const quoted = /^\[("(?:[^"\\]|\\.)*"|'[^']*')\]/.exec(rest);
      if (index) {
        path.push(Number(index[1]));
        i += index[0].length;
      } else if (quoted) {
        const q = quoted[1]!;
        path.push(q.startsWith('"') ? jsonString(q) : q.slice(1, -1));
        i += quoted[0].length;
      } else fail(`expected [<index>] or ["key"] at "${rest}"`);
    } else fail(`unexpected "${text.slice(i)}" in the JSON path`);
  }
  return path;
}

export function formatJsonPath(path: readonly PathSegment[]): string {
  return (
    'body' +
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$-]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`))
      .join('')
  );
}

/** Reads a JSON path; `found` is false when a key or index along the way is missing. */
export function readJsonPath(value: unknown, path: readonly PathSegment[]): { found: boolean; value: unknown } {
  let cur: unknown = value;
  for (const seg of path) {
    if (typeof seg === 'number') {
      if (!Array.isArray(cur) || seg >= cur.length) return { found: false, value: undefined };
      cur = cur[seg];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, seg)) {
        return { found: false, value: undefined };
      }
      cur = (cur as Record<string, unknown>)[seg];
    }
  }
  return { found: true, value: cur };
}

export { durationMs };

/** The JSON path text after `body`: up to whitespace or an operator, quoted keys taken whole. */
function scanPath(text: string): string {
  let i = 0;
  let quote: string | undefined;
  while (i < text.length) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if ((ch === '"' || ch === "'") && text[i - 1] === '[') quote = ch;
    else if (/[\s=!<>]/.test(ch)) break;
    i++;
  }
  return text.slice(0, i);
}

function parseSubject(text: string): { subject: Subject; rest: string } {
  const head = /^(\[(STATUS|RESPONSE_TIME|BODY|CERTIFICATE_EXPIRATION)\]|status|response_time|body|certificate_expiration)/i.exec(text);
  if (!head) {
    const word = /^\S+/.exec(text)?.[0] ?? text;
    fail(`unknown subject "${word}": expected status, response_time, body, body.<path> or certificate_expiration`);
  }
  const name = (head[2] ?? head[1]!).toLowerCase();
  let rest = text.slice(head[0].length);
  if (name !== 'body') {
    if (rest && !/^\s/.test(rest) && !/^[=!<>]/.test(rest)) fail(`unexpected "${/^\S+/.exec(rest)?.[0]}" after ${name}`);
    return { subject: { kind: name as 'status' | 'response_time' | 'certificate_expiration' }, rest };
  }
  const pathText = scanPath(rest);
  rest = rest.slice(pathText.length);
  if (!pathText) return { subject: { kind: 'body' }, rest };
  const path = parseJsonPath(pathText);
  return { subject: { kind: 'body_path', path }, rest };
}

function parseOperator(text: string): { op: Operator; rest: string } {
  const t = text.trimStart();
  const sym = /^(==|!=|<=|>=|<|>)/.exec(t);
  if (sym) return { op: sym[1] as Operator, rest: t.slice(sym[1]!.length) };
  const word = /^(not\s+)?(contains|matches)(?=\s|$)/i.exec(t);
  if (word) return { op: `${word[1] ? 'not ' : ''}${word[2]!.toLowerCase()}` as Operator, rest: t.slice(word[0].length) };
  if (!t) fail('missing operator and value');
  const got = /^\S+/.exec(t)![0];
  if (got === '=' || got.startsWith('=') || got === '===') fail(`unknown operator "${got}": use == to compare`);
  fail(`unknown operator "${got}": expected ==, !=, <, <=, >, >=, contains, not contains, matches or not matches`);
}

/** A value: "string", 'string', a number, true/false/null, a duration (14d) or a bare word. */
function parseLiteral(text: string): { value: Literal; duration?: number; kind: 'string' | 'number' | 'boolean' | 'null' | 'duration' | 'word' } {
  const t = text.trim();
  if (!t) fail('missing value after the operator');
  if (t.startsWith('"')) {
    const m = /^"(?:[^"\\]|\\.)*"$/.exec(t);
    if (!m) fail(`unterminated or trailing text in string ${t}`);
    return { value: jsonString(t), kind: 'string' };
  }
  if (t.startsWith("'")) {
    if (!/^'[^']*'$/.test(t)) fail(`unterminated or trailing text in string ${t}`);
    return { value: t.slice(1, -1), kind: 'string' };
  }
  if (/^-?\d+(\.\d+)?$/.test(t)) return { value: Number(t), kind: 'number' };
  if (t === 'true' || t === 'false') return { value: t === 'true', kind: 'boolean' };
  if (t === 'null') return { value: null, kind: 'null' };
  const d = durationMs(t);
  if (d !== undefined) return { value: t, duration: d, kind: 'duration' };
  if (/^[^\s"']+$/.test(t)) return { value: t, kind: 'word' };
  fail(`cannot read the value ${t}: quote strings, e.g. "ok"`);
}

/** `matches` takes a quoted RE2 pattern; one RE2 cannot run is refused here, at validation. */
function checkPattern(op: Operator, lit: { value: Literal; kind: string }): void {
  if (lit.kind !== 'string') fail(`${op} takes a quoted regular expression, e.g. body ${op} "^ok"`);
  const problem = userRegexProblem(String(lit.value));
  if (problem !== undefined) fail(`the pattern ${JSON.stringify(lit.value)} cannot be used: ${problem} (RE2 syntax, see docs/patterns.md)`);
}

function parseOrThrow(source: string): Condition {
  const text = source.trim();
  if (!text) fail('the condition is empty');
  const { subject, rest: afterSubject } = parseSubject(text);
  const { op, rest: afterOp } = parseOperator(afterSubject);
  const lit = parseLiteral(afterOp);
  switch (subject.kind) {
    case 'status':
      if (!COMPARISONS.includes(op)) fail(`status takes ==, !=, <, <=, >, >=, not ${op}`);
      if (lit.kind !== 'number') fail(`status compares with a number, e.g. status == 200`);
      return { source, subject, op, value: lit.value };
    case 'response_time':
      if (!COMPARISONS.includes(op)) fail(`response_time takes ==, !=, <, <=, >, >=, not ${op}`);
      if (lit.kind === 'number') return { source, subject, op, value: lit.value };
      if (lit.kind === 'duration') return { source, subject, op, value: lit.duration! };
      fail('response_time compares with milliseconds or a duration, e.g. response_time < 500');
    case 'certificate_expiration':
      if (!COMPARISONS.includes(op)) fail(`certificate_expiration takes ==, !=, <, <=, >, >=, not ${op}`);
      if (lit.kind !== 'duration') fail('certificate_expiration compares with a duration such as 14d or 48h');
      return { source, subject, op, value: lit.duration! };
    case 'body':
      if (op !== 'contains' && op !== 'not contains' && op !== '==' && op !== '!=' && op !== 'matches' && op !== 'not matches') {
        fail(`body takes contains, not contains, matches, not matches, == or !=, not ${op}; for a JSON value use body.<path>`);
      }
      if (op === 'matches' || op === 'not matches') checkPattern(op, lit);
      return { source, subject, op, value: String(lit.value) };
    case 'body_path':
      if (op === 'matches' || op === 'not matches') {
        checkPattern(op, lit);
        return { source, subject, op, value: String(lit.value) };
      }
      if (['<', '<=', '>', '>='].includes(op) && lit.kind !== 'number') fail(`${op} compares numbers, e.g. ${formatJsonPath(subject.path)} ${op} 10`);
      return { source, subject, op, value: lit.kind === 'duration' ? String(lit.value) : lit.value };
  }
}

/** Parses one condition; a condition that does not parse is a ConfigError naming it. */
export function parseCondition(source: string, where?: string): Condition {
  try {
    return parseOrThrow(source);
  } catch (err) {
    if (!(err instanceof ParseFailure)) throw err;
    throw new ConfigError(`${where ? `${where}: ` : ''}condition "${source}" does not parse: ${err.message}`, {
      hint: `conditions look like: ${CONDITION_EXAMPLES}`,
    });
  }
}

/** The reason a condition does not parse, or undefined when it does (for schema validation). */
export function conditionProblem(source: string): string | undefined {
  try {
    parseOrThrow(source);
    return undefined;
  } catch (err) {
    if (err instanceof ParseFailure) return `condition "${source}" does not parse: ${err.message} (conditions look like: ${CONDITION_EXAMPLES})`;
    throw err;
  }
}

export function parseConditions(sources: readonly string[], where?: string): Condition[] {
  return sources.map((s) => parseCondition(s, where));
}

function compare(a: number, op: Operator, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default:
      return false;
  }
}

function show(v: unknown): string {
  const s = v === undefined ? 'undefined' : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}

function snippet(body: string): string {
  const oneLine = body.replace(/\s+/g, ' ').trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
}

/** `29d 23h`, `5h 3m`, or `expired 2d 1h ago`. */
export function formatTimeLeft(ms: number): string {
  const abs = Math.abs(ms);
  const d = Math.floor(abs / 86_400_000);
  const h = Math.floor((abs % 86_400_000) / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const text = d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
  return ms < 0 ? `expired ${text} ago` : text;
}

function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Evaluates one condition against what a probe observed. Never throws. */
export function evaluateCondition(c: Condition, o: Observation): ConditionResult {
  const result = (ok: boolean, actual: unknown, message: string): ConditionResult =>
    ok ? { condition: c.source, ok, actual } : { condition: c.source, ok, actual, message };
  if (o.status === null) return result(false, null, `no response: ${o.error ?? 'the request failed'}`);
  const expected = `expected ${c.op} ${typeof c.value === 'string' ? JSON.stringify(c.value) : String(c.value)}`;

  switch (c.subject.kind) {
    case 'status': {
      const ok = compare(o.status, c.op, c.value as number);
      return result(ok, o.status, `status is ${o.status}, ${expected}`);
    }
    case 'response_time': {
      const t = Math.round(o.responseTimeMs ?? 0);
      const ok = compare(t, c.op, c.value as number);
      return result(ok, t, `response took ${formatDuration(t)}, expected ${c.op} ${formatDuration(c.value as number)}`);
    }
    case 'certificate_expiration': {
      if (!o.isHttps) return result(false, null, 'no certificate: the URL is not https');
      if (!o.certificateExpiresAt) return result(false, null, 'no certificate was read from the connection');
      const left = o.certificateExpiresAt.getTime() - (o.now ?? Date.now());
      const ok = compare(left, c.op, c.value as number);
      const actual = formatTimeLeft(left);
      return result(
        ok,
        actual,
        `certificate ${left < 0 ? actual : `expires in ${actual}`} (${o.certificateExpiresAt.toISOString()}), expected ${c.op} ${formatTimeLeft(c.value as number)}`,
      );
    }
    case 'body': {
      const body = o.body ?? '';
      const needle = String(c.value);
      const cut = o.bodyTruncated ? ' (only the first part of a long body was read)' : '';
      if (c.op === 'contains') return result(body.includes(needle), snippet(body), `body does not contain ${JSON.stringify(needle)}${cut}`);
      if (c.op === 'not contains') return result(!body.includes(needle), snippet(body), `body contains ${JSON.stringify(needle)}`);
      if (c.op === 'matches' || c.op === 'not matches') {
        const has = userRegex(needle).test(body);
        const ok = c.op === 'matches' ? has : !has;
        return result(ok, snippet(body), `body ${has ? 'matches' : 'does not match'} /${needle}/${has ? '' : cut}`);
      }
      const eq = body === needle || body.trim() === needle;
      return result(c.op === '==' ? eq : !eq, snippet(body), `body is ${JSON.stringify(snippet(body))}, ${expected}`);
    }
    case 'body_path': {
      const where = formatJsonPath(c.subject.path);
      const body = o.body ?? '';
      let doc: unknown;
      try {
        doc = JSON.parse(body);
      } catch {
        const cut = o.bodyTruncated ? ' (it was longer than the size cap and was cut)' : '';
        return result(false, null, `body is not JSON${cut}, so ${where} cannot be read (body starts ${JSON.stringify(snippet(body) || '')})`);
      }
      const found = readJsonPath(doc, c.subject.path);
      if (!found.found) return result(false, null, `body has no ${where}`);
      const actual = found.value;
      switch (c.op) {
        case '==':
        case '!=': {
          const eq = jsonEquals(actual, c.value);
          const typeNote = !eq && typeof actual !== typeof c.value && actual !== null ? ` (a ${Array.isArray(actual) ? 'array' : typeof actual})` : '';
          return result(c.op === '==' ? eq : !eq, actual, `${where} is ${show(actual)}${typeNote}, ${expected}`);
        }
        case 'matches':
        case 'not matches': {
          if (typeof actual !== 'string') return result(false, actual, `${where} is ${show(actual)}, not a string, ${expected}`);
          const has = userRegex(String(c.value)).test(actual);
          return result(c.op === 'matches' ? has : !has, actual, `${where} is ${show(actual)}, ${expected}`);
        }
        case 'contains':
        case 'not contains': {
          let has: boolean;
          if (typeof actual === 'string') has = actual.includes(String(c.value));
          else if (Array.isArray(actual)) has = actual.some((x) => jsonEquals(x, c.value));
          else return result(false, actual, `${where} is ${show(actual)}, neither a string nor an array`);
          const ok = c.op === 'contains' ? has : !has;
          return result(ok, actual, `${where} is ${show(actual)}, ${expected}`);
        }
        default: {
          if (typeof actual !== 'number') return result(false, actual, `${where} is ${show(actual)}, not a number, ${expected}`);
          return result(compare(actual, c.op, c.value as number), actual, `${where} is ${show(actual)}, ${expected}`);
        }
      }
    }
  }
}

export function evaluateConditions(conditions: readonly Condition[], o: Observation): ConditionResult[] {
  return conditions.map((c) => evaluateCondition(c, o));
}
