// A deployed demo app on the local target, shared by bench/rollback.mjs and bench/startup.mjs:
// the demo app repo (generateDemoApp), an ops dir with ltc.config.yaml (environment `bench`,
// file secret backend, two health endpoints) and two deploys (rc-2026-02-15, then rc-2026-03-01).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LTC, ROOT } from './lib.mjs';

export const freePort = () =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

export const VERSION_OF = { 'rc-2026-02-15': '1.0.0', 'rc-2026-03-01': '1.1.0' };

export async function deployedDemo(name) {
  const { generateDemoApp } = await import(join(ROOT, 'dist', 'src', 'demo', 'generate-app.js'));
  const work = mkdtempSync(join(tmpdir(), `ltc-bench-${name}-`));
  const deployRoot = join(work, 'deploy');
  const ops = join(work, 'ops');
  const env = { ...process.env, NO_COLOR: '1', CI: 'true', LTC_MASTER_KEY: randomBytes(32).toString('base64'), LTC_ENV: 'bench' };
  delete env.LTC_CONFIG;
  delete env.LTC_STATE_DIR;
  const app = await generateDemoApp({ dir: join(work, 'app') });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  mkdirSync(ops);
  writeFileSync(
    join(ops, 'ltc.config.yaml'),
    [
      'version: 1',
      `app: { repo: ${JSON.stringify(app.repoDir)} }`,
      'environments:',
      '  bench:',
      `    url: ${url}`,
      '    health:',
      '      timeout: 2s',
      '      endpoints:',
      '        - { name: api, url: /api/health, conditions: [status == 200, body.status == "ok"] }',
      '        - { name: frontend, url: /, conditions: [status == 200] }',
      '    target:',
      '      type: local',
      `      deploy_root: ${JSON.stringify(deployRoot)}`,
      '      build: [[npm, ci], [npm, run, build]]',
      '      start: [node, server.mjs]',
      `      env: { PORT: "${port}", HOST: 127.0.0.1 }`,
      '      stop_grace: 2s',
      '      health_deadline: 15s',
      '    secrets:',
      '      backend: file',
      '      required: [{ name: LTC_SECRET_KEY, kind: secret_key }]',
      '',
    ].join('\n'),
  );
  const ltc = (...args) => {
    const r = spawnSync(process.execPath, [LTC, ...args], { cwd: ops, encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`ltc ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
    return r;
  };
  const appPid = () => JSON.parse(readFileSync(join(deployRoot, 'shared', 'app.pid'), 'utf8')).pid;
  const cleanup = () => {
    try {
      const pid = appPid();
      process.kill(-pid, 'SIGCONT');
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* nothing runs */
    }
    rmSync(work, { recursive: true, force: true });
  };
  try {
    ltc('secrets', 'generate', 'LTC_SECRET_KEY');
    ltc('deploy', '--rc', 'rc-2026-02-15');
    ltc('deploy', '--rc', 'rc-2026-03-01');
  } catch (err) {
    cleanup();
    throw err;
  }
  return { work, ops, env, url, port, deployRoot, ltc, appPid, cleanup };
}
