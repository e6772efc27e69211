import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';

/** A temp ops dir with runbooks/<name>.yaml for each entry. */
export async function opsDir(runbooks: Record<string, string>): Promise<string> {
  const dir = await tempDir('ltc-runbook-');
  await mkdir(join(dir, 'runbooks'));
  for (const [name, text] of Object.entries(runbooks)) await writeFile(join(dir, 'runbooks', `${name}.yaml`), text);
  return dir;
}

/** Every journal event of every run under dir/.ltc/runs, by run id. */
export async function journals(dir: string): Promise<Map<string, Array<Record<string, unknown>>>> {
  const runs = join(dir, '.ltc', 'runs');
  const out = new Map<string, Array<Record<string, unknown>>>();
  if (!existsSync(runs)) return out;
  for (const f of (await readdir(runs)).sort()) {
    const text = await readFile(join(runs, f), 'utf8');
    out.set(f.replace(/\.jsonl$/, ''), text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
  }
  return out;
}

/** The raw text of every journal under dir/.ltc/runs. */
export async function journalText(dir: string): Promise<string> {
  const runs = join(dir, '.ltc', 'runs');
  if (!existsSync(runs)) return '';
  const files = (await readdir(runs)).sort();
  return (await Promise.all(files.map((f) => readFile(join(runs, f), 'utf8')))).join('');
}

/** Is a process with this pid still running? (A zombie, ended but not yet reaped, is not.) */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Waits (up to `ms`) for a process to end; returns whether it is still running. */
export async function stillRunningAfter(pid: number, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  return alive(pid);
}

/** Waits until a file exists with some text in it (a pid file a test step writes); its trimmed text. */
export async function waitFor(file: string, timeoutMs = 20_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (existsSync(file)) {
      const text = (await readFile(file, 'utf8')).trim();
      if (text) return text;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${file}`);
}
