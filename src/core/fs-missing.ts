/**
 * A file that is not there is an empty state (no releases yet, no history); one that is there but
 * cannot be read (EACCES, EIO, a file where a folder should be) is an error to report, never an
 * empty state: `ltc releases` must not say "none yet" about a deploy root it may not read.
 */
export function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** A read error (EISDIR from readFile) that names no path gets `path`, so that it can say which file. */
export function withPath(err: unknown, path: string): unknown {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e instanceof Error && e.code && e.path === undefined) e.path = path;
  return err;
}
