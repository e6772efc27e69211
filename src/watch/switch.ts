/**
 * Which release is live and when it went live (the `current` link's own mtime: every switch
 * writes a new link and renames it into place). The watch uses the switch time so Prometheus
 * rate windows never reach back into the release before it.
 */
import { lstat } from 'node:fs/promises';
import type { LoadedConfig } from '../config/load.js';
import type { EnvironmentConfig } from '../config/schema/index.js';
import type { Context } from '../core/context.js';

export interface LiveRelease {
  release: string | null;
  rc: string | null;
  /** Epoch ms of the switch to it; null when unknown. */
  switchedMs: number | null;
}

const UNKNOWN: LiveRelease = { release: null, rc: null, switchedMs: null };

export async function liveRelease(name: string, env: EnvironmentConfig, loaded: LoadedConfig, ctx: Context): Promise<LiveRelease> {
  if (!env.target) return UNKNOWN;
  try {
    if (env.target.type === 'ssh') return await liveOnFleet(ctx);
    const { openTarget } = await import('../targets/index.js');
    const target = openTarget(name, env, loaded);
    const cur = (await target.listReleases()).find((r) => r.current);
    if (!cur) return UNKNOWN;
    const link = await lstat(target.paths.current).catch(() => undefined);
    return { release: cur.name, rc: cur.meta?.rc ?? null, switchedMs: link ? link.mtimeMs : null };
  } catch {
    return UNKNOWN;
  }
}

// $1 root: the release current points at, the link's mtime (epoch s), the release's rc.
const READ_LIVE =
  'l=$(readlink "$1/current" 2>/dev/null) || exit 0; n=$(basename "$l"); printf "%s\\n" "$n"; stat -c %Y "$1/current"; ' +
  'sed -n \'s/.*"rc": *"\\([^"]*\\)".*/\\1/p\' "$1/releases/$n/.ltc-release.json" 2>/dev/null | head -1';

async function liveOnFleet(ctx: Context): Promise<LiveRelease> {
  const { openFleet, primaryOf } = await import('../fleet/fleet.js');
  const f = await openFleet(ctx);
  try {
    const h = primaryOf(f);
    const r = await f.pool.script(h, READ_LIVE, [h.root], { signal: ctx.signal });
    const [release, mtime, rc] = r.stdout.split('\n');
    if (r.exitCode !== 0 || !release) return UNKNOWN;
    const s = Number(mtime);
    return { release, rc: rc || null, switchedMs: Number.isFinite(s) && s > 0 ? s * 1000 : null };
  } finally {
    await f.pool.close();
  }
}
