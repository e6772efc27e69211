/** The rolling switch: batches (a canary first), each host drained, switched, restarted, health-checked, enabled; undo on failure. */
import { batchSize, type SshTargetConfig } from '../config/schema/target.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { CheckFailedError, RollbackFailedError, RolledBackError, toLtcError } from '../core/errors.js';
import { healthHost, probeHealth, restartHost, switchHost } from './host-ops.js';
import type { Fleet, FleetHost, HostReport, Links } from './open.js';

export function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Back to `to` on each host (switch, restart, health); returns the hosts that could not be. */
export async function undo(f: Fleet, hosts: FleetHost[], to: Map<string, string | null>, reports: Map<string, HostReport>, previousBefore: (h: FleetHost) => string | null): Promise<string[]> {
  const failed: string[] = [];
  for (const h of hosts) {
    const rep = reports.get(h.name)!;
    const target = to.get(h.name);
    try {
      if (!target) throw new CheckFailedError(`host ${h.name}: no release to go back to`);
      f.progress.phase(h.name, `rolling back to ${target}`);
      // Both links as they were before this run: previous must not end up equal to current.
      // Switched back, whatever follows: a restart or health that fails leaves current on `target`.
      await switchHost(f, h, target, previousBefore(h), (confirmed) => {
        if (!confirmed) return void (rep.currentUnconfirmed = true);
        rep.current = target;
        delete rep.currentUnconfirmed;
      });
      await restartHost(f, h);
      await healthHost(f, h);
      await f.lb?.enable(h);
      rep.state = 'rolled_back';
      f.progress.done(h.name, true, `rolled back to ${target}`);
    } catch (err) {
      rep.state = 'rollback_failed';
      rep.error = toLtcError(err).message;
      failed.push(h.name);
      f.progress.done(h.name, false, `rollback failed: ${withHint(err)}`);
    }
  }
  return failed;
}

export function stateLines(reports: Map<string, HostReport>): string {
  return [...reports.values()]
    .map((r) => `  ${r.host}: ${r.state}, current ${r.current ?? '(none)'}${r.currentUnconfirmed ? ' (unconfirmed: the host could not be asked after a failed switch)' : ''}${r.error ? ` (${r.error})` : ''}`)
    .join('\n');
}

export interface Batch {
  hosts: FleetHost[];
  /** The canary batch: watched for the canary window before the next batch. */
  canary: boolean;
}

/** The canary hosts first (deploys only; never every host), then batches of `batch` (n or n%) of the selected hosts. */
export function planBatches(hosts: FleetHost[], config: Pick<SshTargetConfig, 'batch' | 'canary'>, withCanary: boolean): Batch[] {
  const n = withCanary ? Math.min(config.canary, hosts.length - 1) : 0;
  const out: Batch[] = n > 0 ? [{ hosts: hosts.slice(0, n), canary: true }] : [];
  for (const b of batches(hosts.slice(n), batchSize(config.batch, hosts.length))) out.push({ hosts: b, canary: false });
  return out;
}

export function planLines(plan: Batch[]): string[] {
  return plan.map((b, i) => `  ${b.canary ? 'canary' : `batch ${i + 1}`}: ${b.hosts.map((h) => `${h.name} (${h.user}@${h.address}:${h.port} ${h.root})`).join(', ')}`);
}

/** Health of the canary hosts every second for the window; a host failing twice in a row fails. */
async function watchCanary(f: Fleet, hosts: FleetHost[], windowMs: number): Promise<Array<{ h: FleetHost; error: string }>> {
  const misses = new Map<string, number>();
  const end = Date.now() + windowMs;
  f.progress.note(`  canary ${hosts.map((h) => h.name).join(', ')}: watching health for ${formatDuration(windowMs)}`);
  for (const h of hosts) f.progress.phase(h.name, `canary window ${formatDuration(windowMs)}`);
  while (Date.now() < end) {
    f.ctx.signal.throwIfAborted();
    const errors = await Promise.all(hosts.map((h) => probeHealth(h)));
    const failed: Array<{ h: FleetHost; error: string }> = [];
    hosts.forEach((h, i) => {
      const e = errors[i];
      misses.set(h.name, e ? (misses.get(h.name) ?? 0) + 1 : 0);
      if (e && misses.get(h.name)! >= 2) failed.push({ h, error: `host ${h.name}: canary health failed during the window: ${e}` });
    });
    if (failed.length) return failed;
    await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, end - Date.now()))));
  }
  return [];
}

