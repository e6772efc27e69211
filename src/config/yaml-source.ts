import { LineCounter, parseDocument, isMap, isPair, isScalar, isNode, visit, Scalar, type Document, type YAMLError } from 'yaml';
import { ConfigError } from '../core/errors.js';

export interface Position {
  line: number;
  column: number;
}

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
    return new YamlSource(file, doc, lines);
  }

  toJS(): unknown {
    return this.doc.toJS();
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
