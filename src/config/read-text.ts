/**
 * Reads a config or runbook file as text, refusing what is not a plain file of a sane size:
 * a FIFO would block ltc (an open() that never returns cannot be interrupted), /dev/zero or
 * /dev/urandom never ends, and a multi-gigabyte file only burns memory. The file is opened
 * non-blocking and checked through its descriptor, so what is checked is what is read.
 * Synchronous (a few kilobytes), so that the fast paths can use it without node:fs/promises.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

import { ConfigError, fileErrorHint } from '../core/errors.js';

/** Larger files are refused: a config or a runbook is a few kilobytes. */
export const MAX_TEXT_FILE_BYTES = 4 << 20;

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The text of `file`; `what` names it in messages ("config", "runbook"). ConfigError (exit 2) when it cannot be read. */
export async function readTextFile(file: string, what: string): Promise<string> {
  return readTextFileSync(file, what);
}

export function readTextFileSync(file: string, what: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'ENOENT' ? undefined : fileErrorHint(e, file);
    throw new ConfigError(`cannot read ${what} ${file}: ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)}`, { ...(hint ? { hint } : {}), details: { file } });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new ConfigError(`cannot read ${what} ${file}: it is ${kindOf(st)}, not a regular file`, {
        hint: `point ltc at the ${what} file itself`,
        details: { file },
      });
    }
    if (st.size > MAX_TEXT_FILE_BYTES) {
      throw new ConfigError(`cannot read ${what} ${file}: it is ${st.size} bytes, more than ${MAX_TEXT_FILE_BYTES} (4 MiB)`, {
        hint: `a ${what} is a few kilobytes of YAML; check that this is the right file`,
        details: { file },
      });
    }
    const buf = Buffer.alloc(Math.min(st.size, MAX_TEXT_FILE_BYTES) + 1);
    let got = 0;
    for (;;) {
      const bytesRead = readSync(fd, buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got >= buf.length) {
        throw new ConfigError(`cannot read ${what} ${file}: it grew while it was read`, { details: { file } });
      }
    }
    return buf.subarray(0, got).toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const e = err as NodeJS.ErrnoException;
    const hint = fileErrorHint(e, file);
    throw new ConfigError(`cannot read ${what} ${file}: ${e.code ?? e.message}`, { ...(hint ? { hint } : {}), details: { file } });
  } finally {
    closeSync(fd);
  }
}
