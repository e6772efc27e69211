/** Decides one go-live item: its probe (if any), then its sign-off or waiver for this RC. */
import { ConfigError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import type { GoliveItem, ItemResult } from './items.js';
import { PROBES, type ProbeOutcome } from './probes.js';
import type { GoliveScope } from './scope.js';
import { signoffFor, waiverFor, type SignoffFile } from './signoffs.js';
import { printableLine } from '../core/printable.js';

export function checkProbeName(item: GoliveItem, where: string): void {
  if (item.decided_by !== 'signoff' && !item.probe) {
    throw new ConfigError(`${where}: item ${item.item} is decided by ${item.decided_by} but names no probe`, { hint: `add probe: one of ${Object.keys(PROBES).join(', ')}` });
  }
  if (item.probe && !PROBES[item.probe]) {
    throw new ConfigError(`${where}: item ${item.item}: unknown probe "${item.probe}"`, { hint: didYouMean(item.probe, Object.keys(PROBES)) ?? `probes: ${Object.keys(PROBES).join(', ')}` });
  }
}

export async function evaluateItem(item: GoliveItem, scope: GoliveScope, signoffs: SignoffFile): Promise<ItemResult> {
  const started = Date.now();
  let outcome: ProbeOutcome | undefined;
  if (item.probe) {
    try {
      outcome = await PROBES[item.probe]!(scope, item.with);
    } catch (err) {
      if (scope.signal.aborted) throw err;
      const e = err as Error & { hint?: string };
      outcome = { status: 'failed', evidence: [scope.ctx.masker.mask(e.message)], ...(e.hint ? { fix: scope.ctx.masker.mask(e.hint) } : {}) };
    }
  }
  const so = signoffFor(signoffs, item.item, scope.rc);
  const wv = waiverFor(signoffs, item.item, scope.rc, scope.now);
  const base: ItemResult = {
    item: item.item,
    phase: item.phase,
    title: item.title,
    blocking: item.blocking,
    decided_by: item.decided_by,
    status: 'passed',
    evidence: outcome?.evidence ?? [],
    durationMs: 0,
    ...(outcome?.data ? { data: outcome.data } : {}),
  };
  if (so) base.signoff = { by: so.by, actor: so.actor, time: so.time, ...(so.note ? { note: so.note } : {}) };
  if (wv) base.waiver = { by: wv.by, actor: wv.actor, time: wv.time, reason: wv.reason, expires: wv.expires };
  const fix = item.fix ?? outcome?.fix;
  const failedOrWaived = (): ItemResult => (wv ? { ...base, status: 'waived' } : { ...base, status: 'failed', ...(fix ? { fix } : {}) });
  const needsSignoff = (): ItemResult =>
    wv ? { ...base, status: 'waived' } : { ...base, status: 'needs_signoff', fix: `ltc golive signoff ${item.item} --rc ${scope.rc} --by <name>` };
  let r: ItemResult;
  if (item.decided_by === 'check') {
    r = outcome!.status === 'failed' ? failedOrWaived() : outcome!.status === 'not_applicable' ? { ...base, status: 'not_applicable' } : { ...base, status: 'passed' };
  } else if (item.decided_by === 'both' && outcome!.status === 'failed') {
    r = failedOrWaived();
  } else {
    if (outcome?.status === 'not_applicable' && item.decided_by === 'both') r = { ...base, status: 'not_applicable' };
    else if (so) r = { ...base, status: 'passed', evidence: [...base.evidence, printableLine(`signed off by ${so.by} (${so.actor}) ${so.time}${so.note ? `: ${so.note}` : ''}`)] };
    else r = needsSignoff();
    if (!item.probe && r.evidence.length === 0) r.evidence = so ? r.evidence : ['manual item: no evidence recorded'];
  }
  if (r.status === 'waived') r.evidence = [...r.evidence, printableLine(`waived by ${wv!.by} until ${wv!.expires}: ${wv!.reason}`)];
  r.durationMs = Date.now() - started;
  return r;
}
