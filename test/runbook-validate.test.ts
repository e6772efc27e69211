import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupTempDirs,  } from './helpers/cli.js';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';
import { opsDir } from './helpers/runbooks.js';

afterAll(cleanupTempDirs);

const ok = `name: ok
inputs:
  who: { required: true }
steps:
  - id: hello
    run: [echo, "\${{ inputs.who }}"]
`;

async function validate(text: string, extra: Record<string, string> = {}) {
  const dir = await opsDir({ main: text, ...extra });
  const r = await runLtc(['runbook', 'validate', 'main'], { cwd: dir });
  return { ...r, dir, file: join(dir, 'runbooks', 'main.yaml') };
}

describe('ltc runbook validate: bad runbooks are refused with file:line:column', () => {
  it('accepts a valid runbook and says so', async () => {
    const r = await validate(ok);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/main\.yaml: valid \(1 step\)$/m);
    const two = await validate(ok.replace('steps:', 'steps:\n  - id: first\n    run: [echo]'));
    expect(two.stdout).toMatch(/main\.yaml: valid \(2 steps\)$/m);
  });

  it('malformed YAML: exit 2 naming the line and column', async () => {
    const r = await validate('name: x\nsteps:\n  - id: a\n    run: [echo]\n  bad: : x\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${r.file}:5:1: runbook is not valid YAML: All mapping items must start at the same column`);
    expect(r.stderr).toMatch(/hint: fix the YAML syntax/);
  });

  it('an unknown step type: exit 2 with did-you-mean and the position of the key', async () => {
    const r = await validate('name: x\nsteps:\n  - id: a\n    rn: [echo, hi]\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${r.file}:4:5: steps[0].rn: unknown step type "rn"`);
    expect(r.stderr).toMatch(/hint: did you mean "run"\?/);
    expect(r.stderr).not.toMatch(/needs one step type key/);
  });

  it('a step with two type keys, or none', async () => {
    const two = await validate('name: x\nsteps:\n  - id: a\n    run: [echo]\n    assert: true\n');
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/has exactly one step type key, this one has run and assert/);
    const none = await validate('name: x\nsteps:\n  - id: a\n    name: nothing\n');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/steps\[0\]: a step needs one step type key: run, script/);
  });

  it('a step type value that fails its own schema names the key path', async () => {
    const r = await validate('name: x\nsteps:\n  - id: a\n    run: "npm run build"\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/main\.yaml:4:10: steps\[0\]\.run: expected array or object, got string/);
    const cond = await validate('name: x\nsteps:\n  - id: a\n    http: { url: "http://x", conditions: ["stat == 200"] }\n');
    expect(cond.code).toBe(2);
    expect(cond.stderr).toMatch(/steps\[0\]\.http\.conditions\[0\]: condition "stat == 200" does not parse/);
  });

  it('an unknown control key gets did-you-mean', async () => {
    const r = await validate('name: x\nsteps:\n  - id: a\n    run: [echo]\n    timout: 3s\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/main\.yaml:5:5: steps\[0\]\.timout: unknown key "timout"/);
    expect(r.stderr).toMatch(/did you mean "timeout"/);
  });

  it('a default its own input would refuse (type, enum values, pattern) is a validation error', async () => {
    const r = await validate(`name: x
inputs:
  n: { type: number, default: abc }
  e: { type: enum, values: [a, b], default: c }
  p: { pattern: '^x', default: yes-no }
  b: { type: boolean, default: maybe }
  k: { secret: true, pattern: '^k', default: hunter22 }
  fine: { type: number, default: '5' }
steps:
  - id: a
    run: [echo, "\${{ inputs.n }}"]
`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/main\.yaml:3:\d+: inputs\.n\.default: the default "abc" is not a number/);
    expect(r.stderr).toMatch(/main\.yaml:4:\d+: inputs\.e\.default: the default "c" is not one of "a", "b"/);
    expect(r.stderr).toMatch(/main\.yaml:5:\d+: inputs\.p\.default: the default "yes-no" does not match the pattern \^x/);
    expect(r.stderr).toMatch(/main\.yaml:6:\d+: inputs\.b\.default: the default "maybe" is not true or false/);
    expect(r.stderr).toMatch(/inputs\.k\.default: the default of this secret input does not match the pattern \^k/);
    expect(r.stderr).not.toContain('hunter22');
    expect(r.stderr).not.toMatch(/inputs\.fine/);
  });

  it('several problems: each keeps its own did-you-mean, under it, in file order', async () => {
    const types = await validate('name: x\nsteps:\n  - id: a\n    rn: [echo]\n  - id: b\n    confrm: ok?\n  - id: c\n    run: [echo]\n    retires: 2\n');
    expect(types.code).toBe(2);
    expect(types.stderr).toMatch(/main\.yaml:4:5: steps\[0\]\.rn: unknown step type "rn"\n\s+\(did you mean "run"\?\)/);
    expect(types.stderr).toMatch(/main\.yaml:6:5: steps\[1\]\.confrm: unknown step type "confrm"\n\s+\(did you mean "confirm"\?\)/);
    expect(types.stderr).toMatch(/main\.yaml:9:5: steps\[2\]\.retires: unknown key "retires"\n\s+\(did you mean "retries"\?\)/);
    expect(types.stderr).toMatch(/hint: each problem's hint is under it/);
    const refs = await validate(`name: x
inputs:
  release: {}
steps:
  - id: build
    run: [echo]
  - id: use
    when: steps.later.status == "ok"
    run: [echo, "\${{ steps.biuld.outputs.stdout }}", "\${{ inputs.relase }}"]
  - id: later
    run: [echo]
  - id: use
    run: [echo]
`);
    expect(refs.code).toBe(2);
    expect(refs.stderr).toMatch(/main\.yaml:9:17: unknown step "biuld"[^\n]*\n\s+\(did you mean "build"\?\)/);
    expect(refs.stderr).toMatch(/main\.yaml:9:54: unknown input "relase"\n\s+\(did you mean "release"\?\)/);
    // In the order of the file, whichever check found them.
    const at = [...refs.stderr.matchAll(/main\.yaml:(\d+):(\d+):/g)].map((m) => Number(m[1]) * 1000 + Number(m[2]));
    expect(at.length).toBeGreaterThanOrEqual(4);
    expect(at).toEqual([...at].sort((a, b) => a - b));
  });

  it('an expression that does not parse: exit 2 at its line', async () => {
    const r = await validate('name: x\nsteps:\n  - id: a\n    run: [echo]\n  - id: b\n    when: steps.a.outputs.stdout = "x"\n    run: [echo]\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/main\.yaml:6:11: when does not parse: unexpected "=" \(compare with "=="\)/);
    const t = await validate('name: x\nsteps:\n  - id: a\n    run: [echo, "${{ inputs.x && }}"]\n');
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/main\.yaml:4:17: expression does not parse: expected a value but found end of expression/);
  });

  it('a reference to an unknown step, input or output, with did-you-mean', async () => {
    const r = await validate(`name: x
inputs:
  release: {}
steps:
  - id: build
    run: [echo]
  - id: use
    run: [echo, "\${{ steps.biuld.outputs.stdout }}", "\${{ inputs.relase }}", "\${{ steps.build.outputs.stdot }}"]
`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/main\.yaml:8:17: unknown step "biuld" in steps\.biuld\.outputs\.stdout/);
    expect(r.stderr).toMatch(/main\.yaml:8:54: unknown input "relase"/);
    expect(r.stderr).toMatch(/step "build" has no output "stdot"/);
    expect(r.stderr).toMatch(/did you mean "build"/);
  });

  it('a step read before it runs, and duplicate ids', async () => {
    const r = await validate(`name: x
steps:
  - id: first
    run: [echo, "\${{ steps.second.outputs.stdout }}"]
  - id: second
    run: [echo]
  - id: second
    run: [echo]
`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/steps\.second\.outputs\.stdout reads step "second" before it runs/);
    expect(r.stderr).toMatch(/main\.yaml:7:9: duplicate step id "second" \(also at .*main\.yaml:5:9\)/);
  });

  it('an on_failure step may read the failed step and earlier steps; outputs: may read its own step', async () => {
    const r = await validate(`name: x
steps:
  - id: a
    run: [echo]
  - id: b
    run: [echo, "\${{ steps.a.outputs.stdout }}"]
    outputs:
      copy: \${{ steps.b.outputs.stdout }}
    on_failure:
      - id: undo
        run: [echo, "\${{ steps.b.status }}", "\${{ steps.a.outputs.exit_code }}"]
      - id: undo2
        run: [echo, "\${{ steps.undo.outputs.stdout }}"]
  - id: c
    run: [echo, "\${{ steps.b.outputs.copy }}"]
`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a cycle of runbooks calling each other names the cycle', async () => {
    const r = await validate('name: main\nsteps:\n  - id: call-b\n    runbook: b\n', {
      b: 'name: b\nsteps:\n  - id: call-c\n    runbook: { name: c }\n',
      c: 'name: c\nsteps:\n  - id: back\n    runbook: main\n',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/runbooks call each other in a cycle: main → b → c → main/);
    // One problem per line, each with its own file:line:column, and the hint of the innermost one.
    expect(r.stderr).toMatch(/main\.yaml:4:14: runbook "b" called by step "call-b" is invalid:\n {2}\S+b\.yaml:4:14: runbook "c" called by step "call-c" is invalid:\n {2}\S+c\.yaml:4:14: runbooks call each other/);
    expect(r.stderr).toMatch(/hint: remove the call to "main" in step "back"/);
  });

  it('an on_failure step with an on_failure of its own says how to nest compensation', async () => {
    const r = await validate('name: x\nsteps:\n  - id: a\n    run: [echo]\n    on_failure:\n      - id: f\n        run: [echo]\n        on_failure:\n          - id: g\n            run: [echo]\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${r.file}:8:9: steps[0].on_failure[0].on_failure: an on_failure step has no on_failure of its own`);
    expect(r.stderr).toMatch(/hint: put the compensation and its own fallback in a runbook, and call it from on_failure with a `runbook` step/);
  });

  it('a secret step whose name is not a secret name is refused by validate, as by run', async () => {
    const r = await validate('name: main\nsteps:\n  - id: s\n    secret: { name: lower_case }\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/main\.yaml:4:\d+: steps\[0\]\.secret\.name: a secret name is upper case letters/);
    const ok = await validate('name: main\ninputs:\n  n: { type: string }\nsteps:\n  - id: s\n    secret: { name: "${{ inputs.n }}" }\n');
    expect(ok.code).toBe(0);
  });

  it('an unquoted true or number in an argument array says to quote it', async () => {
    const r = await validate('name: x\nsteps:\n  - id: a\n    run: [sleep, 1]\n  - id: b\n    run: [true]\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${r.file}:4:18: steps[0].run[1]: expected a string, got the number 1`);
    expect(r.stderr).toContain(`${r.file}:6:11: steps[1].run[0]: expected a string, got the boolean true`);
    // Two problems with a hint each: each hint under its problem.
    expect(r.stderr).toMatch(/got the number 1\n\s+\(YAML reads an unquoted 1 as a number: quote it, e\.g\. "1"\)/);
    expect(r.stderr).toMatch(/got the boolean true\n\s+\(YAML reads an unquoted true as a boolean: quote it, e\.g\. "true"\)/);
    const one = await validate('name: x\nsteps:\n  - id: a\n    run: [sleep, 1]\n');
    expect(one.stderr).toMatch(/hint: YAML reads an unquoted 1 as a number: quote it, e\.g\. "1"/);
  });

  it('a called runbook must exist and receive its required inputs', async () => {
    const missing = await validate('name: main\nsteps:\n  - id: call\n    runbook: nope\n');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/step "call" calls runbook "nope": no runbook named "nope"/);
    const inputs = await validate('name: main\nsteps:\n  - id: call\n    runbook: { name: child, inputs: { wat: 1 } }\n', {
      child: 'name: child\ninputs:\n  need: { required: true }\nsteps:\n  - id: a\n    run: [echo]\n',
    });
    expect(inputs.code).toBe(2);
    expect(inputs.stderr).toMatch(/passes input "wat", which runbook "child" does not declare/);
    expect(inputs.stderr).toMatch(/does not pass the required input "need"/);
  });

  it('a script may not splice ${{ }} into its code', async () => {
    const r = await validate('name: x\nsteps:\n  - id: s\n    script: "echo(\'${{ inputs.x }}\')"\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a script may not contain \$\{\{ \}\}: pass values with args:/);
  });

  it('an unknown runbook name gets did-you-mean; --json gives one error document', async () => {
    const dir = await opsDir({ deploy: ok });
    const r = await runLtc(['runbook', 'validate', 'deplyo', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ ok: false, error: { code: 'usage', message: 'no runbook named "deplyo"', hint: 'did you mean "deploy"?' } });
    expect(existsSync(join(dir, '.ltc'))).toBe(false);
  });
});