/**
 * What to run once the hosts whose rollback failed are fixed: start each on the release it was
 * switched back to (a plain `ltc rollback` would move every host one release further back).
 */
export function restartHint(f: Pick<Fleet, 'environment'>, failed: readonly string[], reports: ReadonlyMap<string, Pick<HostReport, 'before'>>): string {
  const byRelease = new Map<string, string[]>();
  for (const name of failed) {
    const to = reports.get(name)?.before ?? '';
    byRelease.set(to, [...(byRelease.get(to) ?? []), name]);
  }
  const lines = [...byRelease].map(([to, hosts]) =>
    to ? `  ltc rollback --env ${f.environment} --hosts ${hosts.join(',')} --to ${to}` : `  ${hosts.join(', ')}: no release before this run; ltc deploy --env ${f.environment} --hosts ${hosts.join(',')} --rc <rc>`,
  );
  return `next: fix ${failed.join(', ')}, then start ${failed.length === 1 ? 'it' : 'each'} again on the release it was switched back to (the other hosts stay as they are):\n${lines.join('\n')}`;
}

/** The error of a host with its hint (a crashed app's log lines), indented under it. */
function withHint(err: unknown): string {
  const e = toLtcError(err);
  return e.hint ? `${e.message}\n${e.hint.split('\n').map((l) => `      ${l}`).join('\n')}` : e.message;
}

const message = (r: PromiseSettledResult<unknown>) => withHint((r as PromiseRejectedResult).reason);

async function enableAgain(f: Fleet, hosts: FleetHost[]): Promise<void> {
  for (const h of hosts) await f.lb!.enable(h).catch((err: unknown) => f.progress.note(`  ${h.name}: could not enable it again in the load balancer: ${toLtcError(err).message}`, 'error'));
}

/**
 * Switches hosts batch by batch to `releaseOf(host)` (previous := its current before). A failing
 * batch rolls back every host switched in this run to its links before (exit 3; 4 when one
 * cannot be rolled back); after the canary, up to `maxFailures` failed hosts are each rolled back
 * on their own and the rest go on. Returns the hosts so tolerated.
 */
