/**
 * When stdout or stderr cannot be written (a reader that left: `ltc deploy | head`; a full disk;
 * /dev/full; an I/O error). What ltc is doing goes on to its end — a deploy that is switching,
 * health-checking or rolling back must never stop halfway because its output broke — and only
 * the output is given up. A reader that left (EPIPE) changes nothing else; any other failure is
 * said once on stderr (when that still works) and makes the exit code 1 unless the command's own
 * is already a failure.
 */
import { writeSync } from 'node:fs';

let failed: NodeJS.ErrnoException | undefined;

function cannotWrite(err: NodeJS.ErrnoException): string {
  return `error: cannot write the output to stdout: ${err.code ?? 'error'}: ${err.message.replace(/^\w+: /, '').replace(/, write$/, '')}\n`;
}

/** The 'error' listener of process.stdout/stderr in the full CLI. */
export function noteOutputError(err: NodeJS.ErrnoException, stream: 'stdout' | 'stderr'): void {
  if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED' || failed) return;
  failed = err;
  if (stream === 'stdout') {
    try {
      writeSync(2, `${cannotWrite(err)}hint: free space where stdout goes (or send it elsewhere) and run the command again\n`);
    } catch {
      /* stderr is gone too: the exit code is all that is left */
    }
  }
  // The command may have ended already (the error of its last write comes a tick later).
  if (!process.exitCode) process.exitCode = 1;
}

/** For the fast paths, which only read: the output failed, so end now (a reader that left: exit 0; else one line and exit 1). */
export function exitOnOutputError(err: NodeJS.ErrnoException): never {
  if (err.code === 'EPIPE') process.exit(0);
  try {
    writeSync(2, cannotWrite(err));
  } catch {
    /* nothing left to tell */
  }
  process.exit(1);
}
