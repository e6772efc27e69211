import { describe, expect, it } from 'vitest';
import { ExprSyntaxError, UNKNOWN, evaluate, parseExpression, referencesOf, type Resolver } from '../src/runbook/expr.js';
import { parseCondition, parseTemplate, renderTemplate, resolveDeep } from '../src/runbook/template.js';

const values: Record<string, string | number | boolean | null> = {
  'inputs.env': 'prod',
  'inputs.count': 3,
  'inputs.force': false,
  'steps.build.outputs.stdout': '200',
  'steps.build.status': 'ok',
  'env.HOME': '/root',
  'config.app.name': 'lifetimecircle',
  'config.gates.0.name': 'diff',
};
const resolve: Resolver = (path) => (path.join('.') in values ? values[path.join('.')]! : null);
const ev = (src: string) => evaluate(parseExpression(src), resolve);

describe('runbook expressions: tokenizer, parser, evaluator (no eval)', () => {
  it('compares references with literals', () => {
    expect(ev('inputs.env == "prod"')).toBe(true);
    expect(ev("inputs.env != 'prod'")).toBe(false);
    expect(ev('inputs.count >= 3 && inputs.count < 4')).toBe(true);
    expect(ev('inputs.count > 3 || inputs.env == "prod"')).toBe(true);
    expect(ev('!inputs.force')).toBe(true);
    expect(ev('!(inputs.env == "prod" && !inputs.force)')).toBe(false);
    expect(ev('-1 < 0')).toBe(true);
    expect(ev('null == inputs.missing')).toBe(true);
  });

  it('compares a numeric string output with a number as numbers', () => {
    expect(ev('steps.build.outputs.stdout == 200')).toBe(true);
    expect(ev('steps.build.outputs.stdout > 99')).toBe(true);
    expect(ev('steps.build.outputs.stdout == "200"')).toBe(true);
  });

  it('reads env, config paths with index segments and step status', () => {
    expect(ev('env.HOME')).toBe('/root');
    expect(ev('config.gates.0.name == "diff"')).toBe(true);
    expect(ev('config.gates[0].name')).toBe('diff');
    expect(ev('config["app"].name')).toBe('lifetimecircle');
    expect(ev('steps.build.status == "ok"')).toBe(true);
  });

  it('gives precedence to && over || and allows parentheses', () => {
    expect(ev('true || false && false')).toBe(true);
    expect(ev('(true || false) && false')).toBe(false);
  });

  it('lists the references of an expression', () => {
    expect(referencesOf(parseExpression('inputs.a == steps.b.outputs.c || env.D')).map((r) => r.path.join('.'))).toEqual(['inputs.a', 'steps.b.outputs.c', 'env.D']);
  });

  it('uses three-valued logic for values known only at run time', () => {
    const unknownSteps: Resolver = (p) => (p[0] === 'steps' ? UNKNOWN : resolve(p));
    const plan = (src: string) => evaluate(parseExpression(src), unknownSteps);
    expect(plan('steps.build.outputs.stdout == "200"')).toBe(UNKNOWN);
    expect(plan('inputs.force && steps.build.outputs.stdout == "200"')).toBe(false);
    expect(plan('inputs.env == "prod" || steps.build.status == "ok"')).toBe(true);
    expect(plan('!steps.build.status')).toBe(UNKNOWN);
  });

  it.each([
    ['inputs.env = "prod"', /compare with "=="/],
    ['inputs.env == ', /expected a value but found end of expression/],
    ['(inputs.env == "prod"', /expected "\)"/],
    ['inputs.env == "prod', /unterminated string/],
    ['inputs.a & inputs.b', /use "&&"/],
    ['inputs.a == 1 == 2', /comparisons do not chain/],
    ['inputs.', /expected a name after "\."/],
    ['process.exit(1)', /unexpected "\("/],
    ['a; rm -rf /', /unexpected character ";"/],
    ['', /empty expression/],
  ])('rejects %j with a syntax error naming the problem', (src, message) => {
    expect(() => parseExpression(src)).toThrow(ExprSyntaxError);
    expect(() => parseExpression(src)).toThrow(message);
  });

  it('never evaluates code: constructor-style access is just a missing reference', () => {
    expect(ev('inputs.constructor')).toBe(null);
    expect(ev('inputs["__proto__"]')).toBe(null);
  });
});

describe('runbook templates: ${{ }} in strings', () => {
  it('keeps the type of a whole-string expression and splices text otherwise', () => {
    expect(renderTemplate(parseTemplate('${{ inputs.count }}'), resolve)).toBe(3);
    expect(renderTemplate(parseTemplate('n=${{ inputs.count }} env=${{inputs.env}}'), resolve)).toBe('n=3 env=prod');
    expect(renderTemplate(parseTemplate('${{ inputs.missing }}x'), resolve)).toBe('x');
  });

  it('finds the closing braces outside quoted strings', () => {
    expect(renderTemplate(parseTemplate('${{ inputs.env == "}}" }}'), resolve)).toBe(false);
  });

  it('reports an unclosed expression and the offset of a syntax error inside the string', () => {
    expect(() => parseTemplate('a ${{ inputs.x')).toThrow(/without a closing/);
    try {
      parseTemplate('abc ${{ inputs.x = 1 }}');
      expect.unreachable();
    } catch (err) {
      expect((err as ExprSyntaxError).offset).toBe('abc ${{ inputs.x '.length);
    }
  });

  it('resolves a value deeply, keeping unknown templates as written', () => {
    const unknownSteps: Resolver = (p) => (p[0] === 'steps' ? UNKNOWN : resolve(p));
    const r = resolveDeep({ argv: ['echo', '${{ inputs.env }}', '${{ steps.x.outputs.y }}'], n: '${{ inputs.count }}' }, unknownSteps);
    expect(r).toEqual({ value: { argv: ['echo', 'prod', '${{ steps.x.outputs.y }}'], n: 3 }, unknown: true });
    expect(resolveDeep(['${{ inputs.count }}'], resolve, { asText: true }).value).toEqual(['3']);
  });

  it('parses conditions bare or wrapped', () => {
    expect(evaluate(parseCondition('inputs.env == "prod"').expr, resolve)).toBe(true);
    expect(evaluate(parseCondition(' ${{ inputs.env == "dev" }} ').expr, resolve)).toBe(false);
    expect(() => parseCondition('${{ inputs.a }} and ${{ inputs.b }}')).toThrow(/one expression/);
  });
});
