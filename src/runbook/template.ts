/**
 * `${{ … }}` inside string values. A string that is exactly one `${{ expr }}` becomes the
 * expression's typed value; otherwise each expression's text is spliced into the string.
 * Substitution produces values (argument-array elements, strings), never shell text.
 */
import { ExprSyntaxError, UNKNOWN, evaluate, parseExpression, toText, type Expr, type MaybeValue, type Resolver } from './expr.js';

export interface TemplatePart {
  expr: Expr;
  source: string;
  /** Offset of the expression text inside the template string. */
  offset: number;
}

export interface Template {
  parts: Array<string | TemplatePart>;
  /** The whole string is one `${{ … }}`. */
  whole: boolean;
}

const OPEN = '${{';
const CLOSE = '}}';

export function hasTemplate(s: string): boolean {
  return s.includes(OPEN);
}

/** Splits a string into text and expressions; throws ExprSyntaxError with the offset in `s`. */
export function parseTemplate(s: string): Template {
  const parts: Template['parts'] = [];
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf(OPEN, i);
    if (open < 0) {
      parts.push(s.slice(i));
      break;
    }
    if (open > i) parts.push(s.slice(i, open));
    const close = findClose(s, open + OPEN.length);
    if (close < 0) throw new ExprSyntaxError('"${{" without a closing "}}"', open);
    const source = s.slice(open + OPEN.length, close);
    const offset = open + OPEN.length;
    try {
      parts.push({ expr: parseExpression(source), source: source.trim(), offset });
    } catch (err) {
      if (err instanceof ExprSyntaxError) throw new ExprSyntaxError(err.message, offset + err.offset);
      throw err;
    }
    i = close + CLOSE.length;
  }
  const whole = parts.length === 1 && typeof parts[0] !== 'string';
  return { parts, whole };
}

/** The `}}` closing an expression, skipping quoted strings. */
function findClose(s: string, from: number): number {
  let quote: string | undefined;
  for (let i = from; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (s.startsWith(CLOSE, i)) return i;
  }
  return -1;
}

/** A `when`/`assert` text: bare (`inputs.x == 1`) or wrapped (`${{ inputs.x == 1 }}`). */
export function parseCondition(s: string): { expr: Expr; offset: number } {
  const trimmed = s.trim();
  if (trimmed.startsWith(OPEN)) {
    const t = parseTemplate(trimmed);
    const first = t.parts[0];
    if (!t.whole || typeof first === 'string' || first === undefined) {
      throw new ExprSyntaxError('a condition is one expression; put it all inside one ${{ }}', 0);
    }
    return { expr: first.expr, offset: s.indexOf(OPEN) + first.offset };
  }
  return { expr: parseExpression(s), offset: 0 };
}

/** Evaluates a template: the typed value when whole, else the spliced string (UNKNOWN if any part is). */
export function renderTemplate(t: Template, resolve: Resolver): MaybeValue {
  if (t.whole) return evaluate((t.parts[0] as TemplatePart).expr, resolve);
  let out = '';
  for (const part of t.parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const v = evaluate(part.expr, resolve);
    if (v === UNKNOWN) return UNKNOWN;
    out += toText(v);
  }
  return out;
}

/**
 * Resolves every string in a YAML value. Where a value is UNKNOWN (dry-run), the original
 * `${{ … }}` text is kept so the plan shows what will be substituted, and `unknown` is set.
 * With `asText`, a string that is one whole expression stays a string (for argument arrays).
 */
export function resolveDeep(value: unknown, resolve: Resolver, opts: { asText?: boolean } = {}): { value: unknown; unknown: boolean } {
  let unknown = false;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (!hasTemplate(v)) return v;
      const r = renderTemplate(parseTemplate(v), resolve);
      if (r === UNKNOWN) {
        unknown = true;
        return v;
      }
      return opts.asText ? toText(r) : r;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return { value: walk(value), unknown };
}

/** Every string inside a YAML value with its key path (for validation). */
export function stringsIn(value: unknown, path: PropertyKey[] = []): Array<{ path: PropertyKey[]; text: string }> {
  if (typeof value === 'string') return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsIn(v, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringsIn(v, [...path, k]));
  return [];
}
