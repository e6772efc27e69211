/**
 * The expression language of runbooks: references (`inputs.x`, `steps.build.outputs.stdout`,
 * `env.HOME`, `config.app.repo`), literals, comparisons and `&&` / `||` / `!` with parentheses.
 * A tokenizer, a recursive-descent parser and an evaluator; no eval, no Function.
 */
import type { OutputValue } from './step-type.js';

export type Value = OutputValue;

/** A value not known until run time (a step output during --dry-run). */
export const UNKNOWN: unique symbol = Symbol('unknown');
export type MaybeValue = Value | typeof UNKNOWN;

export type BinaryOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

export type Expr =
  | { kind: 'literal'; value: Value }
  | { kind: 'ref'; path: string[]; offset: number }
  | { kind: 'not'; expr: Expr }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr };

/** A syntax error at `offset` (0-based, within the expression text). */
export class ExprSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

type Token =
  | { t: 'ident'; v: string; at: number }
  | { t: 'string'; v: string; at: number }
  | { t: 'number'; v: number; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'end'; at: number };

/** Longer expressions are refused (the parser and the evaluator recurse; nobody writes these by hand). */
export const MAX_TOKENS = 2000;
/** Parentheses and `!` nested deeper than this are refused. */
export const MAX_NESTING = 64;

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '.', '[', ']'];
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_-]/;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    if (tokens.length > MAX_TOKENS) throw new ExprSyntaxError(`the expression is too long (more than ${MAX_TOKENS} tokens): split it over steps or outputs`, i);
    const ch = src[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const start = i++;
      let value = '';
      for (;;) {
        if (i >= src.length) throw new ExprSyntaxError('unterminated string', start);
        const c = src[i++]!;
        if (c === ch) break;
        if (c === '\\') {
          const next = src[i++];
          if (next === undefined) throw new ExprSyntaxError('unterminated string', start);
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
        } else value += c;
      }
      tokens.push({ t: 'string', v: value, at: start });
      continue;
    }
    const prev = tokens.at(-1);
    const afterDot = prev?.t === 'op' && prev.v === '.';
    const signAllowed = !prev || (prev.t === 'op' && prev.v !== ')' && prev.v !== ']');
    if (afterDot && !/[\dA-Za-z_]/.test(ch)) throw new ExprSyntaxError(`expected a name or an index (0, 1, …) after "." but found "${ch}"`, i);
    const negative = ch === '-' && signAllowed && /\d/.test(src[i + 1] ?? '');
    if (/\d/.test(ch) || negative) {
      const m = (afterDot ? /^\d+/ : /^-?\d+(?:\.\d+)?/).exec(src.slice(i))!;
      tokens.push({ t: 'number', v: Number(m[0]), at: i });
      i += m[0].length;
      continue;
    }
    if (IDENT_START.test(ch)) {
      const start = i;
      while (i < src.length && IDENT_PART.test(src[i]!)) i++;
      tokens.push({ t: 'ident', v: src.slice(start, i), at: start });
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op) {
      tokens.push({ t: 'op', v: op, at: i });
      i += op.length;
      continue;
    }
    if (ch === '=') throw new ExprSyntaxError('unexpected "=" (compare with "==")', i);
    if (ch === '&' || ch === '|') throw new ExprSyntaxError(`unexpected "${ch}" (use "${ch}${ch}")`, i);
    throw new ExprSyntaxError(`unexpected character "${ch}"`, i);
  }
  tokens.push({ t: 'end', at: src.length });
  return tokens;
}

