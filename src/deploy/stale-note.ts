import type { AppStatus } from '../targets/target.js';

/** Why an app with a pid file is not running: its pid is gone, or it runs from another deploy root. */
export function staleNote(status: Pick<AppStatus, 'stale' | 'elsewhere' | 'pid' | 'pidFile'>): string {
  if (!status.stale) return '';
  const file = status.pidFile ? ` ${status.pidFile}` : '';
  return status.elsewhere
    ? ` (the pid file${file} names pid ${status.pid}, which runs from another deploy root: the file was copied along with this one)`
    : ` (stale pid file${file}: pid ${status.pid} is gone)`;
}
