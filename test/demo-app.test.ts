import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TAGS, generateDemoApp, type DemoApp } from '../src/demo/generate-app.ts';
import { cleanupTempDirs, freePort, tempDir } from './helpers/cli.ts';

const HOST = '127.0.0.1';
const TITLE = 'LifeTimeCircle Service Heft';
const SECRET = 'demo-test-secret-value';

let root = '';
let app: DemoApp;
const children = new Set<ChildProcess>();
const worktrees = new Map<string, Promise<string>>();

/** Checks the tag out into its own work tree, then `npm ci` and `npm run build` there (once per tag). */
function worktree(tag: string): Promise<string> {
  let ready = worktrees.get(tag);
  if (!ready) {
    ready = (async () => {
      const dir = path.join(root, 'wt', tag);
      await execa('git', ['worktree', 'add', '--quiet', '--detach', dir, tag], { cwd: app.repoDir });
      await execa('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir });
      await execa('npm', ['run', 'build'], { cwd: dir });
      return dir;
    })();
    worktrees.set(tag, ready);
  }
  return ready;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}
interface RunningServer {
  base: string;
  output: () => string;
  stop: () => Promise<Exit>;
}

async function startServer(cwd: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const port = await freePort();
  const baseEnv = { ...process.env };
  delete baseEnv.LTC_SECRET_KEY;
  delete baseEnv.DATABASE_URL;
  const child = spawn(process.execPath, ['server.mjs'], {
    cwd,
    env: { ...baseEnv, PORT: String(port), HOST, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const deadline = Date.now() + 10_000;
  while (!output.includes(`listening on http://${HOST}:${port}`)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    base: `http://${HOST}:${port}`,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

beforeAll(async () => {
  const gitVersion = await execa('git', ['--version'], { reject: false });
  if (gitVersion.exitCode !== 0) throw new Error('git is missing: install the Debian package git');
  root = await tempDir('ltc-demo-app-');
  app = await generateDemoApp({ dir: path.join(root, 'repo') });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.allSettled([...worktrees.values()]);
  await cleanupTempDirs();
});

describe('generateDemoApp', () => {
  it('makes four tagged commits and leaves main checked out at the last one', async () => {
    expect(app.tags.map((t) => t.name)).toEqual(['rc-2026-02-15', 'rc-2026-03-01', 'rc-2026-03-01.1', 'rc-2026-03-01.2']);
    expect(app.tags.map((t) => t.version)).toEqual(['1.0.0', '1.1.0', '1.1.1', '1.1.2']);
    expect(app.tags.map((t) => t.healthy)).toEqual([true, true, false, true]);
    expect(app.goodTags).toEqual([...DEMO_TAGS.good]);
    expect(app.brokenTag).toBe(DEMO_TAGS.broken);
    for (const tag of app.tags) expect(tag.commit).toMatch(/^[0-9a-f]{40}$/);

    const git = (...args: string[]) => execa('git', args, { cwd: app.repoDir }).then((r) => r.stdout.trim());
    expect(await git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(await git('rev-parse', 'HEAD')).toBe(app.tags[3]?.commit);
    expect(await git('status', '--porcelain')).toBe('');
    expect(await git('log', '--format=%an <%ae>', '-1')).toBe('LTC Demo <demo@lifetimecircle.invalid>');
  });

  it('lists the tags with git ls-remote --tags, pointing at the reported commits', async () => {
    const { stdout } = await execa('git', ['ls-remote', '--tags', app.repoDir]);
    const refs = new Map(stdout.split('\n').map((line) => {
      const [sha = '', ref = ''] = line.split('\t');
      return [ref, sha] as const;
    }));
    for (const tag of app.tags) {
      expect(refs.has(`refs/tags/${tag.name}`)).toBe(true);
      // Annotated tags: the peeled ^{} entry is the commit.
      expect(refs.get(`refs/tags/${tag.name}^{}`) ?? refs.get(`refs/tags/${tag.name}`)).toBe(tag.commit);
    }
  });

  it('refuses a target directory that is not empty', async () => {
    const dir = path.join(root, 'occupied');
    await mkdir(dir);
    await writeFile(path.join(dir, 'keep.txt'), 'x');
    await expect(generateDemoApp({ dir })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/not empty/) });
  });
});

describe.each([
  { tag: 'rc-2026-02-15', version: '1.0.0', reminders: false },
  { tag: 'rc-2026-03-01', version: '1.1.0', reminders: true },
])('good tag $tag', ({ tag, version, reminders }) => {
  it('builds and serves a healthy app', async () => {
    const server = await startServer(await worktree(tag));
    const health = await fetch(`${server.base}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', version, rc: tag });

    const page = await fetch(`${server.base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain(`<title>${TITLE}</title>`);
    expect(html).toContain(`Version <span id="version">${version}</span>`);
    expect(html.includes('Service reminders')).toBe(reminders);

    expect((await server.stop()).code).toBe(0);
  });
});

describe(`broken tag ${DEMO_TAGS.broken}`, () => {
  it('serves the page but answers /api/health with 500 and logs ERROR', async () => {
    const dir = await worktree(DEMO_TAGS.broken);
    const server = await startServer(dir);
    const health = await fetch(`${server.base}/api/health`);
    expect(health.status).toBe(500);
    expect(await health.json()).toEqual({ status: 'error' });
    const page = await fetch(`${server.base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(TITLE);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(server.output()).toMatch(/Z ERROR GET \/api\/health 500 \d+ms/);

    const e2e = await execa('npm', ['run', 'e2e'], { cwd: dir, reject: false });
    expect(e2e.exitCode).toBe(1);
    expect(e2e.stdout).toMatch(/FAIL - GET \/api\/health/);
  });

  it('passes ist_check (broken at run time only) until a secret file appears', async () => {
    const dir = await worktree(DEMO_TAGS.broken);
    expect((await execa(process.execPath, ['tools/ist_check.mjs'], { cwd: dir, reject: false })).exitCode).toBe(0);
    await writeFile(path.join(dir, '.env'), 'DATABASE_URL=placeholder\n');
    const failed = await execa(process.execPath, ['tools/ist_check.mjs'], { cwd: dir, reject: false });
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toContain('.env (secret file)');
  });
});

describe(`regression tag ${DEMO_TAGS.flaky}`, () => {
  it('passes its health check but answers every third /api/info with 500, counted in /metrics', async () => {
    const server = await startServer(await worktree(DEMO_TAGS.flaky));
    expect((await fetch(`${server.base}/api/health`)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetch(`${server.base}/api/info`)).status);
    expect(statuses).toEqual([200, 200, 500, 200, 200, 500]);
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    expect(metrics).toMatch(/http_requests_total\{method="GET",route="\/api\/info",status="500"\} 2/);
    await server.stop();
    expect(server.output()).toMatch(/ERROR info: request 3 failed \(release\.json error_every 3\)/);
  });
});

describe(`server details on ${DEMO_TAGS.good[1]}`, () => {
  it('reports whether the secret key is loaded without printing it, logs each request, refuses traversal', async () => {
    const dir = await worktree(DEMO_TAGS.good[1]);
    const server = await startServer(dir, { LTC_SECRET_KEY: SECRET, DATABASE_URL: `${SECRET}-db` });
    expect(await (await fetch(`${server.base}/api/info`)).json()).toEqual({ secret_key_loaded: true });
    expect((await fetch(`${server.base}/nope.html`)).status).toBe(404);
    expect((await fetch(`${server.base}/..%2fpackage.json`)).status).toBe(403);
    const js = await fetch(`${server.base}/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await server.stop()).code).toBe(0);
    expect(server.output()).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO GET \/api\/info 200 \d+ms$/m);
    expect(server.output()).not.toContain(SECRET);

    const plain = await startServer(dir);
    expect(await (await fetch(`${plain.base}/api/info`)).json()).toEqual({ secret_key_loaded: false });
    await plain.stop();
  });

  it('answers 503 until the frontend is built', async () => {
    const dir = path.join(root, 'unbuilt');
    await execa('git', ['worktree', 'add', '--quiet', '--detach', dir, DEMO_TAGS.good[1]], { cwd: app.repoDir });
    const server = await startServer(dir);
    const page = await fetch(`${server.base}/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('run npm run build');
    await server.stop();
  });

  it('passes npm run e2e, tools/test_all.mjs and tools/ist_check.mjs', async () => {
    const dir = await worktree(DEMO_TAGS.good[1]);
    for (const [cmd, args] of [
      ['npm', ['run', 'e2e']],
      [process.execPath, ['tools/test_all.mjs']],
      [process.execPath, ['tools/ist_check.mjs']],
    ] as const) {
      const run = await execa(cmd, [...args], { cwd: dir, reject: false, all: true });
      expect(run.exitCode, `${cmd} ${args.join(' ')}:\n${run.all}`).toBe(0);
    }
  });
});