function describe(tok: Token): string {
  if (tok.t === 'end') return 'end of expression';
  if (tok.t === 'string') return `string "${tok.v}"`;
  return `"${tok.v}"`;
}

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }
  private next(): Token {
    return this.tokens[this.pos++]!;
  }
  private isOp(v: string): boolean {
    const tok = this.peek();
    return tok.t === 'op' && tok.v === v;
  }
  private expectOp(v: string): void {
    const tok = this.next();
    if (tok.t !== 'op' || tok.v !== v) throw new ExprSyntaxError(`expected "${v}" but found ${describe(tok)}`, tok.at);
  }

  parseAll(): Expr {
    const expr = this.or();
    const tok = this.peek();
    if (tok.t !== 'end') throw new ExprSyntaxError(`unexpected ${describe(tok)}`, tok.at);
    return expr;
  }

  private or(): Expr {
    let left = this.and();
    while (this.isOp('||')) {
      this.next();
      left = { kind: 'binary', op: '||', left, right: this.and() };
    }
    return left;
  }
  private and(): Expr {
    let left = this.comparison();
    while (this.isOp('&&')) {
      this.next();
      left = { kind: 'binary', op: '&&', left, right: this.comparison() };
    }
    return left;
  }
  private comparison(): Expr {
    const left = this.unary();
    const tok = this.peek();
    if (tok.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(tok.v)) {
      this.next();
      const right = this.unary();
      const after = this.peek();
      if (after.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(after.v)) {
        throw new ExprSyntaxError(`comparisons do not chain: add parentheses before ${describe(after)}`, after.at);
      }
      return { kind: 'binary', op: tok.v as BinaryOp, left, right };
    }
    return left;
  }
  private nest(at: number): void {
    if (++this.depth > MAX_NESTING) throw new ExprSyntaxError(`parentheses and "!" are nested more than ${MAX_NESTING} deep`, at);
  }
  private unary(): Expr {
    if (this.isOp('!')) {
      const tok = this.next();
      this.nest(tok.at);
      const expr: Expr = { kind: 'not', expr: this.unary() };
      this.depth--;
      return expr;
    }
    return this.primary();
  }
  private primary(): Expr {
    const tok = this.next();
    if (tok.t === 'string' || tok.t === 'number') return { kind: 'literal', value: tok.v };
    if (tok.t === 'op' && tok.v === '(') {
      this.nest(tok.at);
      const inner = this.or();
      this.expectOp(')');
      this.depth--;
      return inner;
    }
    if (tok.t === 'ident') {
      if (tok.v === 'true' || tok.v === 'false') return { kind: 'literal', value: tok.v === 'true' };
      if (tok.v === 'null') return { kind: 'literal', value: null };
      const path = [tok.v];
      for (;;) {
        if (this.isOp('.')) {
          this.next();
          const part = this.next();
          if (part.t === 'ident') path.push(part.v);
          else if (part.t === 'number' && Number.isInteger(part.v) && part.v >= 0) path.push(String(part.v));
          else throw new ExprSyntaxError(`expected a name after "." but found ${describe(part)}`, part.at);
        } else if (this.isOp('[')) {
          this.next();
          const key = this.next();
          if (key.t !== 'string' && key.t !== 'number') throw new ExprSyntaxError(`expected a string or number inside [ ] but found ${describe(key)}`, key.at);
          path.push(String(key.v));
          this.expectOp(']');
        } else break;
      }
      return { kind: 'ref', path, offset: tok.at };
    }
    throw new ExprSyntaxError(`expected a value but found ${describe(tok)}`, tok.at);
  }
}

/** Parses an expression; throws ExprSyntaxError naming the offset. */
export function parseExpression(src: string): Expr {
  if (src.trim() === '') throw new ExprSyntaxError('empty expression', 0);
  return new Parser(tokenize(src)).parseAll();
}

/** Every reference in an expression, in order. */
export function referencesOf(expr: Expr): Array<{ path: string[]; offset: number }> {
  switch (expr.kind) {
    case 'literal':
      return [];
    case 'ref':
      return [{ path: expr.path, offset: expr.offset }];
    case 'not':
      return referencesOf(expr.expr);
    case 'binary':
      return [...referencesOf(expr.left), ...referencesOf(expr.right)];
  }
}

/** Looks up a reference's value; UNKNOWN when it is only known at run time. */
export type Resolver = (path: readonly string[]) => MaybeValue;

export function truthy(v: Value): boolean {
  return !(v === false || v === null || v === '' || v === 0);
}

function asNumber(v: Value): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  if (typeof v === 'boolean') return undefined;
  return undefined;
}

export function toText(v: Value): string {
  return v === null ? '' : String(v);
}

/** `==`: same types compare strictly; a number against a numeric string compares as numbers; else as text. */
export function looseEquals(a: Value, b: Value): boolean {
  if (typeof a === typeof b) return a === b;
  if (typeof a === 'number' || typeof b === 'number') {
    const x = asNumber(a);
    const y = asNumber(b);
    return x !== undefined && y !== undefined && x === y;
  }
  return toText(a) === toText(b);
}

function order(a: Value, b: Value): number {
  const x = asNumber(a);
  const y = asNumber(b);
  if (x !== undefined && y !== undefined) return x - y;
  const s = toText(a);
  const t = toText(b);
  return s < t ? -1 : s > t ? 1 : 0;
}

/** Evaluates with three-valued logic: UNKNOWN propagates unless `&&`/`||` can decide without it. */
export function evaluate(expr: Expr, resolve: Resolver): MaybeValue {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'ref':
      return resolve(expr.path);
    case 'not': {
      const v = evaluate(expr.expr, resolve);
      return v === UNKNOWN ? UNKNOWN : !truthy(v);
    }
    case 'binary': {
      const left = evaluate(expr.left, resolve);
      if (expr.op === '&&') {
        if (left !== UNKNOWN && !truthy(left)) return false;
        const right = evaluate(expr.right, resolve);
        if (right !== UNKNOWN && !truthy(right)) return false;
        return left === UNKNOWN || right === UNKNOWN ? UNKNOWN : true;
      }
      if (expr.op === '||') {
        if (left !== UNKNOWN && truthy(left)) return true;
        const right = evaluate(expr.right, resolve);
        if (right !== UNKNOWN && truthy(right)) return true;
        return left === UNKNOWN || right === UNKNOWN ? UNKNOWN : false;
      }
      const right = evaluate(expr.right, resolve);
      if (left === UNKNOWN || right === UNKNOWN) return UNKNOWN;
      switch (expr.op) {
        case '==':
          return looseEquals(left, right);
        case '!=':
          return !looseEquals(left, right);
        case '<':
          return order(left, right) < 0;
        case '<=':
          return order(left, right) <= 0;
        case '>':
          return order(left, right) > 0;
        case '>=':
          return order(left, right) >= 0;
      }
    }
  }
}
