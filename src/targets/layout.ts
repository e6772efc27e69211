/**
 * Where a deploy root keeps what: releases/<name>, the current and previous links, shared/ (.env,
 * logs, the pid file), revisions.log and the lock. Pure (no I/O), one definition for the local
 * target and the ssh hosts, so that both lay out a deploy root the same way.
 */
import { posix } from 'node:path';

export const PARTIAL_PREFIX = '.partial-';

export interface ReleaseLayout {
  releases: string;
  current: string;
  previous: string;
  shared: string;
  envFile: string;
  logFile: string;
  pidFile: string;
  lockFile: string;
  revisions: string;
}

export function releaseLayout(root: string, logFile?: string): ReleaseLayout {
  const shared = posix.join(root, 'shared');
  return {
    releases: posix.join(root, 'releases'),
    current: posix.join(root, 'current'),
    previous: posix.join(root, 'previous'),
    shared,
    envFile: posix.join(shared, '.env'),
    logFile: logFile ?? posix.join(shared, 'logs', 'app.log'),
    pidFile: posix.join(shared, 'app.pid'),
    lockFile: posix.join(root, '.ltc-lock'),
    revisions: posix.join(root, 'revisions.log'),
  };
}

/** releases/<name>, complete. */
export function releaseDir(layout: Pick<ReleaseLayout, 'releases'>, name: string): string {
  return posix.join(layout.releases, name);
}

/** releases/.partial-<name>: a release being made (or left by a killed deploy). */
export function partialReleaseDir(layout: Pick<ReleaseLayout, 'releases'>, name: string): string {
  return posix.join(layout.releases, `${PARTIAL_PREFIX}${name}`);
}
