import { LineCounter, parseDocument, isAlias, isCollection, isMap, isPair, isScalar, isSeq, isNode, visit, Scalar, type Document, type YAMLError } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { pathKey, type Position, type PositionTable } from './position-table.js';

export type { Position, PositionSource, PositionTable } from './position-table.js';

/** A parsed YAML file that can say where any key path is. */
export class YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** Parses `text`; a syntax error becomes a ConfigError naming file:line:column. */
  static parse(file: string, text: string, what: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const first = doc.errors[0];
    if (first && /call stack/i.test(first.message)) {
      const pos = lines.linePos(first.pos[0]);
      throw new ConfigError(`${file}:${pos.line}:${pos.col}: ${what} is nested too deep to read (more than ${MAX_DEPTH} levels of lists and maps)`, {
        hint: 'ltc files need a handful of levels; check for unbalanced [ or { or runaway indentation',
        details: { file, line: pos.line, column: pos.col },
      });
    }
    if (first) {
      const unclosed = unclosedQuote(doc, first);
      const pos = lines.linePos(unclosed ? unclosed.offset : first.pos[0]);
      const reason = unclosed
        ? `the quoted string that starts here is never closed (missing closing ${unclosed.quote})`
        : first.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
      throw new ConfigError(`${file}:${pos.line}:${pos.col}: ${what} is not valid YAML: ${reason}`, {
        hint: 'fix the YAML syntax at that line (indentation, quotes, a missing colon)',
        details: { file, line: pos.line, column: pos.col },
      });
    }
    const bad = shapeProblem(doc);
    if (bad) {
      const pos = lines.linePos(bad.offset);
      throw new ConfigError(`${file}:${pos.line}:${pos.col}: ${what} ${bad.reason}`, {
        hint: bad.hint,
        details: { file, line: pos.line, column: pos.col },
      });
    }
    const source = new YamlSource(file, doc, lines);
    // Aliases are expanded here, once: an alias bomb or an unresolved alias is the file's problem (exit 2), not ltc's.
    try {
      source.js = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const unresolved = /Unresolved alias/i.test(message);
      throw new ConfigError(
        `${file}: ${what} is not valid YAML: ${unresolved ? message.replace(/^.*?: /, 'an alias (*name) refers to no anchor: *') : 'its aliases (*name) expand to too much data'}`,
        {
          hint: unresolved
            ? 'define the anchor (&name) before the alias, or write the value out'
            : `an anchor may be used at most ${MAX_ALIAS_COUNT} times, and aliases of aliases multiply; write the values out`,
          details: { file },
        },
      );
    }
    return source;
  }

  private js: unknown;

  toJS(): unknown {
    return this.js;
  }

  /** Every value's and every map key's position, for tableSource. */
  positionTable(): PositionTable {
    const out: PositionTable = {};
    const put = (k: string, offset: number) => {
      const { line, col } = this.lines.linePos(offset);
      out[k] = [line, col];
    };
    const stack: Array<{ node: unknown; path: PropertyKey[] }> = [{ node: this.doc.contents, path: [] }];
    while (stack.length) {
      const { node, path } = stack.pop()!;
      if (isNode(node) && node.range) put(pathKey(path), node.range[0]);
      if (isMap(node)) {
        for (const p of node.items) {
          if (!isPair(p) || !isScalar(p.key)) continue;
          if (p.key.range) put(`${pathKey(path)}#${String(p.key.value)}`, p.key.range[0]);
          stack.push({ node: p.value, path: [...path, p.key.value as PropertyKey] });
        }
      } else if (isSeq(node)) node.items.forEach((item, i) => stack.push({ node: item, path: [...path, i] }));
    }
    return out;
  }

  /** Position of the value at `path`; with `key`, the position of that key inside the map. */
  positionOf(path: ReadonlyArray<PropertyKey>, key?: string): Position {
    let node: unknown = this.doc.contents;
    let offset = 0;
    const take = (n: unknown) => {
      if (isNode(n) && n.range) offset = n.range[0];
    };
    take(node);
    for (const part of path) {
      if (!isNode(node) || !('get' in node)) break;
      const next: unknown = (node as { get(k: unknown, keepScalar: boolean): unknown }).get(
        typeof part === 'symbol' ? String(part) : part,
        true,
      );
      if (next === undefined) break;
      node = next;
      take(node);
    }
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
      if (pair && isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
    }
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }
}

/** Lists and maps nested deeper than this are refused (the schemas need fewer than 10). */
export const MAX_DEPTH = 64;
/** How often one anchor may be used (yaml's default is 100 too; named so that the message can say it). */
export const MAX_ALIAS_COUNT = 100;

/**
 * What makes a document unusable before it is converted: nesting deeper than MAX_DEPTH (the
 * converter and the schema recurse), or a list or map used as a key (JavaScript objects cannot
 * hold one; yaml would stringify it with a process warning). Iterative, so any depth is safe.
 */
function shapeProblem(doc: Document.Parsed): { offset: number; reason: string; hint: string } | undefined {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: doc.contents, depth: 0 }];
  while (stack.length) {
    const { node, depth } = stack.pop()!;
    if (!isCollection(node)) continue;
    const offset = node.range?.[0] ?? 0;
    if (depth >= MAX_DEPTH) {
      return { offset, reason: `is nested too deep (more than ${MAX_DEPTH} levels of lists and maps)`, hint: 'ltc files need a handful of levels; check for unbalanced [ or { or runaway indentation' };
    }
    for (const item of node.items as unknown[]) {
      if (isPair(item)) {
        if (isCollection(item.key) || isAlias(item.key)) {
          const at = (isNode(item.key) && item.key.range?.[0]) || offset;
          return { offset: at, reason: 'has a list, map or alias as a key', hint: 'keys are plain names: write `name: value` (quote the key if it has odd characters)' };
        }
        stack.push({ node: item.value, depth: depth + 1 });
      } else stack.push({ node: item, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * A missing closing quote is reported by the parser where the text ends (often past the last
 * line); the useful place is where the quoted string opened: the quoted scalar that runs into it.
 */
function unclosedQuote(doc: Document.Parsed, error: YAMLError): { offset: number; quote: string } | undefined {
  if (error.code !== 'MISSING_CHAR' || !/quote/i.test(error.message)) return undefined;
  let found: { offset: number; quote: string } | undefined;
  visit(doc, {
    Scalar(_key, node) {
      if (node.type !== Scalar.QUOTE_DOUBLE && node.type !== Scalar.QUOTE_SINGLE) return;
      const range = node.range;
      if (!range || range[0] > error.pos[0] || range[1] < error.pos[0]) return;
      if (!found || range[0] > found.offset) found = { offset: range[0], quote: node.type === Scalar.QUOTE_DOUBLE ? '"' : "'" };
    },
  });
  return found;
}
