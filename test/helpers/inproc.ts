import { Writable } from 'node:stream';
import type { LtcRun } from './cli.ts';
import type { ProcessPort } from '../../src/exec/process.ts';

const DIST_MAIN = new URL('../../dist/src/cli/main.js', import.meta.url).href;

class Buffered extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += String(chunk);
    done();
  }
}

/**
 * The in-process tier: runs `main(argv, env, io)` in this worker with buffers for stdout and
 * stderr, no TTY and CI=true — for usage, validation, planning and rendering. Processes, signals,
 * locks and servers stay with `runLtc`. It runs the built dist/ (as the binary does), so `npm run
 * build` first; `npm test` does.
 */
export async function ltcInProcess(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; processes?: ProcessPort } = {},
): Promise<LtcRun> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: '1', CI: 'true', ...opts.env })) if (v !== undefined) env[k] = v;
  const stdout = new Buffered();
  const stderr = new Buffered();
  const { main } = (await import(DIST_MAIN)) as typeof import('../../src/cli/main.ts');
  const code = await main(args, env, { cwd: opts.cwd ?? process.cwd(), stdout, stderr, stdinIsTTY: false, processHooks: false, processes: opts.processes });
  const out = stdout.text.replace(/\n$/, '');
  let json: unknown;
  try {
    json = JSON.parse(out);
  } catch {
    json = undefined;
  }
  return { code, stdout: out, stderr: stderr.text.replace(/\n$/, ''), json };
}
