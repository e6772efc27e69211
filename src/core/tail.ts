/**
 * Reading append-only JSON-lines files (revisions.log, audit.jsonl) from the END, so what a
 * command needs from recent history costs the same whatever the size of the file (issue 17).
 */
// Synchronous reads of one chunk at a time (the generator yields between them): the fast paths
// then never load node:fs/promises.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isMissing } from './fs-missing.js';

export const TAIL_CHUNK = 64 * 1024;

/** The size of the open file; a folder there is an error that names the path (a read error would not). */
function regularFileSize(fd: number, file: string): number {
  const st = fstatSync(fd);
  if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${file}'`), { code: 'EISDIR', syscall: 'read', path: file });
  return st.size;
}

/**
 * The non-empty lines of `file`, newest first, read backwards in chunks of `chunk` bytes. A
 * missing file yields nothing. Lines are split on \n only (JSON lines never hold a raw newline).
 */
export async function* linesFromEnd(file: string, chunk = TAIL_CHUNK): AsyncGenerator<string> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if (isMissing(err)) return;
    throw err;
  }
  try {
    let pos = regularFileSize(fd, file);
    // Bytes of a line whose start is in an earlier chunk (not yet seen).
    let carry: Buffer = Buffer.alloc(0);
    while (pos > 0) {
      const len = Math.min(chunk, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, pos);
      let data = carry.length ? Buffer.concat([buf, carry]) : buf;
      let end = data.length;
      for (let i = data.length - 1; i >= 0; i--) {
        if (data[i] !== 0x0a) continue;
        if (end > i + 1) yield data.subarray(i + 1, end).toString('utf8');
        end = i;
      }
      carry = Buffer.from(data.subarray(0, end));
      data = Buffer.alloc(0);
    }
    if (carry.length) yield carry.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The last non-empty line of `file` and whether the file ends with a newline; empty file or none: `last` undefined. */
export async function lastLine(file: string): Promise<{ last?: string; endsWithNewline: boolean; size: number }> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if (isMissing(err)) return { endsWithNewline: true, size: 0 };
    throw err;
  }
  let size = 0;
  let endsWithNewline = true;
  try {
    size = regularFileSize(fd, file);
    if (size > 0) {
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, size - 1);
      endsWithNewline = b[0] === 0x0a;
    }
  } finally {
    closeSync(fd);
  }
  for await (const line of linesFromEnd(file)) return { last: line, endsWithNewline, size };
  return { endsWithNewline, size };
}
