/**
 * When stdout or stderr cannot be written (a full disk, /dev/full, an I/O error): one line on
 * stderr (when that still works) and exit 1, or the command's own failing code, instead of a
 * stack trace. A reader that went away (EPIPE: `ltc … | head`) ends ltc quietly with its code.
 */
import { writeSync } from 'node:fs';

export function exitOnOutputError(err: NodeJS.ErrnoException, stream: 'stdout' | 'stderr'): never {
  const code = typeof process.exitCode === 'number' && process.exitCode !== 0 ? process.exitCode : undefined;
  if (err.code === 'EPIPE') process.exit(code ?? 0);
  if (stream === 'stdout') {
    try {
      writeSync(2, `error: cannot write the output to stdout: ${err.code ?? 'error'}: ${err.message.replace(/^\w+: /, '').replace(/, write$/, '')}\nhint: free space where stdout goes (or send it elsewhere) and run the command again\n`);
    } catch {
      /* stderr is gone too: the exit code is all that is left */
    }
  }
  process.exit(code ?? 1);
}
