import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { groupDescription } from '../src/cli/main.js';
import { cleanupTempDirs,  } from './helpers/cli.js';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';

afterAll(cleanupTempDirs);

describe('group descriptions in help', () => {
  it('a group with one command shows that command and what it does; with several, "commands: a, b"', () => {
    const one = new Command('hook');
    one.command('install').description('install a pre-commit hook');
    expect(groupDescription(one.commands)).toBe('install: install a pre-commit hook');
    const many = new Command('lock');
    many.command('status').description('who holds it');
    many.command('release').description('clear it');
    expect(groupDescription(many.commands)).toBe('commands: status, release');
  });

  it('ltc secrets --help describes the hook group by its one command', async () => {
    const r = await runLtc(['secrets', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}hook\s+install: install a git pre-commit hook/m);
    const hook = await runLtc(['secrets', 'hook', '--help']);
    expect(hook.stdout).toMatch(/^install: install a git pre-commit hook/m);
  });
});

describe('parse errors never repeat what was typed as a value', () => {
  const SECRET = 's3cr3tVALUE';
  const both = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;

  it('surplus arguments: the count, not the arguments (human and --json)', async () => {
    const r = await runLtc(['lock', 'status', SECRET, 'other-s3cr3t']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: too many arguments for `ltc lock status`: expected 0 arguments but got 2.');
    expect(r.stderr).toMatch(/hint: see `ltc lock status --help`/);
    expect(both(r)).not.toContain(SECRET);
    expect(both(r)).not.toContain('other-s3cr3t');
    const j = await runLtc(['secrets', 'get', 'NAME', SECRET, '--json']);
    expect(j.code).toBe(2);
    expect(j.json).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringMatching(/expected 1 argument but got 2\.$/) } });
    expect(both(j)).not.toContain(SECRET);
  });

  it('--unknown=value names the option only, with did-you-mean (human and --json)', async () => {
    const r = await runLtc(['lock', 'status', `--jsn=${SECRET}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown option '--jsn'");
    expect(r.stderr).toContain('hint: did you mean --json?');
    expect(both(r)).not.toContain(SECRET);
    const j = await runLtc(['--json', 'lock', 'status', `--foo=${SECRET}`]);
    expect(j.code).toBe(2);
    expect(j.json).toMatchObject({ ok: false, error: { code: 'usage', message: "unknown option '--foo'", hint: 'see `ltc lock status --help` for its options' } });
    expect(both(j)).not.toContain(SECRET);
    const global = await runLtc([`--jsn=${SECRET}`, 'releases']);
    expect(global.code).toBe(2);
    expect(global.stderr).toContain('hint: did you mean --json?');
    expect(both(global)).not.toContain(SECRET);
  });

  it('a value given to a flag that takes none: "takes no value", without the value', async () => {
    const r = await runLtc(['secrets', 'get', 'NAME', `--reveal=${SECRET}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: option '--reveal' takes no value");
    expect(both(r)).not.toContain(SECRET);
    const j = await runLtc(['secrets', 'get', 'NAME', '--json', `--yes=${SECRET}`]);
    expect(j.code).toBe(2);
    expect(j.json).toMatchObject({ ok: false, error: { code: 'usage', message: "option '--yes' takes no value" } });
    expect(both(j)).not.toContain(SECRET);
  });
});

describe('help as JSON', () => {
  it('--help --json and help <topic> --json print one JSON document describing the command', async () => {
    const deploy = await runLtc(['deploy', '--help', '--json']);
    expect(deploy.code).toBe(0);
    const doc = JSON.parse(deploy.stdout) as { ok: boolean; command: string; options: { flags: string }[]; help: string };
    expect(doc.ok).toBe(true);
    expect(doc.command).toBe('ltc deploy');
    expect(doc.options.map((o) => o.flags)).toContain('--rc <tag>');
    expect(doc.help).toContain('Usage: ltc deploy');

    const top = JSON.parse((await runLtc(['--help', '--json'])).stdout) as { commands: { name: string }[] };
    expect(top.commands.map((c) => c.name)).toEqual(expect.arrayContaining(['deploy', 'rollback', 'secrets', 'gates']));

    const topic = JSON.parse((await runLtc(['help', 'lock', '--json'])).stdout) as { command: string; commands: { name: string }[] };
    expect(topic.command).toBe('ltc lock');
    expect(topic.commands.map((c) => c.name)).toContain('release');
  });
});

