import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanupTempDirs, freePort,  } from './helpers/cli.js';
import { ltcInProcess as runLtc } from './helpers/inproc.ts';
import { journals, opsDir, stillRunningAfter } from './helpers/runbooks.js';

const NODE = process.execPath;
let server: Server;
let base: string;
let readyAfter = 0;
let hits = 0;

beforeAll(async () => {
  const port = await freePort();
  server = createServer((req, res) => {
    if (req.url === '/api/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","version":"rc-2026-03-01"}');
    } else if (req.url === '/broken') {
      res.writeHead(500).end('{"status":"down"}');
    } else if (req.url === '/warming') {
      hits++;
      res.writeHead(hits > readyAfter ? 200 : 503).end();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await cleanupTempDirs();
});

describe('step type http', () => {
  it('probes a real endpoint with conditions; outputs status and latency; a failing condition fails the step with exit 1', async () => {
    const dir = await opsDir({
      h: `name: h
inputs:
  base: {}
steps:
  - id: health
    http:
      url: \${{ inputs.base }}/api/health
      conditions: ['status == 200', 'body.status == "ok"', 'response_time < 5000']
  - id: status
    assert: steps.health.outputs.status == 200
  - id: short
    http: \${{ inputs.base }}/api/health
`,
    });
    const r = await runLtc(['runbook', 'run', 'h', '--input', `base=${base}`, '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, steps: [{ id: 'health', outputs: { status: 200, attempts: 1 } }, { id: 'status', status: 'ok' }, { id: 'short', outputs: { status: 200 } }] });

    const bad = await opsDir({ b: `name: b\nsteps:\n  - id: broken\n    http: { url: "${base}/broken", conditions: ['body.status == "ok"'] }\n` });
    const f = await runLtc(['runbook', 'run', 'b'], { cwd: bad });
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(/error: GET http:\/\/127\.0\.0\.1:\d+\/broken: body\.status == "ok": /);
  });

  it('a path such as /api/health is joined to the environment url from the config', async () => {
    const dir = await opsDir({ p: 'name: p\nsteps:\n  - id: health\n    http: /api/health\n' });
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(join(dir, 'ltc.config.yaml'), `app:\n  repo: ./app\nenvironments:\n  staging:\n    url: ${base}\n`),
    );
    const r = await runLtc(['runbook', 'run', 'p', '--env', 'staging', '--json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.json).toMatchObject({ ok: true, steps: [{ id: 'health', outputs: { status: 200 } }] });

    // Without --env (two environments), or with one that has no url, the path has nothing to
    // join: refused before anything runs.
    const { writeFile, rm } = await import('node:fs/promises');
    await writeFile(join(dir, 'ltc.config.yaml'), `app:\n  repo: ./app\nenvironments:\n  staging:\n    url: ${base}\n  lab: {}\n`);
    await rm(join(dir, '.ltc'), { recursive: true, force: true });
    const noEnv = await runLtc(['runbook', 'run', 'p'], { cwd: dir, env: { LTC_ENV: undefined } });
    expect(noEnv.code).toBe(2);
    expect(noEnv.stderr).toMatch(/cannot run \(nothing was run\):\n.*p\.yaml:4:11: step "health": no environment given/);
    expect(noEnv.stderr).toMatch(/hint: pass --env <name>/);
    const noUrl = await runLtc(['runbook', 'run', 'p', '--env', 'lab'], { cwd: dir });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/step "health": "\/api\/health" is a path, and environment "lab" has no url to join it to/);
    expect(existsSync(join(dir, '.ltc', 'runs'))).toBe(false);
  });

  it('a URL that is not http(s), in an http step or a wait, is refused before anything runs', async () => {
    const dir = await opsDir({
      u: 'name: u\nsteps:\n  - id: first\n    run: [touch, ran]\n  - id: h\n    http: "not a url"\n  - id: w\n    wait: { until: { http: "ftp://x.example/y" } }\n',
    });
    const r = await runLtc(['runbook', 'run', 'u'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/u\.yaml:6:11: step "h": "not a url" is not a valid URL/);
    expect(r.stderr).toMatch(/u\.yaml:8:11: step "w": "ftp:\/\/x\.example\/y" is not an http or https URL/);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(existsSync(join(dir, '.ltc'))).toBe(false);
  });
});

describe('step type wait', () => {
  it('sleeps, polls until an http endpoint answers, polls until a command passes, and times out with exit 1', async () => {
    hits = 0;
    readyAfter = 2;
    const dir = await opsDir({
      w: `name: w
steps:
  - id: nap
    wait: 20ms
  - id: warm
    wait:
      until: { http: { url: "${base}/warming" } }
      interval: 20ms
      timeout: 20s
  - id: file
    wait:
      until: { command: [${NODE}, -e, "const fs=require('fs');const n=fs.existsSync('c')?+fs.readFileSync('c','utf8'):0;fs.writeFileSync('c',String(n+1));process.exit(n<2?1:0)"] }
      interval: 10ms
`,
    });
    const r = await runLtc(['runbook', 'run', 'w', '--json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, steps: [{ id: 'nap' }, { id: 'warm', outputs: { attempts: 3 } }, { id: 'file', outputs: { attempts: 3 } }] });

    const never = await opsDir({ n: `name: n\nsteps:\n  - id: never\n    wait: { until: { command: ["false"] }, interval: 50ms, timeout: 300ms }\n` });
    const t = await runLtc(['runbook', 'run', 'n'], { cwd: never });
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/error: still not ready after \d+ms: false exited with 1/);

    // A polled command that hangs is ended when the wait's timeout runs out (not left to run).
    const hang = await opsDir({ h: `name: h\nsteps:\n  - id: hang\n    wait: { until: { command: [${NODE}, -e, "require('fs').writeFileSync('pid', String(process.pid)); setInterval(() => {}, 1000)"] }, interval: 50ms, timeout: 1s }\n` });
    const h = await runLtc(['runbook', 'run', 'h'], { cwd: hang });
    expect(h.code).toBe(1);
    expect(h.stderr).toMatch(/error: still not ready after \S+: \S+ -e .* did not finish within \S+ \(ended\)/);
    const pid = Number(await readFile(join(hang, 'pid'), 'utf8'));
    expect(await stillRunningAfter(pid)).toBe(false);
  });
});

describe('step type script', () => {
  it('runs an inline zx script with args from the environment (never spliced) and outputs from setOutput', async () => {
    const dir = await opsDir({
      s: `name: s
inputs:
  evil: {}
steps:
  - id: zx
    script:
      code: |
        const who = await $\`echo \${args.evil}\`;
        setOutput('echoed', who.stdout.trim());
        setOutput('n', 41 + 1);
        echo('done');
      args: { evil: "\${{ inputs.evil }}" }
  - id: use
    run: [echo, "\${{ steps.zx.outputs.echoed }}", "\${{ steps.zx.outputs.n }}"]
  - id: failing
    script: "throw new Error('script broke')"
`,
    });
    const evil = '$(touch pwned); `id`';
    const r = await runLtc(['runbook', 'run', 's', '--input', `evil=${evil}`, '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({
      steps: [
        { id: 'zx', status: 'ok', outputs: { echoed: evil, n: 42, stdout: 'done' } },
        { id: 'use', outputs: { stdout: `${evil} 42` } },
        { id: 'failing', status: 'failed', error: { message: 'script exited with 1', hint: expect.stringContaining('script broke') } },
      ],
    });
    await expect(readFile(join(dir, 'pwned'))).rejects.toThrow();
  });
});

describe('step type runbook', () => {
  it('calls another runbook with inputs; its outputs become the step\'s; the child run is journaled with its parent', async () => {
    const dir = await opsDir({
      parent: `name: Parent
steps:
  - id: call
    runbook:
      name: child
      inputs: { word: from-parent }
  - id: use
    run: [echo, "got \${{ steps.call.outputs.shout }}"]
`,
      child: `name: Child
inputs:
  word: { required: true }
steps:
  - id: up
    run: [${NODE}, -e, "console.log(process.argv[1].toUpperCase())", "\${{ inputs.word }}"]
outputs:
  shout: \${{ steps.up.outputs.stdout }}
`,
    });
    const r = await runLtc(['runbook', 'run', 'parent'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}✓ call\/up \d+ms$/m);
    expect(r.stdout).toMatch(/^✓ call \d+ms$/m);
    const all = await journals(dir);
    const parent = [...all.values()].find((e) => e[0]!.runbook === 'parent')!;
    const child = [...all.values()].find((e) => e[0]!.runbook === 'child')!;
    expect(parent.find((e) => e.t === 'end' && e.id === 'use')).toMatchObject({ outputs: { stdout: 'got FROM-PARENT' } });
    expect(parent.find((e) => e.t === 'child')).toMatchObject({ id: 'call', runId: child[0]!.runId });
    expect(child[0]).toMatchObject({ inputs: { word: 'from-parent' }, parent: { runId: parent[0]!.runId, step: 'call' } });
    const runs = await runLtc(['runbook', 'runs'], { cwd: dir });
    expect(runs.stdout).toMatch(/ok\s+child .*called by/);
  });
});

describe('resuming a run whose failed step called a runbook', () => {
  it('resumes the child run too: its finished steps are not run again', async () => {
    const dir = await opsDir({
      parent: 'name: Parent\nsteps:\n  - id: call\n    runbook: child\n  - id: after\n    run: [echo, "${{ steps.call.outputs.result }}"]\n',
      child: `name: Child
steps:
  - id: once
    run: [${NODE}, -e, "const fs=require('fs');fs.appendFileSync('once-ran','x');console.log('once-out')"]
  - id: gate
    run: [test, -f, go]
outputs:
  result: \${{ steps.once.outputs.stdout }}
`,
    });
    const first = await runLtc(['runbook', 'run', 'parent', '--json'], { cwd: dir });
    expect(first.code).toBe(1);
    const runId = (first.json as { runId: string }).runId;
    await import('node:fs/promises').then((fs) => fs.writeFile(join(dir, 'go'), ''));
    const resumed = await runLtc(['runbook', 'resume', runId, '--json'], { cwd: dir });
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.json).toMatchObject({ status: 'ok', steps: [{ id: 'call', outputs: { result: 'once-out' } }, { id: 'after', outputs: { stdout: 'once-out' } }] });
    expect(await readFile(join(dir, 'once-ran'), 'utf8')).toBe('x');
    const child = [...(await journals(dir)).values()].find((e) => e[0]!.runbook === 'child')!;
    expect(child.filter((e) => e.t === 'resume')).toHaveLength(1);
    expect(child.at(-1)).toMatchObject({ t: 'done', status: 'ok' });
  });
});
