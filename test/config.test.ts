import { afterAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTempDirs,  tempDir } from './helpers/cli.js';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';
import { parseConfig } from '../src/config/parse.js';
import { ConfigError } from '../src/core/errors.js';

afterAll(cleanupTempDirs);

function configError(text: string): ConfigError {
  try {
    parseConfig('/x/ltc.config.yaml', text);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config parsing and validation (module)', () => {
  it('fills defaults: tag pattern, thresholds, health defaults', () => {
    const c = parseConfig('/x/ltc.config.yaml', 'app:\n  repo: ../app\nenvironments:\n  staging:\n    url: http://127.0.0.1:8080\n    health:\n      endpoints:\n        - { name: api, url: /api/health }\n');
    expect(c.app.tag_pattern).toBe('^rc-\\d{4}-\\d{2}-\\d{2}(\\.\\d+)?$');
    expect(c.thresholds.error_rate).toBe(0.001);
    expect(c.environments.staging!.health!.endpoints[0]!.conditions).toEqual(['status == 200']);
  });

  it('malformed YAML names line and column', () => {
    const err = configError('app:\n  repo: x\n  tag_pattern: [\n');
    expect(err.message).toMatch(/ltc\.config\.yaml:\d+:\d+: config is not valid YAML/);
    expect(err.exitCode).toBe(2);
  });

  it('an unclosed quote is reported where the quoted string starts, not at the end of the file', () => {
    const err = configError('version: 1\napp:\n  repo: x\nenvironments:\n  staging:\n    url: "http://a\n    health: [\n');
    expect(err.message).toMatch(/^\/x\/ltc\.config\.yaml:6:10: config is not valid YAML: .*never closed/);
    expect(err.details).toMatchObject({ line: 6, column: 10 });
    const single = configError("app:\n  repo: 'x\n  name: y\n");
    expect(single.message).toMatch(/ltc\.config\.yaml:2:9: .*never closed \(missing closing '\)/);
  });

  it('an unknown key names file:line:column, the key path and did-you-mean', () => {
    const err = configError('app:\n  repo: x\nenvironments:\n  staging:\n    protectd: true\n');
    expect(err.message).toContain('/x/ltc.config.yaml:5:5: environments.staging.protectd: unknown key "protectd"');
    expect(err.hint).toBe('did you mean "protected"?');
  });

  it('an unknown key in a secrets backend lists the keys of the backend chosen, never itself as did-you-mean', () => {
    const err = configError('app:\n  repo: x\nenvironments:\n  staging:\n    secrets: { backend: vault, path: x, adress: "http://127.0.0.1:8200" }\n');
    expect(err.message).toMatch(/secrets\.path: unknown key "path"\n\s+\(allowed keys here: backend, address, mount, path_prefix, required\)/);
    expect(err.message).toMatch(/secrets\.adress: unknown key "adress"\n\s+\(did you mean "address"\?\)/);
    expect(err.message).not.toMatch(/did you mean "path"/);
    const file = configError('app:\n  repo: x\nenvironments:\n  staging:\n    secrets: { backend: file, region: eu-central-1 }\n');
    expect(file.message).toMatch(/secrets\.region: unknown key "region"/);
    expect(file.hint).toBe('allowed keys here: backend, path, key_file, required');
  });

  it('a wrong type names what was expected', () => {
    const err = configError('app:\n  repo: x\nthresholds:\n  error_rate: lots\n');
    expect(err.message).toMatch(/:4:15: thresholds\.error_rate: .*expected number/);
  });

  it('a missing required key is reported at its parent', () => {
    const err = configError('app:\n  tag_pattern: "^rc-"\n');
    expect(err.message).toMatch(/app\.repo: missing required key/);
  });

  it('an invalid regular expression as tag pattern is an error', () => {
    const err = configError('app:\n  repo: x\n  tag_pattern: "rc-("\n');
    expect(err.message).toMatch(/app\.tag_pattern: expected a regular expression RE2 can run in linear time/);
  });

  it('several problems: each one with its own hint', () => {
    const err = configError('app:\n  repo: x\nenvironments:\n  s:\n    protectd: true\nthresholds:\n  eror_rate: 0.1\n');
    expect(err.message).toMatch(/protectd[^\n]*\n\s+\(did you mean "protected"\?\)/);
    expect(err.message).toMatch(/eror_rate[^\n]*\n\s+\(did you mean "error_rate"\?\)/);
  });

  it('health config is checked as strictly as ltc health uses it', () => {
    const env = (body: string) => `app:\n  repo: x\nenvironments:\n  s:\n${body}`;
    expect(configError(env('    url: ftp://x.example\n')).message).toMatch(/environments\.s\.url: expected an http\(s\) URL/);
    expect(configError(env('    health:\n      endpoints:\n        - { name: api, url: /api/health }\n')).message).toMatch(/endpoints\[0\]\.url: "\/api\/health" is a path, but this environment has no url/);
    const withUrl = (ep: string) => env(`    url: http://127.0.0.1:1\n    health:\n      endpoints:\n        - ${ep}\n`);
    expect(configError(withUrl('{ name: api, url: /, conditions: [] }')).message).toMatch(/expected at least one condition/);
    expect(configError(withUrl('{ name: api, url: /, timeout: 0s }')).message).toMatch(/expected a timeout from 1ms to 1h/);
    expect(configError(withUrl('{ name: api, url: /, timeout: 99999999h }')).message).toMatch(/expected a timeout/);
    expect(configError(withUrl('{ name: api, url: /, headers: { "bad header": x } }')).message).toMatch(/expected an HTTP header name/);
  });

  it('a duration that is not one gets one message (not also the range), and ranges read 1h, not 3600s', () => {
    const err = configError('app:\n  repo: x\nenvironments:\n  s:\n    url: http://127.0.0.1:1\n    health:\n      timeout: 5 s\n      backoff: 2h\n');
    const lines = err.message.split('\n').filter((l) => l.includes('environments.s.health.timeout'));
    expect(lines).toEqual([expect.stringMatching(/:7:16: environments\.s\.health\.timeout: expected a duration such as 500ms, 5s, 2m, 1h$/)]);
    expect(err.message).toMatch(/environments\.s\.health\.backoff: expected a backoff from 0ms to 1h/);
  });

  it('an environment name that is not lower-case says what a name may be', () => {
    const err = configError('app:\n  repo: x\nenvironments:\n  Staging:\n    url: http://127.0.0.1:1\n');
    expect(err.message).toMatch(/environments\.Staging: key "Staging": an environment name is lower-case letters, digits and -, starting with a letter \(e\.g\. staging, prod\)/);
  });

  it('a bad key is shown at the key (line 4, column 3), not at its value', () => {
    const err = configError('app:\n  repo: x\nenvironments:\n  Staging:\n    url: http://127.0.0.1:1\n');
    expect(err.message).toMatch(/ltc\.config\.yaml:4:3: environments\.Staging/);
  });

  it('yes/no where a boolean is expected: says to write true or false', () => {
    const err = configError('app:\n  repo: x\nenvironments:\n  prod:\n    protected: yes\n');
    expect(err.message).toMatch(/environments\.prod\.protected/);
    expect(err.hint).toMatch(/write true or false/);
  });

  it('several problems are listed in file order', () => {
    const err = configError('thresholds:\n  eror_rate: 0.1\napp:\n  repo: x\nenvironments:\n  s:\n    protectd: true\n');
    const at = (key: string) => err.message.indexOf(key);
    expect(at('eror_rate')).toBeGreaterThan(-1);
    expect(at('eror_rate')).toBeLessThan(at('protectd'));
  });

  it('gates: a name used twice, a gate named like a phase, a timeout of 0 are refused', () => {
    const gates = (body: string) => `app:\n  repo: x\nenvironments:\n  s: {}\ngates:\n${body}`;
    expect(configError(gates('  - { name: unit, run: [npm, test] }\n  - { name: unit, run: [npm, run, e2e] }\n')).message).toMatch(/gates\[1\]\.name: gate name "unit" is used twice/);
    expect(configError(gates('  - { name: setup, run: [npm, test] }\n')).message).toMatch(/gates\[0\]\.name: "setup" is a phase of ltc gates run/);
    expect(configError(gates('  - { name: unit, run: [npm, test], timeout: 0s }\n')).message).toMatch(/gates\[0\]\.timeout: expected a gate timeout from 1s/);
  });

  it('an unknown target type gets did-you-mean', () => {
    const err = configError('app:\n  repo: x\nenvironments:\n  s:\n    target:\n      type: lokal\n      deploy_root: /x\n');
    expect(err.message).toMatch(/target\.type: expected type to be one of "local"/);
    expect(err.hint).toBe('did you mean "local"?');
  });
});

describe('ltc init / config validate / config show (binary)', () => {
  it('init writes a commented config that validates, with the five handbook gates', async () => {
    const dir = await tempDir();
    const init = await runLtc(['init'], { cwd: dir });
    expect(init.code).toBe(0);
    const text = await readFile(join(dir, 'ltc.config.yaml'), 'utf8');
    expect(text).toMatch(/^# /m);
    const v = await runLtc(['config', 'validate', '--json'], { cwd: dir });
    expect(v.code).toBe(0);
    expect(v.json).toMatchObject({ ok: true, environments: ['staging', 'prod'], gates: ['diff-check', 'build', 'e2e', 'test-all', 'ist-check'] });
  });

  it('init refuses to overwrite without --force (exit 2, file unchanged)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'ltc.config.yaml'), 'mine\n');
    const r = await runLtc(['init'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already exists/);
    expect(await readFile(join(dir, 'ltc.config.yaml'), 'utf8')).toBe('mine\n');
  });

  it('init --repo writes the value as given, also with $ sequences a string replace would expand', async () => {
    for (const repo of ['/srv/repo$&x', "/srv/a$'b", '/srv/$$/c', 'git@github.com:ex/a.git']) {
      const dir = await tempDir();
      const r = await runLtc(['init', '--repo', repo], { cwd: dir });
      expect(r.code).toBe(0);
      const show = await runLtc(['config', 'show', '--env', 'staging', '--json'], { cwd: dir });
      expect(show.json).toMatchObject({ config: { app: { repo } } });
    }
  });

  it('finds the config upward from a subfolder, or via LTC_CONFIG', async () => {
    const dir = await tempDir();
    await runLtc(['init'], { cwd: dir });
    const sub = join(dir, 'a');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(sub, 'b'), { recursive: true }));
    expect((await runLtc(['config', 'validate'], { cwd: join(sub, 'b') })).code).toBe(0);
    const other = await tempDir();
    expect((await runLtc(['config', 'validate'], { cwd: other, env: { LTC_CONFIG: join(dir, 'ltc.config.yaml') } })).code).toBe(0);
  });

  it('--config or LTC_CONFIG naming a folder: exit 2 naming the file to pass', async () => {
    const dir = await tempDir();
    await runLtc(['init'], { cwd: dir });
    const other = await tempDir();
    const r = await runLtc(['config', 'validate', '--config', dir], { cwd: other });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: --config ${dir} is a folder, not a config file`);
    expect(r.stderr).toContain(`hint: pass the file: --config ${join(dir, 'ltc.config.yaml')}`);
    const viaEnv = await runLtc(['config', 'validate', '--json'], { cwd: other, env: { LTC_CONFIG: other } });
    expect(viaEnv.code).toBe(2);
    expect(viaEnv.json).toMatchObject({ ok: false, error: { code: 'config', message: `LTC_CONFIG ${other} is a folder, not a config file` } });
    expect((viaEnv.json as { error: { hint: string } }).error.hint).toMatch(/point LTC_CONFIG at the config file/);
  });

  it('config show --env resolves one environment; an unknown one exits 2 with did-you-mean', async () => {
    const dir = await tempDir();
    await runLtc(['init'], { cwd: dir });
    const show = await runLtc(['config', 'show', '--env', 'staging', '--json'], { cwd: dir });
    expect(show.code).toBe(0);
    expect(show.json).toMatchObject({ ok: true, config: { environment: { name: 'staging', protected: false, target: { type: 'local', keep_releases: 5 } } } });
    const bad = await runLtc(['config', 'show', '--env', 'stagin'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown environment "stagin"/);
    expect(bad.stderr).toMatch(/did you mean "staging"/);
    const viaEnv = await runLtc(['config', 'show', '--json'], { cwd: dir, env: { LTC_ENV: 'prod' } });
    expect(viaEnv.json).toMatchObject({ config: { environment: { name: 'prod', protected: true } } });
  });

  it('an invalid config exits 2 with file:line:column and no stack trace', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'ltc.config.yaml'), 'app:\n  repo: x\n  colour: blue\n');
    const r = await runLtc(['config', 'validate'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'ltc.config.yaml')}:3:3: app.colour: unknown key "colour"`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('validated-config cache', () => {
  it('serves an unchanged config from the cache and re-validates an edited one', async () => {
    const dir = await tempDir();
    const cache = await tempDir();
    const env = { XDG_CACHE_HOME: cache };
    await runLtc(['init'], { cwd: dir, env });
    expect((await runLtc(['config', 'validate'], { cwd: dir, env })).code).toBe(0);
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(join(cache, 'ltc', 'config'))).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    const file = join(dir, 'ltc.config.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('protected: true', 'protectd: true'));
    const edited = await runLtc(['config', 'validate'], { cwd: dir, env });
    expect(edited.code).toBe(2);
    expect(edited.stderr).toMatch(/unknown key "protectd"/);
  });
});
