/**
 * Fuzzing the parsers in-process with a fixed seed: 24,000 mutated configs, runbooks, expressions
 * and conditions (templates/ltc.config.yaml, the shipped runbooks and real expressions as seeds).
 * Every input is either accepted or refused as bad input (exit 2, or the expression parser's own
 * syntax error, which callers turn into exit 2): never a TypeError, a RangeError or a stack overflow.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/parse.ts';
import { ConfigError, LtcError } from '../src/core/errors.ts';
import { parseCondition as parseHealthCondition } from '../src/http/conditions.ts';
import { ExprSyntaxError, parseExpression } from '../src/runbook/expr.ts';
import { parseRunbook } from '../src/runbook/load.ts';
import { parseCondition as parseWhen, parseTemplate } from '../src/runbook/template.ts';
import { validateRunbook } from '../src/runbook/validate.ts';

const ROOT = new URL('..', import.meta.url).pathname;

/** mulberry32: a small PRNG, so a failure is reproducible from its seed and index. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  '\n', ' ', '  ', '\t', ':', ': ', '- ', '#', '"', "'", '\\', '{', '}', '[', ']', ',', '&a ', '*a', '!!str ', '? ', '|', '>', '%', '@', '`',
  '${{', '}}', '(', ')', '!', '&&', '||', '==', '!=', '<=', '.', '-1', '0', '1e999', 'null', 'true', '~', '\u0000', '\u0007', '\u2028', '\ufeff',
  'é', '😀', 'x'.repeat(300), 'inputs.', 'steps.', '.outputs.', 'matches', 'contains', 'status', 'body', 'json.', 'header.', '(a+)+$', '\\x41', '\\u00',
];

function mutate(seed: string, rnd: () => number): string {
  let s = seed;
  const edits = 1 + Math.floor(rnd() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rnd() * (s.length + 1));
    const len = Math.floor(rnd() * 40);
    switch (Math.floor(rnd() * 6)) {
      case 0: // delete a range
        s = s.slice(0, at) + s.slice(at + len);
        break;
      case 1: // insert a token
        s = s.slice(0, at) + TOKENS[Math.floor(rnd() * TOKENS.length)]! + s.slice(at);
        break;
      case 2: // duplicate a range somewhere else
        s = s.slice(0, at) + s.slice(Math.floor(rnd() * s.length), Math.floor(rnd() * s.length) + len) + s.slice(at);
        break;
      case 3: // replace a character by a random code point
        s = s.slice(0, at) + String.fromCodePoint(Math.floor(rnd() * 0x2fff)) + s.slice(at + 1);
        break;
      case 4: {
        // swap two lines
        const lines = s.split('\n');
        const i = Math.floor(rnd() * lines.length);
        const j = Math.floor(rnd() * lines.length);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        s = lines.join('\n');
        break;
      }
      default: // truncate
        s = s.slice(0, at);
    }
  }
  return s;
}

/** undefined when the input was accepted or refused as bad input; otherwise what went wrong. */
async function internalError(run: () => unknown, tally: { accepted: number; refused: number }): Promise<string | undefined> {
  try {
    await run();
    tally.accepted++;
    return undefined;
  } catch (err) {
    tally.refused++;
    if (err instanceof ExprSyntaxError) return undefined;
    if (err instanceof LtcError && err.exitCode === 2) return undefined;
    return err instanceof Error ? `${err.constructor.name}: ${err.message.slice(0, 200)}` : String(err);
  }
}

async function fuzz(name: string, seeds: string[], count: number, seed: number, run: (text: string) => unknown): Promise<void> {
  const rnd = prng(seed);
  const failures: string[] = [];
  const tally = { accepted: 0, refused: 0 };
  for (let i = 0; i < count; i++) {
    const text = mutate(seeds[i % seeds.length]!, rnd);
    const problem = await internalError(() => run(text), tally);
    if (problem && failures.length < 5) failures.push(`${name} #${i} (seed ${seed}): ${problem}\ninput: ${JSON.stringify(text.slice(0, 300))}`);
  }
  expect(failures, failures.join('\n\n')).toEqual([]);
  // Mutations that only ever produce garbage would test the first line of each parser alone.
  expect(tally.accepted, `${name}: no mutated input was accepted`).toBeGreaterThan(count / 50);
  expect(tally.refused, `${name}: no mutated input was refused`).toBeGreaterThan(count / 50);
}

const EXPRESSIONS = [
  'steps.resolve.outputs.protected && !inputs.skip_gates',
  "inputs.environment == 'prod' || (steps.a.outputs.count >= 3 && steps.b.status != 'failed')",
  '!(inputs.dry_run) && steps.health.outputs.ok == true',
  "inputs.rc != null && inputs.rc != ''",
];
const CONDITIONS = ['status == 200', 'body contains "ok"', 'json.status == "ok"', 'header.content-type contains "json"', 'latency < 500ms', 'body matches "^v[0-9]+"', 'json.items[0].id != null'];
const TEMPLATES = ['${{ inputs.rc }}', 'release ${{ steps.resolve.outputs.release }} on ${{ inputs.environment }}', 'plain text', '${{ inputs.a }}${{ inputs.b }}'];

describe('fuzz (fixed seeds): mutated input is accepted or refused with exit 2, never an internal error', () => {
  it('8,000 mutated configs', async () => {
    // The template as `ltc init` fills it in.
    const seeds = [readFileSync(join(ROOT, 'templates', 'ltc.config.yaml'), 'utf8').replace(/\{\{[A-Z_]+\}\}/g, './app')];
    await fuzz('config', seeds, 8000, 1, (text) => parseConfig('/fuzz/ltc.config.yaml', text));
  }, 120_000);

  it('6,000 mutated runbooks, parsed and validated', async () => {
    const dir = join(ROOT, 'runbooks');
    const seeds = readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => readFileSync(join(dir, f), 'utf8'));
    const refuse = async (): Promise<never> => {
      throw new ConfigError('fuzz: no called runbooks');
    };
    await fuzz('runbook', seeds, 6000, 2, async (text) => {
      const rb = await parseRunbook({ name: 'fuzz', file: '/fuzz/fuzz.yaml', origin: 'file' }, text);
      await validateRunbook(rb, refuse);
    });
  }, 120_000);

  it('5,000 mutated expressions and templates', async () => {
    await fuzz('expression', EXPRESSIONS, 3000, 3, (text) => parseExpression(text));
    await fuzz('when', EXPRESSIONS, 1000, 4, (text) => parseWhen(text));
    await fuzz('template', TEMPLATES, 1000, 5, (text) => parseTemplate(text));
  });

  it('5,000 mutated health conditions', async () => {
    await fuzz('condition', CONDITIONS, 5000, 6, (text) => parseHealthCondition(text, 'fuzz'));
  });
});
