import { runGit } from '../git/git.js';
import { printableLine } from '../core/printable.js';
import { hostname, userInfo } from 'node:os';

/**
 * Who acts, written the same in the audit log, the environment lock and revisions.log:
 * the git identity (user.email, null when none is set) and the OS account as user@host.
 */
export interface Actor {
  git_email: string | null;
  os_user: string;
}

function osUser(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return `${user}@${hostname()}`;
}

let cachedId: Promise<Actor> | undefined;

/** Both identities of whoever runs ltc. */
export function currentActorId(): Promise<Actor> {
  cachedId ??= runGit(['config', '--get', 'user.email'], { timeout: 2000 }).then(
    // Written into every record and shown by releases, audit log and lock status: escaped there
    // once, so a user.email with an escape sequence cannot steer whoever reads them.
    (r) => ({ git_email: r.exitCode === 0 && r.stdout.trim() ? printableLine(r.stdout.trim()) : null, os_user: printableLine(osUser()) }),
    () => ({ git_email: null, os_user: osUser() }),
  );
  return cachedId;
}

/** The short form (`actor` in records): git `user.email`, else user@host. */
export function actorName(a: Actor): string {
  return a.git_email ?? a.os_user;
}

/** Both identities for people: `ann@example.com (root@vm)`. */
export function actorLabel(a: Actor): string {
  return a.git_email ? `${a.git_email} (${a.os_user})` : a.os_user;
}

/** Who is acting: git `user.email`, else user@host. */
export async function currentActor(): Promise<string> {
  return actorName(await currentActorId());
}
