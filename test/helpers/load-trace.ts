import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { LTC } from './cli.js';

/**
 * A module hook that reports on stderr (`PKG <name>` lines) every npm package loaded,
 * `ltc-full-cli` when the full CLI loads (bundled or not), and at exit `node:child_process` /
 * `node:crypto` when loaded (process.getBuiltinModule bypasses resolve hooks, so moduleLoadList).
 */
const HOOK = `import { registerHooks } from 'node:module';
import { writeSync } from 'node:fs';
const seen = new Set();
registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); const m = r.url.match(/node_modules\\/((@[^/]+\\/)?[^/]+)/); if (m && !seen.has(m[1])) { seen.add(m[1]); writeSync(2, 'PKG ' + m[1] + '\\n'); } if (/dist\\/(bundle\\/main|src\\/cli\\/main)\\.js$/.test(r.url)) writeSync(2, 'PKG ltc-full-cli\\n'); return r; } });
process.on('exit', () => { for (const m of ['child_process', 'crypto', 'fs/promises', 'net', 'tty']) if (process.moduleLoadList.includes('NativeModule ' + m)) writeSync(2, 'PKG node:' + m + '\\n'); });
`;

export interface TracedRun {
  code: number;
  stdout: string;
  stderr: string;
  /** What the hook reported, in load order. */
  loaded: string[];
}

/** Runs the built ltc in `cwd` with the hook (written to `hookDir`). */
export async function tracedLtc(args: string[], o: { cwd: string; hookDir: string; env: Record<string, string | undefined> }): Promise<TracedRun> {
  const hook = join(o.hookDir, 'load-trace-hook.mjs');
  await writeFile(hook, HOOK);
  const r = await execa(process.execPath, ['--import', hook, LTC, ...args], { cwd: o.cwd, env: { ...o.env, NO_COLOR: '1', CI: 'true' }, reject: false });
  const loaded = r.stderr.split('\n').filter((l) => l.startsWith('PKG ')).map((l) => l.slice(4));
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, loaded };
}
