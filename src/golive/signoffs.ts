/**
 * `.ltc/signoffs.json`: the sign-offs and waivers of one release candidate. A record for another RC
 * never counts. Written atomically under a lock; a file that does not parse or was edited into a
 * shape ltc does not know is refused (file and line named) and never overwritten.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { writeFileAtomic, withLock } from '../core/fs-atomic.js';

export const SIGNOFFS_FILE = 'signoffs.json';

const signoff = z.strictObject({
  item: z.string().min(1),
  rc: z.string().min(1),
  by: z.string().min(1),
  actor: z.string().min(1),
  time: z.string().min(1),
  note: z.string().optional(),
});
const waiver = z.strictObject({
  item: z.string().min(1),
  rc: z.string().min(1),
  by: z.string().min(1),
  actor: z.string().min(1),
  time: z.string().min(1),
  reason: z.string().min(1),
  expires: z.string().min(1),
});
const fileSchema = z.strictObject({
  version: z.literal(1),
  signoffs: z.array(signoff),
  waivers: z.array(waiver),
});

export type Signoff = z.output<typeof signoff>;
export type Waiver = z.output<typeof waiver>;
export type SignoffFile = z.output<typeof fileSchema>;

export function signoffsPath(stateDir: string): string {
  return join(stateDir, SIGNOFFS_FILE);
}

function lineOf(text: string, pos: number): number {
  return text.slice(0, pos).split('\n').length;
}

/** Parses the file's text; a bad file throws ConfigError naming file and line. */
export function parseSignoffs(text: string, file: string): SignoffFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    const line = m ? lineOf(text, Number(m[1])) : 1;
    throw new ConfigError(`${file}:${line}: not valid JSON (${(err as Error).message})`, {
      hint: `fix the file by hand or restore it from version control; ltc did not change it`,
    });
  }
  const r = fileSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.join('.');
    // The line of the offending key: the n-th record of the array, found in the text.
    const line = locate(text, issue.path);
    throw new ConfigError(`${file}:${line}: ${path || '(top level)'}: ${issue.message}`, {
      hint: 'the file was edited by hand into a shape ltc does not know; fix that entry or restore the file (ltc did not change it). Record sign-offs with `ltc golive signoff`',
    });
  }
  return r.data;
}

function locate(text: string, path: readonly PropertyKey[]): number {
  let pos = 0;
  for (const part of path) {
    if (typeof part === 'string') {
      const i = text.indexOf(`"${part}"`, pos);
      if (i < 0) break;
      pos = i;
    } else if (typeof part === 'number') {
      // Skip to the (part+1)-th '{' after the array start.
      let count = -1;
      for (let i = pos; i < text.length; i++) {
        if (text[i] === '{') count++;
        if (count === part) {
          pos = i;
          break;
        }
      }
    }
  }
  return lineOf(text, pos);
}

export async function readSignoffs(stateDir: string): Promise<SignoffFile> {
  const file = signoffsPath(stateDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, signoffs: [], waivers: [] };
    throw err;
  }
  return parseSignoffs(text, file);
}

/** Read, change, write atomically under the file's lock. */
export async function updateSignoffs(stateDir: string, fn: (f: SignoffFile) => void): Promise<SignoffFile> {
  const file = signoffsPath(stateDir);
  return withLock(file + '.lock', 'the sign-off file', async () => {
    const data = await readSignoffs(stateDir);
    fn(data);
    await writeFileAtomic(file, JSON.stringify(data, null, 2) + '\n', 0o644);
    return data;
  });
}

export function signoffFor(f: SignoffFile, item: string, rc: string): Signoff | undefined {
  return f.signoffs.filter((s) => s.item === item && s.rc === rc).at(-1);
}

export function waiverFor(f: SignoffFile, item: string, rc: string, now = Date.now()): Waiver | undefined {
  return f.waivers.filter((w) => w.item === item && w.rc === rc && Date.parse(w.expires) > now).at(-1);
}
