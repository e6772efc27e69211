import { describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../src/core/errors.ts';
import { userRegex, userRegexProblem } from '../src/core/user-regex.ts';
import { parseConfig } from '../src/config/parse.ts';
import { parseCondition } from '../src/http/conditions.ts';
import { ExprSyntaxError, parseExpression } from '../src/runbook/expr.ts';
import { generateSecret } from '../src/secrets/generate.ts';
import { ltcInProcess } from './helpers/inproc.ts';

const cfg = (extra: string) => `version: 1\napp:\n  name: demo\n  repo: ./app\n${extra}`;

describe('bad input is exit 2 (ConfigError/UsageError), never an internal error', () => {
  it('a backtracking pattern runs on RE2: ^(a+)+$ against 41 characters and a refused backreference', () => {
    expect(userRegex('^(a+)+$').test(`${'a'.repeat(41)}!`)).toBe(false);
    expect(userRegex('^(a+)+$').test('a'.repeat(41))).toBe(true);
    expect(userRegexProblem('(a)\\1')).toMatch(/backreference/);
    expect(userRegexProblem('a(?=b)')).toMatch(/lookahead/);
    expect(() => userRegex('(a)\\1', 'app.tag_pattern')).toThrow(ConfigError);
    expect(() => parseConfig('/x/c.yaml', cfg('  tag_pattern: "(a)\\\\1"\n'))).toThrow(/c\.yaml:5:\d+: app\.tag_pattern: .*backreference/);
  });
  it('YAML: alias bomb, unresolved alias, nesting, collection keys', () => {
    const bomb = ['a: &a [x,x,x,x,x,x,x,x,x]', ...'bcdefg'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(',')}]`)].join('\n');
    expect(() => parseConfig('/x/c.yaml', bomb)).toThrow(ConfigError);
    expect(() => parseConfig('/x/c.yaml', 'version: 1\napp: *nope\n')).toThrow(/refers to no anchor/);
    expect(() => parseConfig('/x/c.yaml', `version: 1\napp: ${'['.repeat(20000)}${']'.repeat(20000)}`)).toThrow(/nested too deep/);
    expect(() => parseConfig('/x/c.yaml', `version: 1\napp: ${'['.repeat(100)}${']'.repeat(100)}`)).toThrow(/nested too deep/);
    expect(() => parseConfig('/x/c.yaml', 'version: 1\n? [a, b]\n: 1\n')).toThrow(/list, map or alias as a key/);
  });
  it('condition literals with a bad escape or a control character', () => {
    expect(() => parseCondition('body contains "\\x41"')).toThrow(/bad escape/);
    expect(() => parseCondition('body contains "a\u0001b"')).toThrow(/control character/);
    expect(() => parseCondition('body matches "(a)\\\\1"')).toThrow(ConfigError);
    expect(parseCondition('body matches "^ok"').op).toBe('matches');
  });
  it('expressions: x.-1, 5,000 parentheses, 100,000 !', () => {
    for (const src of ['x.-1', 'inputs.-1', `${'('.repeat(5000)}true${')'.repeat(5000)}`, `${'!'.repeat(100000)}true`, `${'!'.repeat(70)}true`]) {
      expect(() => parseExpression(src)).toThrow(ExprSyntaxError);
    }
  });
  it('--bytes 999999999999 and target.env keys with = or a newline', () => {
    expect(() => generateSecret('API_TOKEN', undefined, { bytes: 999999999999 })).toThrow(UsageError);
    const env = (key: string) => cfg(`environments:\n  s:\n    url: http://127.0.0.1:1\n    target: { type: local, deploy_root: /tmp/x, start: [node, s.mjs], env: { ${JSON.stringify(key)}: v } }\n`);
    expect(() => parseConfig('/x/c.yaml', env('A=B'))).toThrow(/environment variable name/);
    expect(() => parseConfig('/x/c.yaml', env('A\nB'))).toThrow(/environment variable name/);
  });
  it('`ltc <unknown command> --help` is exit 2 with did-you-mean, not the root help with exit 0', async () => {
    const typo = await ltcInProcess(['deplyo', '--help']);
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toContain("unknown command 'deplyo'");
    expect(typo.stderr).toContain('did you mean "deploy"?');
    const sub = await ltcInProcess(['secrets', 'rotte', '-h']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain("unknown command 'rotte' for `ltc secrets`");
    expect(sub.stderr).toContain('did you mean "rotate"?');
    expect((await ltcInProcess(['nosuch', '--help', '--json'])).code).toBe(2);
    // Known commands and a runbook name as an argument still get their help.
    expect(await ltcInProcess(['secrets', 'rotate', '--help'])).toMatchObject({ code: 0 });
    const rb = await ltcInProcess(['runbook', 'run', 'whatever', '--help']);
    expect(rb.code).toBe(0);
    expect(rb.stdout).toContain('Usage: ltc runbook run');
  });
  it('`ltc health --url` with CR/LF, a tab or a space at its start is exit 2 naming the character, not a rewritten URL', async () => {
    for (const [url, what] of [
      ['http://127.0.0.1:1/\r\nX-Injected: y', 'the control character U+000D'],
      ['http://127.0.0.1:1/a\tb', 'the control character U+0009'],
      [' http://127.0.0.1:1/', 'has a space at its start'],
    ] as const) {
      const r = await ltcInProcess(['health', '--url', url]);
      expect(r.code, url).toBe(2);
      expect(r.stderr).toContain(what.startsWith('has') ? what : `contains ${what}`);
      expect(r.stderr).not.toContain('\r');
      expect(r.stdout).toBe('');
    }
  });
});