export async function rolling(
  f: Fleet,
  action: string,
  releaseOf: (h: FleetHost) => string,
  reports: Map<string, HostReport>,
  before: Links,
  opts: { canary?: boolean; maxFailures?: number } = {},
): Promise<string[]> {
  const previousBefore = (h: FleetHost) => before.get(h.name)!.previous;
  // previous := the current before; but a host that stays on its release (rollback --to <current>,
  // to start a stopped app again) keeps its previous, the release a plain rollback returns to.
  const previousOf = (h: FleetHost) => (releaseOf(h) === before.get(h.name)!.current ? previousBefore(h) : before.get(h.name)!.current);
  let switched: FleetHost[] = [];
  let drained: FleetHost[] = [];
  const tolerated: string[] = [];
  const plan = planBatches(f.hosts, f.config, Boolean(opts.canary));
  for (const batch of plan) {
    const results = await Promise.allSettled(
      batch.hosts.map(async (h) => {
        const rep = reports.get(h.name)!;
        let t = performance.now();
        if (f.lb && h.restart) {
          f.progress.phase(h.name, 'drain');
          drained.push(h);
          await f.lb.drain(h);
          rep.phases.drain = Math.round(performance.now() - t);
          t = performance.now();
        }
        f.progress.phase(h.name, 'switch');
        // Also when it fails after current moved: switched all the same, so rolled back with the rest.
        // A host that could not be asked (down, or the connection dropped) is reported unconfirmed
        // but not rolled back: far more often it never got the switch than lost it after the mv.
        await switchHost(f, h, releaseOf(h), previousOf(h), (confirmed) => {
          if (!confirmed) return void (rep.currentUnconfirmed = true);
          switched.push(h);
          rep.state = 'switched';
          rep.current = releaseOf(h);
        });
        rep.phases.switch = Math.round(performance.now() - t);
        t = performance.now();
        f.progress.phase(h.name, 'restart');
        await restartHost(f, h);
        rep.phases.restart = Math.round(performance.now() - t);
        t = performance.now();
        f.progress.phase(h.name, 'health');
        await healthHost(f, h);
        rep.phases.health = Math.round(performance.now() - t);
        if (f.lb && h.restart) {
          t = performance.now();
          f.progress.phase(h.name, 'enable');
          await f.lb.enable(h);
          rep.phases.enable = Math.round(performance.now() - t);
        }
        f.progress.done(h.name, true, `${action} ${releaseOf(h)} healthy (${h.url + h.healthPath})`);
      }),
    );
    let bad = results.map((r, i) => ({ h: batch.hosts[i]!, error: r.status === 'rejected' ? message(r) : '' })).filter((x) => x.error);
    if (!bad.length && batch.canary) {
      const t = performance.now();
      bad = await watchCanary(f, batch.hosts, parseDuration(f.config.canary_window, 'canary_window'));
      for (const h of batch.hosts) reports.get(h.name)!.phases.canary = Math.round(performance.now() - t);
      if (!bad.length) f.progress.note(`  canary healthy for ${formatDuration(parseDuration(f.config.canary_window, 'canary_window'))}: the other ${f.hosts.length - batch.hosts.length} host(s) follow`);
    }
    if (!bad.length) continue;
    const reason = bad.map((x) => x.error).join('; ');
    for (const x of bad) reports.get(x.h.name)!.error = x.error;
    const allowed = opts.maxFailures ?? 0;
    if (!batch.canary && switched.length > 0 && tolerated.length + bad.length <= allowed) {
      // Within max_failures: these hosts go back on their own; the others stay and the run goes on.
      const badHosts = bad.map((x) => x.h);
      const mine = switched.filter((h) => badHosts.includes(h));
      f.progress.note(`${action} failed on ${badHosts.map((h) => h.name).join(', ')} (${tolerated.length + bad.length} of max_failures ${allowed}): rolling back only ${mine.map((h) => h.name).join(', ') || 'nothing (not switched)'}`, 'warn');
      const failed = await undo(f, mine, new Map(mine.map((h) => [h.name, reports.get(h.name)!.before])), reports, previousBefore);
      if (f.lb) await enableAgain(f, drained.filter((d) => badHosts.includes(d) && !switched.includes(d)));
      if (failed.length) {
        throw new RollbackFailedError(`${action} failed on ${failed.join(', ')} and its rollback failed`, {
          hint: `state per host:\n${stateLines(reports)}\n${restartHint(f, failed, reports)}`,
          details: { hosts: [...reports.values()] },
        });
      }
      tolerated.push(...badHosts.map((h) => h.name));
      switched = switched.filter((h) => !badHosts.includes(h));
      drained = drained.filter((h) => !badHosts.includes(h));
      continue;
    }
    if (switched.length === 0) {
      if (f.lb) await enableAgain(f, drained);
      throw new CheckFailedError(`${action} failed before any host was switched (${reason}): nothing was switched on any host`, { hint: `state per host:\n${stateLines(reports)}`, details: { hosts: [...reports.values()] } });
    }
    f.progress.note(`${action} failed on ${bad.map((x) => x.h.name).join(', ')}${batch.canary ? ' (canary)' : ''}: rolling back ${switched.map((h) => h.name).join(', ')}`, 'error');
    const back = new Map(switched.map((h) => [h.name, reports.get(h.name)!.before]));
    const failed = await undo(f, switched, back, reports, previousBefore);
    // Drained but never switched (the drain itself failed, or a batch mate did first): back in.
    if (f.lb) await enableAgain(f, drained.filter((d) => !switched.includes(d)));
    if (failed.length && f.lb) f.progress.note(`left drained in the ${f.lb.label}: ${failed.join(', ')} (enable them once they are healthy)`, 'warn');
    if (failed.length) {
      throw new RollbackFailedError(`${action} failed (${reason}) and the rollback failed on ${failed.join(', ')}`, {
        hint: `state per host:\n${stateLines(reports)}\n${restartHint(f, failed, reports)}`,
        details: { hosts: [...reports.values()] },
      });
    }
    throw new RolledBackError(`${action} failed (${reason}); every host switched in this run was rolled back`, {
      hint: `state per host:\n${stateLines(reports)}`,
      details: { hosts: [...reports.values()] },
    });
  }
  return tolerated;
}
