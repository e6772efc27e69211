/**
 * stdout for the fast paths (src/cli/fast-path.ts) without `process.stdout`: creating that stream
 * loads Node's stream and net/tty machinery, about 2 ms — a fifth of what a fast path may cost.
 */
import { fstatSync, statSync, writeSync } from 'node:fs';
import { exitOnOutputError } from './output-failure.js';

/** Whether fd 1 is a terminal; node:tty is loaded only when it could be one (a character device other than /dev/null). */
export function stdoutIsTerminal(): boolean {
  try {
    const st = fstatSync(1);
    if (!st.isCharacterDevice() || st.rdev === statSync('/dev/null').rdev) return false;
    return process.getBuiltinModule('node:tty').isatty(1);
  } catch {
    return false;
  }
}

/** Writes all of `text` to fd 1 before returning; a closed reader (EPIPE) ends the write quietly. */
export function writeStdoutSync(text: string): void {
  const bytes = Buffer.from(text);
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(1, bytes, done);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return;
    if (code !== 'EAGAIN') exitOnOutputError(err as NodeJS.ErrnoException);
    // A non-blocking stdout handed down by the parent: the stream waits until it drains.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => exitOnOutputError(e));
    process.stdout.write(bytes.subarray(done));
  }
}