describe('--env and --config with an empty value or an option as value are refused (exit 2), not read as "not given"', () => {
  it('an empty --env/--config (an unset shell variable) or `--env --json` changes nothing and says what was wrong', async () => {
    const { mkdtempSync, writeFileSync, existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ltc-empty-flag-'));
    writeFileSync(join(dir, 'ltc.config.yaml'), 'version: 1\napp: { repo: ./app }\nenvironments:\n  staging:\n    target: { type: local, deploy_root: ./deploy, start: [node, server.mjs] }\n');
    const cases: Array<[string[], RegExp]> = [
      [['lock', 'status', '--env', ''], /--env was given an empty value/],
      [['lock', 'status', '--env='], /--env was given an empty value/],
      [['lock', 'status', '--config', ''], /--config was given an empty value/],
      [['lock', 'status', '--env', '--json'], /--env needs a value, but was followed by the option \\?"--json/],
      [['rollback', '--env', '  '], /--env was given an empty value/],
      [['deploy', '--rc', '', '--env', 'staging'], /--rc was given an empty value/],
      [['runbook', 'run', 'deploy', '--approve', ''], /--approve needs a step id \(it was given an empty one\)/],
      // commander takes "--config" as the environment and fails on the stray "x": the --env is the mistake.
      [['releases', '--env', '--config', 'x'], /--env needs a value, but was followed by the option \\?"--config/],
      [['releases', '--config', '--env', 'staging'], /--config needs a value, but was followed by the option \\?"--env/],
      // After `--` an option is an argument: not "unknown command, did you mean …".
      [['--', '--help'], /unknown command '--help': after `--` every word is taken as an argument/],
      [['runbook', '--', '--help'], /`ltc runbook --help` lists the commands/],
    ];
    for (const [args, message] of cases) {
      const r = await runLtc(args, { cwd: dir, env: { LTC_CONFIG: join(dir, 'ltc.config.yaml'), LTC_ENV: 'staging' } });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout + r.stderr, args.join(' ')).toMatch(message);
    }
    expect(existsSync(join(dir, 'deploy'))).toBe(false);
    const ok = await runLtc(['lock', 'status', '--env', 'staging'], { cwd: dir });
    expect(ok.code).toBe(0);
  });
});

describe('what a user typed is shown escaped, flags that do not apply are refused, not ignored', () => {
  const setup = async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { randomBytes } = await import('node:crypto');
    const dir = mkdtempSync(join(tmpdir(), 'ltc-typed-'));
    writeFileSync(
      join(dir, 'ltc.config.yaml'),
      'version: 1\napp: { repo: ./app }\nenvironments:\n  staging:\n    target: { type: local, deploy_root: ./deploy, start: [node, server.mjs] }\n    secrets: { backend: file }\n',
    );
    return { dir, env: { LTC_MASTER_KEY: randomBytes(32).toString('base64'), LTC_ENV: 'staging' } };
  };

  it('--hosts/--roles on a local target: exit 2 for releases, deploy, rollback, stop and status', async () => {
    const { dir, env } = await setup();
    for (const args of [['releases', '--hosts', 'web1'], ['rollback', '--roles', 'api'], ['deploy', '--rc', 'rc-2026-03-01', '--hosts', 'web1', '--skip-gates'], ['stop', '--hosts', 'web1'], ['status', '--roles', 'api']]) {
      const r = await runLtc(args, { cwd: dir, env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/--(hosts|roles) is for ssh targets; environment staging has a local target/);
    }
  });

  it('a secret name, an environment name or a runbook input with control characters is shown escaped, on one line', async () => {
    const { dir, env } = await setup();
    const bad = await runLtc(['secrets', 'get', 'BAD\nNAME\u001b[31m'], { cwd: dir, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe('error: invalid secret name "BAD\\nNAME\\u001b[31m"');
    const envName = await runLtc(['lock', 'status', '--env', 'x\u001b[2J'], { cwd: dir, env });
    expect(envName.code).toBe(2);
    expect(envName.stderr).toContain('unknown environment "x\\u001b[2J"');
    expect(envName.stderr).not.toContain('\u001b');
    // Whatever an error repeats is escaped on the way out: a runbook name, a golive id, a bidi override.
    for (const args of [['runbook', 'run', 'rb\u001b[31m'], ['runbook', 'show', 'x\u202ey'], ['golive', 'signoff', 'a\u001b[2Jb', '--rc', 'rc-2026-03-01', '--by', 'J']]) {
      const r = await runLtc(args, { cwd: dir, env });
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).not.toMatch(/[\u001b\u202e]/);
      expect(r.stderr).toMatch(/\\u(001b|202e)/);
    }
  });

  it("what a step prints (--verbose) and why it failed are shown escaped: a step's escape sequence cannot clear the screen", async () => {
    const { dir, env } = await setup();
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    mkdirSync(join(dir, 'runbooks'));
    writeFileSync(
      join(dir, 'runbooks', 'loud.yaml'),
      [
        'name: Loud',
        'steps:',
        '  - id: print',
        `    run: { command: [${process.execPath}, -e, "console.log('before\\u001b[2Jafter')"] }`,
        '  - id: progress',
        `    run: { command: [${process.execPath}, -e, "process.stdout.write('bundle 10%\\\\rbundle 100%\\\\r\\\\ndone\\\\r\\\\nFAILED: 3 tests\\\\rOK\\\\n')"] }`,
        '  - id: fail',
        `    run: { command: [${process.execPath}, -e, "console.error('\\u001b[31mred\\u202e'); process.exit(1)"] }`,
        '',
      ].join('\n'),
    );
    const r = await runLtc(['runbook', 'run', 'loud', '--verbose'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(1);
    const all = r.stdout + r.stderr;
    expect(all).toContain('print | before\\u001b[2Jafter');
    // A colour (what children print with FORCE_COLOR) is dropped, not shown as an escape; the bidi override is escaped.
    expect(all).toContain('fail | red\\u202e');
    // A progress line that redraws itself shows where it ended, as on a terminal; a CRLF line end loses its CR.
    expect(all).toMatch(/^progress \| bundle 100%$/m);
    expect(all).toMatch(/^progress \| done$/m);
    // A shorter redraw leaves the rest of the line visible, as on a terminal: a failure cannot be overdrawn with OK.
    expect(all).toMatch(/^progress \| OKILED: 3 tests$/m);
    expect(all).not.toContain('\\u000d');
    expect(all).not.toMatch(/[\u001b\u202e]/);
  });

  it('text ltc keeps and shows again (incident title, note, update; a sign-off note) must be one printable line (exit 2)', async () => {
    const { dir, env } = await setup();
    for (const args of [
      ['incident', 'open', '--sev', '2', '--title', 'checkout\u001b[2J down'],
      ['incident', 'open', '--sev', '2', '--title', 'ok', '--impact', 'a\nFAKE: resolved'],
      ['incident', 'note', 'INC-20261207-1', 'x\u2028y'],
      ['golive', 'signoff', 'approvals.management', '--rc', 'rc-2026-03-01', '--by', 'J', '--note', 'ok\u2028next'],
    ]) {
      const r = await runLtc(args, { cwd: dir, env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/holds a control character or a line break/);
    }
  });

  it('secrets get --stage/--version-id without --reveal shows that version only, or exit 2 when there is none', async () => {
    const { dir, env } = await setup();
    expect((await runLtc(['secrets', 'generate', 'API_TOKEN'], { cwd: dir, env })).code).toBe(0);
    const prev = await runLtc(['secrets', 'get', 'API_TOKEN', '--stage', 'previous'], { cwd: dir, env });
    expect(prev.code).toBe(2);
    expect(prev.stderr).toMatch(/API_TOKEN has no previous version/);
    expect((await runLtc(['secrets', 'generate', 'API_TOKEN', '--yes'], { cwd: dir, env })).code).toBe(0);
    const now = await runLtc(['secrets', 'get', 'API_TOKEN', '--stage', 'previous', '--json'], { cwd: dir, env });
    expect(now.code, now.stderr).toBe(0);
    const versions = (now.json as { secret: { versions: Array<{ stages: string[] }> } }).secret.versions;
    expect(versions).toHaveLength(1);
    expect(versions[0]!.stages).toContain('previous');
    const id = await runLtc(['secrets', 'get', 'API_TOKEN', '--version-id', 'nope'], { cwd: dir, env });
    expect(id.code).toBe(2);
    const both = await runLtc(['secrets', 'get', 'API_TOKEN', '--stage', 'current', '--version-id', '1', '--reveal', '--yes'], { cwd: dir, env });
    expect(both.code).toBe(2);
    expect(both.stdout).toBe('');
    expect(both.stderr).toMatch(/--stage and --version-id each pick a version/);
  });

  it('`--json` after `--` is an argument: the usage error is text, not JSON', async () => {
    const { dir, env } = await setup();
    const r = await runLtc(['releases', '--', '--json'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: too many arguments/);
  });
});
