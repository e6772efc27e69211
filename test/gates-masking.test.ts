/**
 * `ltc gates run` output holds no secret and no line twice: the listr2 list (terminal) gets every
 * title and output line masked (listr2 writes to the terminal itself, not through Output); the
 * plain lines (pipes, CI) repeat nothing of a failed gate's line in its log tail.
 *
 * The secret: the password in app.repo's URL, registered with the masker when ltc reads it. The
 * app repo is served over git's dumb HTTP protocol by a static file server on 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LTC, cleanupTempDirs, runLtc, tempDir } from './helpers/cli.ts';

const SCRIPT = '/usr/bin/script';
const strip = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '\n');
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Lower case letters and digits: it can be part of a gate name. */
const SECRET = `hunter${randomBytes(8).toString('hex')}`;

let server: Server;
let repoUrl: string;

beforeAll(async () => {
  const root = await tempDir('ltc-gates-mask-');
  const work = join(root, 'work');
  const g = (cwd: string, ...args: string[]) => execa('git', ['-c', 'commit.gpgsign=false', ...args], { cwd });
  await execa('git', ['init', '-q', '-b', 'main', work]);
  await g(work, 'config', 'user.email', 'test@example.com');
  await g(work, 'config', 'user.name', 'test');
  await writeFile(join(work, 'README.md'), 'app\n');
  await g(work, 'add', '.');
  await g(work, 'commit', '-qm', 'first');
  const bare = join(root, 'app.git');
  await execa('git', ['clone', '-q', '--bare', work, bare]);
  await g(bare, 'update-server-info');
  // git's dumb HTTP protocol: plain files (info/refs, HEAD, objects/…).
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!)).replace(/^(\.\.[/\\])+/, '');
    const file = join(root, path);
    if (!file.startsWith(bare) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (data) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(data),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  repoUrl = `http://ltc:${SECRET}@127.0.0.1:${port}/app.git`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await cleanupTempDirs();
});

async function ops(): Promise<string> {
  const dir = await tempDir('ltc-gates-mask-ops-');
  const gates = [
    { name: `named-${SECRET}`, run: ['echo', 'fine'] },
    { name: 'prints', run: ['printf', '%s\\n', `token=${SECRET}`, 'second line'] },
    { name: 'fails', shell: 'bash', run: [`echo "bad ${SECRET}"; echo "also here"; exit 3`], required: false },
    { name: 'fails-too', shell: 'bash', run: ['echo "another failure"; exit 4'], required: false },
    { name: 'missing', run: ['no-such-command-here'], required: false },
  ];
  await writeFile(join(dir, 'ltc.config.yaml'), stringify({ version: 1, app: { name: 'demo', repo: repoUrl }, gates }));
  return dir;
}

describe('ltc gates run: no secret, no line twice', () => {
  it('plain lines (not a terminal): a secret in a gate name, a command and its output is masked; no line printed twice', async () => {
    const r = await runLtc(['gates', 'run', '--ref', 'main'], { cwd: await ops() });
    expect(r.code, r.stderr).toBe(0); // the failing gates are not required
    const all = `${r.stdout}\n${r.stderr}`;
    expect(all).not.toContain(SECRET);
    expect(r.stdout).toMatch(/^named-\*\*\*\s+passed/m);
    expect(r.stdout).toMatch(/^prints\s+started\s+printf .*token=\*\*\*/m);
    expect(r.stdout).toMatch(/^fails\s+failed\s+[\d.]+m?s\s+exited 3 \(not required\)$/m);
    // The failed gate's tail: what it printed, masked.
    expect(r.stdout).toMatch(/── fails: last 2 lines of .*fails\.log ──\nbad \*\*\*\nalso here\n/);
    expect(r.stdout).toMatch(/── fails-too: last 1 line of .*fails-too\.log ──\nanother failure\n/);
    expect(r.stdout).toMatch(/── missing: printed nothing \(log: .*missing\.log\) ──/);
    // Nothing the gate's line already said (command, cwd, start, status, reason) comes again.
    const lines = all.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
    const twice = lines.filter((l, i) => lines.indexOf(l) !== i);
    expect(twice, all).toEqual([]);
    expect(r.stdout).not.toMatch(/^ltc: exited 3$/m);
    expect(r.stdout).not.toMatch(/^# cwd: /m);
  });

  it('the listr2 list in a terminal: titles and output lines masked', async () => {
    expect(existsSync(SCRIPT), 'the `script` command (Debian package bsdutils) is needed to run ltc in a pseudo-terminal').toBe(true);
    const dir = await ops();
    const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color', NO_COLOR: undefined, CI: undefined, FORCE_COLOR: undefined };
    const command = `stty cols 200 rows 40; exec ${quote(process.execPath)} ${quote(LTC)} gates run --ref main`;
    const r = await execa(SCRIPT, ['-qec', command, '/dev/null'], { cwd: dir, env, extendEnv: false, reject: false, timeout: 60_000 });
    const text = strip(r.stdout);
    expect(r.exitCode, text).toBe(0);
    expect(r.stdout).toMatch(/\u001b\[/); // the listr2 list, not the plain lines
    expect(text).toMatch(/✔ named-\*\*\* [\d.]+m?s/);
    expect(text).toMatch(/✖ fails failed [\d.]+m?s: exited 3 \(not required\)/);
    expect(text).toContain('bad ***');
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stderr).not.toContain(SECRET);
  });
});
