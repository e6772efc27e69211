import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTempDirs,  tempDir } from './helpers/cli.js';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';
import { journals, opsDir, stillRunningAfter } from './helpers/runbooks.js';

afterAll(cleanupTempDirs);

const NODE = process.execPath;

const flow = `# yaml-language-server: $schema=../schema/runbook.schema.json
name: Flow
inputs:
  who: { required: true, pattern: '^[a-z]+$' }
  loud: { type: boolean, default: false }
  level: { type: enum, values: [low, high], default: low }
steps:
  - id: greet
    name: Greet someone
    run: [echo, "hello \${{ inputs.who }}"]
  - id: shout
    when: inputs.loud
    run: [echo, HELLO]
  - id: check
    assert:
      that: steps.greet.outputs.stdout == "hello world" && steps.shout.status == "skipped"
      message: greeting was \${{ steps.greet.outputs.stdout }}
  - id: count
    run: [node, -e, "console.log(6 * 7)"]
    outputs:
      answer: \${{ steps.count.outputs.stdout }}
outputs:
  greeting: \${{ steps.greet.outputs.stdout }}
  answer: \${{ steps.count.outputs.answer }}
`;

describe('ltc runbook run: steps, outputs, journal', () => {
  it('runs steps in order, passes outputs, skips by when, prints plain lines and writes the journal', async () => {
    const dir = await opsDir({ flow });
    const r = await runLtc(['runbook', 'run', 'flow', '--input', 'who=world'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✓ greet Greet someone \d+ms$/m);
    expect(r.stdout).toMatch(/^- shout \(skipped: when is false: inputs\.loud\)$/m);
    expect(r.stdout).toMatch(/^✓ check \d+ms$/m);
    expect(r.stdout).toMatch(/outputs:\n {2}greeting: hello world\n {2}answer: 42/);
    expect(r.stdout).not.toMatch(/\u001b\[/);

    const [[runId, events]] = [...(await journals(dir))];
    const header = events![0]!;
    expect(header).toMatchObject({ t: 'run', runId, runbook: 'flow', title: 'Flow', file: join(dir, 'runbooks', 'flow.yaml'), inputs: { who: 'world', loud: false, level: 'low' }, argv: ['runbook', 'run', 'flow', '--input', 'who=world'] });
    expect(typeof header.actor).toBe('string');
    expect(typeof header.pid).toBe('number');
    expect(events!.filter((e) => e.t === 'start').map((e) => e.id)).toEqual(['greet', 'check', 'count']);
    expect(events!.find((e) => e.t === 'end' && e.id === 'greet')).toMatchObject({ status: 'ok', outputs: { stdout: 'hello world', exit_code: 0 } });
    expect(events!.find((e) => e.t === 'end' && e.id === 'shout')).toMatchObject({ status: 'skipped' });
    expect(events!.at(-1)).toMatchObject({ t: 'done', status: 'ok', outputs: { greeting: 'hello world', answer: '42' } });
  });

  it('--json prints one summary document; --verbose streams output prefixed by the step id', async () => {
    const dir = await opsDir({ flow });
    const r = await runLtc(['runbook', 'run', 'flow', '--input', 'who=world', '--input', 'loud=yes', '--json', '--verbose'], { cwd: dir });
    expect(r.code).toBe(1); // the assert fails: shout ran
    expect(r.json).toMatchObject({
      ok: false,
      status: 'failed',
      failedStep: 'check',
      error: { code: 'check_failed', message: 'greeting was hello world' },
      steps: [
        { id: 'greet', status: 'ok', outputs: { stdout: 'hello world' } },
        { id: 'shout', status: 'ok', outputs: { stdout: 'HELLO' } },
        { id: 'check', status: 'failed', error: { exitCode: 1 } },
      ],
    });
    expect(r.stderr).toMatch(/^greet \| hello world$/m);
    expect(r.stderr).toMatch(/^shout \| HELLO$/m);
    expect(r.stdout.trim().startsWith('{')).toBe(true);
  });
});

describe('ltc runbook run: bad input changes nothing', () => {
  it('a missing required input: exit 2 naming the input and the flag; no journal', async () => {
    const dir = await opsDir({ flow });
    const r = await runLtc(['runbook', 'run', 'flow'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: missing required input "who" of runbook "flow"/);
    expect(r.stderr).toMatch(/hint: pass --input who=<string> \(declared at .*flow\.yaml:4:3\)/);
    expect(existsSync(join(dir, '.ltc'))).toBe(false);
  });

  it('an input failing its pattern, a bad enum or boolean, an unknown input: exit 2; no journal', async () => {
    const dir = await opsDir({ flow });
    const bad = await runLtc(['runbook', 'run', 'flow', '--input', 'who=World1'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/input "who": "World1" does not match the pattern \^\[a-z\]\+\$/);
    const level = await runLtc(['runbook', 'run', 'flow', '--input', 'who=a', '--input', 'level=hihg'], { cwd: dir });
    expect(level.code).toBe(2);
    expect(level.stderr).toMatch(/input "level": "hihg" is not one of "low", "high"/);
    expect(level.stderr).toMatch(/did you mean "high"/);
    const bool = await runLtc(['runbook', 'run', 'flow', '--input', 'who=a', '--input', 'loud=maybe'], { cwd: dir });
    expect(bool.stderr).toMatch(/input "loud": "maybe" is not true or false/);
    const unknown = await runLtc(['runbook', 'run', 'flow', '--input', 'who=a', '--input', 'wh0=a'], { cwd: dir });
    expect(unknown.stderr).toMatch(/runbook "flow" has no input "wh0"/);
    const noEq = await runLtc(['runbook', 'run', 'flow', '--input', 'who'], { cwd: dir });
    expect(noEq.stderr).toMatch(/--input "who" is not name=value/);
    const twice = await runLtc(['runbook', 'run', 'flow', '--input', 'who=alice', '--input', 'who=bob'], { cwd: dir });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/error: --input who is given twice/);
    expect(twice.stderr).not.toMatch(/alice|bob/);
    expect(existsSync(join(dir, '.ltc'))).toBe(false);
  });

  it('a command that does not exist: exit 2 before any step runs', async () => {
    const dir = await opsDir({
      main: `name: m\nsteps:\n  - id: first\n    run: [${NODE}, -e, "require('fs').writeFileSync('ran', '')"]\n  - id: missing\n    run: [definitely-not-a-command-xyz, --flag]\n`,
    });
    const r = await runLtc(['runbook', 'run', 'main'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/main\.yaml:6:10: step "missing": command not found: definitely-not-a-command-xyz \(not on PATH\)/);
    expect(r.stderr).toMatch(/nothing was run/);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(existsSync(join(dir, '.ltc'))).toBe(false);
  });

  it('a command path that does not exist at run time fails the step with exit 1', async () => {
    const dir = await opsDir({ main: 'name: m\nsteps:\n  - id: local\n    run: [./not-here.sh]\n' });
    const r = await runLtc(['runbook', 'run', 'main'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: command not found: \.\/not-here\.sh/);
  });

  it('an input such as `x; rm -rf /`, $(id) or `id` reaches the command as one literal argument', async () => {
    const dir = await opsDir({
      main: `name: m
inputs:
  x: {}
steps:
  - id: argv
    run: [${NODE}, -e, "process.stdout.write(JSON.stringify(process.argv.slice(1)))", "\${{ inputs.x }}", "pre-\${{ inputs.x }}"]
  - id: bash
    run:
      command: ['printf "%s" "$1"; touch "\${PWD}/bash-ran"', "\${{ inputs.x }}"]
      shell: bash
`,
    });
    for (const value of ['x; rm -rf /', '$(touch pwned)', '`touch pwned`', "'; touch pwned; '", 'a"b\\c && touch pwned']) {
      const r = await runLtc(['runbook', 'run', 'main', '--input', `x=${value}`, '--json'], { cwd: dir });
      expect(r.code).toBe(0);
      const steps = (r.json as { steps: Array<{ outputs: { stdout: string } }> }).steps;
      expect(JSON.parse(steps[0]!.outputs.stdout)).toEqual([value, `pre-${value}`]);
      expect(steps[1]!.outputs.stdout).toBe(value);
    }
    expect(existsSync(join(dir, 'bash-ran'))).toBe(true);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });
});

describe('ltc runbook run: control keys', () => {
  it('retries with backoff until the step passes; the journal records each retry', async () => {
    const dir = await opsDir({
      main: `name: m
steps:
  - id: flaky
    run: [${NODE}, -e, "const fs=require('fs');const n=fs.existsSync('n')?+fs.readFileSync('n','utf8'):0;fs.writeFileSync('n',String(n+1));if(n<2){console.error('not yet '+n);process.exit(3)}"]
    retries: { count: 3, delay: 10ms, backoff: exponential }
`,
    });
    const r = await runLtc(['runbook', 'run', 'main'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/↻ flaky retry 2\/4 in 10ms: command exited with 3/);
    expect(r.stdout).toMatch(/↻ flaky retry 3\/4 in 20ms/);
    expect(r.stdout).toMatch(/✓ flaky \d+ms \(3 attempts\)/);
    const events = [...(await journals(dir)).values()][0]!;
    expect(events.filter((e) => e.t === 'retry').map((e) => e.delayMs)).toEqual([10, 20]);
    expect(events.find((e) => e.t === 'end')).toMatchObject({ status: 'ok', attempts: 3 });
  });

  it('on_failure runs when a step fails; continue_on_error goes on; the failing step exit code is the run\'s', async () => {
    const dir = await opsDir({
      main: `name: m
steps:
  - id: soft
    run: [${NODE}, -e, "process.exit(4)"]
    continue_on_error: true
    on_failure:
      - id: note
        run: [${NODE}, -e, "require('fs').writeFileSync('note', process.argv[1])", "\${{ steps.soft.status }}"]
  - id: after
    when: steps.soft.status == "failed"
    run: [echo, went on]
  - id: hard
    run: [${NODE}, -e, "console.error('boom'); process.exit(5)"]
    on_failure:
      - id: undo
        name: Compensate
        run: [${NODE}, -e, "require('fs').writeFileSync('undone', '')"]
  - id: never
    run: [${NODE}, -e, "require('fs').writeFileSync('never', '')"]
`,
    });
    const r = await runLtc(['runbook', 'run', 'main'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ soft \d+ms: command exited with 4: .* \(continue_on_error: going on\)/);
    expect(r.stdout).toMatch(/^↳ ✓ note \d+ms$/m);
    expect(r.stdout).toMatch(/^✓ after \d+ms$/m);
    expect(r.stdout).toMatch(/^↳ ✓ undo Compensate \d+ms$/m);
    expect(r.stderr).toMatch(/error: command exited with 5/);
    expect(r.stderr).toMatch(/hint: its last output:\nboom/);
    expect(await readFile(join(dir, 'note'), 'utf8')).toBe('failed');
    expect(existsSync(join(dir, 'undone'))).toBe(true);
    expect(existsSync(join(dir, 'never'))).toBe(false);
    const events = [...(await journals(dir)).values()][0]!;
    expect(events.at(-1)).toMatchObject({ t: 'done', status: 'failed', failedStep: 'hard', error: { exitCode: 1 } });
  });

  it('a step that times out fails with exit 1 and its child processes are ended', async () => {
    const dir = await opsDir({
      main: `name: m
steps:
  - id: slow
    run: [bash, -c, 'sleep 300 & echo $! > sleeper.pid; trap "" TERM; wait']
    timeout: 1s
`,
    });
    const r = await runLtc(['runbook', 'run', 'main'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: step "slow" timed out after 1\.0s; its processes were ended/);
    expect(r.stderr).toMatch(/hint: raise timeout: at .*main\.yaml:5:5/);
    const pid = Number(await readFile(join(dir, 'sleeper.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(await stillRunningAfter(pid)).toBe(false);
  });
});

describe('ltc runbook run: confirmations without a person', () => {
  const signoff = `name: s
steps:
  - id: prepare
    run: [echo, ready]
  - id: sign-off
    confirm: Release it?
`;

  it('without a TTY (CI=true) a confirm fails with exit 2 naming --approve and --yes, before anything runs', async () => {
    const dir = await opsDir({ s: signoff });
    const r = await runLtc(['runbook', 'run', 's'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/step "sign-off": needs a person to confirm "Release it\?", and there is no terminal \(or CI=true\)/);
    expect(r.stderr).toMatch(/hint: approve ahead with --approve sign-off \(or --yes for every confirmation\)/);
    expect(existsSync(join(dir, '.ltc'))).toBe(false);
  });

  it('a confirm in a called runbook is checked before the caller runs anything', async () => {
    const dir = await opsDir({
      parent: `name: p\nsteps:\n  - id: first\n    run: [${NODE}, -e, "require('fs').writeFileSync('ran', '')"]\n  - id: call\n    runbook: s\n`,
      s: signoff,
    });
    const r = await runLtc(['runbook', 'run', 'parent'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/s\.yaml:6:14: step "sign-off": needs a person to confirm/);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    const ok = await runLtc(['runbook', 'run', 'parent', '--approve', 'sign-off'], { cwd: dir });
    expect(ok.code).toBe(0);
  });

  it('--approve <step-id> and --yes answer it, and the journal records how and by whom', async () => {
    const dir = await opsDir({ s: signoff });
    const a = await runLtc(['runbook', 'run', 's', '--approve', 'sign-off'], { cwd: dir, env: { GIT_CONFIG_GLOBAL: '/dev/null', USER: 'tester' } });
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/✓ sign-off \d+ms approved by \S+ \(approve-flag\)/);
    const y = await runLtc(['runbook', 'run', 's', '--yes'], { cwd: dir });
    expect(y.code).toBe(0);
    const runs = [...(await journals(dir)).values()];
    const ends = runs.map((events) => events.find((e) => e.t === 'end' && e.id === 'sign-off') as { outputs: Record<string, string> });
    expect(ends.map((e) => e.outputs.via).sort()).toEqual(['approve-flag', 'yes-flag']);
    for (const e of ends) {
      expect(e.outputs.approved_by).toMatch(/\S/);
      expect(Number.isNaN(Date.parse(e.outputs.approved_at!))).toBe(false);
    }
  });

  it('an --approve naming no confirm step (a typo) is refused before anything runs, not silently ignored', async () => {
    const dir = await opsDir({ s: signoff });
    const typo = await runLtc(['runbook', 'run', 's', '--yes', '--approve', 'sign-of'], { cwd: dir });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/error: --approve sign-of: runbook s has no confirm step "sign-of"/);
    expect(typo.stderr).toMatch(/hint: did you mean "sign-off"\?/);
    const dry = await runLtc(['runbook', 'run', 's', '--approve', 'nope', '--dry-run'], { cwd: dir });
    expect(dry.code).toBe(2);
    expect(existsSync(join(dir, '.ltc'))).toBe(false);
  });
});

describe('ltc runbook run --dry-run', () => {
  it('prints the resolved plan with when known true, false or unknown, and changes nothing', async () => {
    const dir = await opsDir({
      main: `name: Plan me
inputs:
  env: { type: enum, values: [staging, prod], required: true }
  token: { secret: true, default: s3cr3t-token-value }
steps:
  - id: build
    run: [${NODE}, -e, "require('fs').writeFileSync('built', '')", "\${{ inputs.env }}"]
  - id: prod-only
    when: inputs.env == "prod"
    run: [echo, prod]
  - id: staging-only
    when: inputs.env == "staging"
    run: [echo, staging]
  - id: later
    when: steps.build.outputs.exit_code == 0
    run: [echo, "\${{ steps.build.outputs.stdout }}"]
  - id: ok
    confirm: Go with \${{ inputs.token }}?
`,
    });
    const r = await runLtc(['runbook', 'run', 'main', '--input', 'env=staging', '--dry-run'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Plan for runbook main: Plan me .*dry run, nothing is changed/);
    expect(r.stdout).toMatch(/run: .*node -e .* staging \(changes something\)/);
    expect(r.stdout).toMatch(/2\. prod-only \[run\]\n\s+when: false, will be skipped \(inputs\.env == "prod"\)/);
    expect(r.stdout).toMatch(/3\. staging-only \[run\]\n\s+when: true \(inputs\.env == "staging"\)/);
    expect(r.stdout).toMatch(/4\. later \[run\]\n\s+when: known at run time \(steps\.build\.outputs\.exit_code == 0\)\n\s+run: echo '\$\{\{ steps\.build\.outputs\.stdout \}\}'/);
    expect(r.stdout).toMatch(/confirm: ask "Go with \*\*\*\?" \(answer ahead with --approve ok or --yes\)/);
    expect(r.stdout).not.toContain('s3cr3t-token-value');
    expect(existsSync(join(dir, 'built'))).toBe(false);
    expect(existsSync(join(dir, '.ltc'))).toBe(false);

    const j = await runLtc(['runbook', 'run', 'main', '--input', 'env=prod', '--dry-run', '--json'], { cwd: dir });
    expect(j.code).toBe(0);
    expect(j.json).toMatchObject({ ok: true, runId: null, status: 'planned', plan: { runbook: 'main', inputs: { env: 'prod', token: '***' } } });
    const steps = (j.json as { plan: { steps: Array<{ id: string; when: string }> } }).plan.steps;
    expect(steps.map((s) => [s.id, s.when])).toEqual([['build', 'always'], ['prod-only', 'true'], ['staging-only', 'false'], ['later', 'unknown'], ['ok', 'always']]);
    expect(existsSync(join(dir, '.ltc'))).toBe(false);
  });

  it('a plan the run would refuse to start (a command not on PATH, a URL that is not http) says why, as the run would (exit 2)', async () => {
    const dir = await opsDir({
      main: `name: Cannot start
steps:
  - id: fine
    run: [echo, hi]
  - id: missing
    run: [no-such-command-ltc-test, --flag]
  - id: probe
    http: ftp://example.invalid/health
  - id: skipped
    when: false
    run: [also-not-a-command-ltc]
`,
    });
    // A dry run shows the plan (exit 0, as for a confirmation that needs --approve), and why the run would not start.
    const r = await runLtc(['runbook', 'run', 'main', '--dry-run'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1\. fine \[run\]/);
    expect(r.stdout).toMatch(/the run would refuse to start \(exit 2, nothing would run\), because:\n\s+\S+main\.yaml:6:10: step "missing": command not found: no-such-command-ltc-test \(not on PATH\)\n\s+\S+main\.yaml:8:11: step "probe": "ftp:\/\/example\.invalid\/health" is not an http or https URL\nhint: install no-such-command-ltc-test/);
    expect(r.stdout).not.toMatch(/also-not-a-command-ltc \(not on PATH\)/);
    const j = await runLtc(['runbook', 'run', 'main', '--dry-run', '--json'], { cwd: dir });
    expect(j.code).toBe(0);
    expect(j.json).toMatchObject({ ok: true, status: 'planned', plan: { problems: [expect.stringMatching(/step "missing": command not found/), expect.stringMatching(/step "probe"/)] } });
    // The run itself refuses the same way.
    const run = await runLtc(['runbook', 'run', 'main'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(existsSync(join(dir, '.ltc'))).toBe(false);
  });
});

describe('ltc runbook list / show / runs', () => {
  it('lists shipped runbooks and the ops repo\'s, marking an override', async () => {
    const dir = await opsDir({ 'smoke-test': 'name: My smoke test\nsteps:\n  - id: a\n    run: [echo]\n', mine: 'name: Mine\ndescription: my own\nsteps:\n  - id: a\n    run: [echo]\n' });
    const r = await runLtc(['runbook', 'list'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^smoke-test\s+ops \(overrides shipped\)\s+My smoke test$/m);
    expect(r.stdout).toMatch(/^mine\s+ops\s+Mine — my own$/m);
    // The titles line up in one column whatever the origin.
    const columns = r.stdout.trim().split('\n').map((l) => l.search(/(My smoke test|Mine|Deploy a release candidate)/)).filter((i) => i >= 0);
    expect(new Set(columns).size, r.stdout).toBe(1);
    const j = await runLtc(['runbook', 'list', '--json'], { cwd: dir });
    const rows = (j.json as { runbooks: Array<{ name: string; origin: string; overrides?: string }> }).runbooks;
    expect(rows.find((x) => x.name === 'smoke-test')).toMatchObject({ origin: 'ops', overrides: expect.stringMatching(/runbooks\/smoke-test\.yaml$/) });
    const elsewhere = await tempDir();
    const shipped = await runLtc(['runbook', 'list'], { cwd: elsewhere });
    expect(shipped.stdout).toMatch(/^smoke-test\s+shipped\s+Smoke test after a deploy/m);
  });

  it('shows a runbook: inputs, steps with control keys, outputs', async () => {
    const dir = await opsDir({ flow });
    const r = await runLtc(['runbook', 'show', 'flow'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/who: string, required, pattern \^\[a-z\]\+\$/);
    expect(r.stdout).toMatch(/level: one of low\|high, optional, default "low"/);
    expect(r.stdout).toMatch(/2\. shout \[run\] \(when inputs\.loud\)/);
    expect(r.stdout).toMatch(/answer: \$\{\{ steps\.count\.outputs\.answer \}\}/);
  });

  it('show never prints a secret input\'s default, in text or --json', async () => {
    const dir = await opsDir({ sd: 'name: sd\ninputs:\n  tok: { secret: true, default: hunter2-default-secret }\n  plain: { default: visible }\nsteps:\n  - id: a\n    run: [echo]\n' });
    const text = await runLtc(['runbook', 'show', 'sd'], { cwd: dir });
    expect(text.stdout).toMatch(/tok: string, optional, default \*\*\*, secret/);
    const j = await runLtc(['runbook', 'show', 'sd', '--json'], { cwd: dir });
    expect(j.code).toBe(0);
    expect(j.json).toMatchObject({ inputs: { tok: { secret: true, default: '***' }, plain: { default: 'visible' } } });
    expect(text.stdout + text.stderr + j.stdout + j.stderr).not.toContain('hunter2-default-secret');
  });

  it('runs lists the history newest first with status and failed step', async () => {
    const dir = await opsDir({ flow });
    await runLtc(['runbook', 'run', 'flow', '--input', 'who=world'], { cwd: dir });
    await runLtc(['runbook', 'run', 'flow', '--input', 'who=world', '--input', 'loud=true'], { cwd: dir });
    const r = await runLtc(['runbook', 'runs', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const runs = (r.json as { runs: Array<{ runbook: string; status: string; failedStep?: string }> }).runs;
    expect(runs.map((x) => [x.runbook, x.status, x.failedStep])).toEqual([
      ['flow', 'failed', 'check'],
      ['flow', 'ok', undefined],
    ]);
    const text = await runLtc(['runbook', 'runs'], { cwd: dir });
    expect(text.stdout).toMatch(/-flow-[0-9a-f]{4}\s+failed at check\s+flow/);
  });
});

describe('expressions reading env and config', () => {
  it('reads env.NAME and config.… values; an unset config key is an error before anything runs', async () => {
    const dir = await opsDir({
      c: `name: c
steps:
  - id: show
    run: [echo, "\${{ config.app.repo }}", "\${{ env.LTC_TEST_VALUE }}", "\${{ config.environments.staging.url }}"]
`,
      bad: `name: bad
steps:
  - id: first
    run: [${NODE}, -e, "require('fs').writeFileSync('ran', '')"]
  - id: show
    run: [echo, "\${{ config.app.nope }}"]
`,
    });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'ltc.config.yaml'), 'app:\n  repo: git@example.invalid:ltc/app.git\nenvironments:\n  staging:\n    url: https://staging.example\n');
    const r = await runLtc(['runbook', 'run', 'c', '--json'], { cwd: dir, env: { LTC_TEST_VALUE: 'from-env' } });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ steps: [{ outputs: { stdout: 'git@example.invalid:ltc/app.git from-env https://staging.example' } }] });
    const bad = await runLtc(['runbook', 'run', 'bad'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.yaml:6:17: config\.app\.nope is not set in .*ltc\.config\.yaml/);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });
});
