import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { execa } from 'execa';
import type { Context } from '../core/context.js';
import { CheckFailedError } from '../core/errors.js';

export interface DemoWorkspace {
  work: string;
  repoDir: string;
  opsDir: string;
  deployRoot: string;
  port: number;
  env: NodeJS.ProcessEnv;
}

export interface DemoStage {
  title: string;
  /** Arguments after `ltc`. */
  args: string[];
  expectExit?: number;
  explain?: string;
  continueOnFailure?: boolean;
  before?: () => Promise<void>;
}

export interface DemoPlan {
  stages: DemoStage[];
  cleanup: () => Promise<void>;
}

async function waitForPort(url: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch {
      if (Date.now() > until) throw new CheckFailedError(`the demo app did not start listening on ${url}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Starts one release of the demo app by hand (before a deploy exists to do it). */
async function startRelease(ws: DemoWorkspace, tag: string): Promise<ChildProcess> {
  const dir = join(ws.work, 'run', tag);
  await mkdir(dir, { recursive: true });
  await execa('git', ['-C', ws.repoDir, 'archive', '--format=tar', `refs/tags/${tag}`]).pipe('tar', ['-x', '-C', dir]);
  await execa('npm', ['run', 'build'], { cwd: dir });
  const child = spawn(process.execPath, ['server.mjs'], {
    cwd: dir,
    env: { PATH: process.env.PATH, PORT: String(ws.port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  await waitForPort(`http://127.0.0.1:${ws.port}/api/health`, 10_000);
  return child;
}

export async function demoStages(ws: DemoWorkspace, _ctx: Context): Promise<DemoPlan> {
  let app: ChildProcess | undefined;
  return {
    stages: [
      {
        title: 'validate the generated config',
        args: ['config', 'validate'],
      },
      {
        title: "the handbook's final gates on rc-2026-03-01",
        args: ['gates', 'run', '--rc', 'rc-2026-03-01'],
        explain: 'a clean checkout of the tag in .ltc/work, npm ci, then the five gates; result in .ltc/gates/<commit>.json',
      },
      {
        title: 'health of rc-2026-03-01 (API and frontend)',
        args: ['health', '--env', 'demo'],
        before: async () => {
          app = await startRelease(ws, 'rc-2026-03-01');
        },
      },
    ],
    cleanup: async () => {
      if (app && app.exitCode === null && app.signalCode === null) {
        const exited = once(app, 'exit');
        app.kill('SIGTERM');
        await exited;
      }
    },
  };
}
