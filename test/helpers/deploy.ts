/**
 * A deploy stage for the deploy tests: the generated demo app repo, an ops folder with an
 * ltc.config.yaml whose `staging` environment deploys to a local target in a temp dir (start
 * [node, server.mjs], PORT=<free port>, HOST=127.0.0.1, health /api/health and /), the file
 * secret backend with LTC_MASTER_KEY, and helpers to read the target and to stop what runs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateDemoApp, type DemoApp } from '../../src/demo/generate-app.ts';
import { freePort, runLtc, tempDir, type LtcRun } from './cli.ts';

export interface Stage {
  dir: string;
  ops: string;
  deployRoot: string;
  port: number;
  url: string;
  env: Record<string, string>;
  ltc(args: string[], opts?: { env?: Record<string, string | undefined>; timeout?: number }): Promise<LtcRun>;
}

let shared: Promise<DemoApp> | undefined;

/** One generated demo app repo per test file (deploys only read it). */
export function demoApp(): Promise<DemoApp> {
  shared ??= tempDir('ltc-deploy-app-').then((d) => generateDemoApp({ dir: join(d, 'app') }));
  return shared;
}

export interface StageOptions {
  target?: Record<string, unknown>;
  environment?: Record<string, unknown>;
  /** Generate LTC_SECRET_KEY in the file backend (default true). */
  secret?: boolean;
  /** More top-level config keys (e.g. gates). */
  top?: Record<string, unknown>;
  /** Key the audit log: a key file outside the ops folder, named by LTC_AUDIT_KEY_FILE in `env`. */
  auditKey?: boolean;
}

export async function makeStage(o: StageOptions = {}): Promise<Stage> {
  const app = await demoApp();
  const dir = await tempDir('ltc-deploy-');
  const ops = join(dir, 'ops');
  const deployRoot = join(dir, 'deploy');
  await mkdir(ops, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = {
    version: 1,
    app: { name: 'demo', repo: app.repoDir },
    environments: {
      staging: {
        url,
        health: {
          timeout: '2s',
          endpoints: [
            { name: 'api', url: '/api/health', conditions: ['status == 200', 'body.status == "ok"'] },
            { name: 'frontend', url: '/', conditions: ['status == 200'] },
          ],
        },
        target: {
          type: 'local',
          deploy_root: deployRoot,
          build: [['npm', 'run', 'build']],
          start: ['node', 'server.mjs'],
          env: { PORT: String(port), HOST: '127.0.0.1' },
          stop_grace: '3s',
          health_deadline: '3s',
          ...o.target,
        },
        secrets: { backend: 'file', required: [{ name: 'LTC_SECRET_KEY', kind: 'secret_key' }] },
        ...o.environment,
      },
    },
    ...o.top,
  };
  await writeFile(join(ops, 'ltc.config.yaml'), stringify(config));
  const env: Record<string, string> = { LTC_MASTER_KEY: randomBytes(32).toString('base64'), LTC_ENV: '' };
  if (o.auditKey) {
    await mkdir(join(dir, 'keys'), { mode: 0o700 });
    env.LTC_AUDIT_KEY_FILE = join(dir, 'keys', 'audit.key');
    await writeFile(env.LTC_AUDIT_KEY_FILE, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  }
  const stage: Stage = {
    dir,
    ops,
    deployRoot,
    port,
    url,
    env,
    ltc: (args, opts = {}) => runLtc(args, { cwd: ops, env: { ...env, ...opts.env }, timeout: opts.timeout ?? 120_000 }),
  };
  if (o.secret !== false) {
    const r = await stage.ltc(['secrets', 'generate', 'LTC_SECRET_KEY', '--env', 'staging']);
    if (r.code !== 0) throw new Error(`secrets generate failed: ${r.stderr}`);
  }
  return stage;
}

export function currentRelease(s: Stage): string | undefined {
  try {
    return readlinkSync(join(s.deployRoot, 'current')).replace(/^releases\//, '');
  } catch {
    return undefined;
  }
}

export function previousRelease(s: Stage): string | undefined {
  try {
    return readlinkSync(join(s.deployRoot, 'previous')).replace(/^releases\//, '');
  } catch {
    return undefined;
  }
}

/** A complete release: a folder in releases/ (not partial) with its .ltc-release.json and the built frontend. */
export function isCompleteRelease(s: Stage, name: string | undefined): boolean {
  if (!name || name.startsWith('.')) return false;
  const dir = join(s.deployRoot, 'releases', name);
  return existsSync(join(dir, '.ltc-release.json')) && existsSync(join(dir, 'dist', 'index.html')) && existsSync(join(dir, 'server.mjs'));
}

export function releaseMeta(s: Stage, name: string): { rc: string; commit: string } {
  return JSON.parse(readFileSync(join(s.deployRoot, 'releases', name, '.ltc-release.json'), 'utf8')) as { rc: string; commit: string };
}

export interface Revision {
  action: string;
  outcome: string;
  rc: string | null;
  release: string | null;
  releaseDir?: string | null;
  commit?: string | null;
  actor?: string;
  time: string;
  from: string | null;
  durationMs: number;
  buildMs?: number;
  startMs?: number;
  rolledBackTo?: string | null;
  failedPhase?: string;
}

export function revisions(s: Stage): Revision[] {
  const file = join(s.deployRoot, 'revisions.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Revision);
}

export async function audit(s: Stage): Promise<Array<{ action: string; outcome: string; details?: Record<string, unknown> }>> {
  const file = join(s.ops, '.ltc', 'audit.jsonl');
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { action: string; outcome: string; details?: Record<string, unknown> });
}

export async function getJson(url: string, timeoutMs = 5000): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* text */
  }
  return { status: r.status, body };
}

/** The version the app on the stage's port reports (/api/health), or the error. */
export async function liveVersion(s: Stage, timeoutMs = 5000): Promise<string> {
  try {
    const r = await getJson(`${s.url}/api/health`, timeoutMs);
    return r.status === 200 ? String((r.body as { version?: string }).version) : `status ${r.status}`;
  } catch (err) {
    return `down (${(err as Error).message})`;
  }
}

function state(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

export function alive(pid: number): boolean {
  const st = state(pid);
  return st !== undefined && st !== 'Z';
}

/** Live processes whose working directory is inside `dir` (the apps started from releases). */
export function processesUnder(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${e}/cwd`);
      if ((cwd === dir || cwd.startsWith(dir + '/')) && alive(Number(e))) out.push(Number(e));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

export function appPid(s: Stage): number | undefined {
  // Read once (no exists-then-read): ltc removes and rewrites the file while a restart runs.
  try {
    return (JSON.parse(readFileSync(join(s.deployRoot, 'shared', 'app.pid'), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

/** Ends everything started from the stage (by process group), and returns what still ran before. */
export async function stopStage(s: Stage): Promise<number[]> {
  const before = processesUnder(s.dir);
  for (const pid of before) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  const until = Date.now() + 5000;
  while (processesUnder(s.dir).length && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return before;
}

/** A snapshot of a folder: every path with its type, size, mode and link target or content. */
export function snapshot(dir: string): string {
  if (!existsSync(dir)) return '(absent)';
  const lines: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) lines.push(`L ${p} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        lines.push(`D ${p} ${st.mode.toString(8)}`);
        walk(p);
      } else lines.push(`F ${p} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${readFileSync(p).toString('base64')}`);
    }
  };
  walk(dir);
  return lines.join('\n');
}
