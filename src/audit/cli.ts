/** `ltc audit log`, `ltc audit verify`, `ltc audit init-key` and `ltc audit seal`. */
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { CheckFailedError, ConfigError } from '../core/errors.js';
import { auditRows } from '../secrets/cli.js';
import { parseSince } from '../secrets/since.js';
import { currentAuditKey } from './key-source.js';
import { AUDIT_KEY_ENV, appendAudit, auditPath, readAudit, verifyAudit, type AnchorRef } from './log.js';

export interface AuditLogOptions {
  since?: string;
  action?: string;
}

export async function auditLog(ctx: Context, opts: AuditLogOptions): Promise<CommandResult> {
  const since = opts.since ? parseSince(opts.since) : undefined;
  const stateDir = await ctx.stateDir();
  const entries = (await readAudit(stateDir)).filter(
    (e) => (!since || Date.parse(e.time) >= since.getTime()) && (!opts.action || e.action.startsWith(opts.action)),
  );
  return {
    data: { file: auditPath(stateDir), entries },
    text: entries.length ? auditRows(entries) : `no entries in ${auditPath(stateDir)}${since ? ` since ${since.toISOString()}` : ''}`,
  };
}

/**
 * The anchors (audit head at each deploy/rollback/restart) in the revisions.log of every
 * environment with a local target. No config (LTC_STATE_DIR alone): none. A revisions.log that
 * cannot be read fails verify (its anchors could say the log was longer).
 */
async function collectAnchors(ctx: Context): Promise<{ anchors: AnchorRef[]; logs: string[] }> {
  let loaded;
  try {
    loaded = await ctx.config();
  } catch {
    return { anchors: [], logs: [] };
  }
  const { openTarget } = await import('../targets/index.js');
  const anchors: AnchorRef[] = [];
  const logs: string[] = [];
  for (const [name, env] of Object.entries(loaded.config.environments)) {
    if (env.target?.type !== 'local') continue;
    const target = openTarget(name, env, loaded);
    const file = `${target.root}/revisions.log`;
    let records;
    try {
      records = await target.readRevisions();
    } catch (err) {
      throw new CheckFailedError(`cannot read ${file} (environment ${name}) to check the audit log's anchors: ${(err as Error).message}`);
    }
    logs.push(file);
    records.forEach((r, i) => {
      const a = r.audit;
      if (!a || typeof a.entries !== 'number' || typeof a.sha256 !== 'string') return;
      anchors.push({
        entries: a.entries,
        sha256: a.sha256,
        ...(typeof a.hmac === 'string' ? { hmac: a.hmac } : {}),
        where: `${file} record ${i + 1} (${r.action}${r.rc ? ` of ${r.rc}` : ''} on ${name} at ${r.time}${r.runId ? `, run ${r.runId}` : ''})`,
      });
    });
  }
  return { anchors, logs };
}

export interface AuditVerifyOptions {
  requireKey?: boolean;
}

export async function auditVerify(ctx: Context, opts: AuditVerifyOptions = {}): Promise<CommandResult> {
  const key = await currentAuditKey();
  if (opts.requireKey && !key) {
    throw new ConfigError(`--require-key: no audit key is configured`, {
      hint: `set ${AUDIT_KEY_ENV} to the key file (or audit.key_file / audit.key_secret in the config); make one with \`ltc audit init-key --out <file>\``,
    });
  }
  const { anchors, logs } = await collectAnchors(ctx);
  const r = await verifyAudit(await ctx.stateDir(), { key, anchors });
  const details = { file: r.file, entries: r.entries, firstBadLine: r.firstBadLine, reason: r.reason, keyed: r.keyedEntries > 0, anchorsChecked: r.anchorsChecked, ...(r.badAnchor ? { badAnchor: r.badAnchor } : {}) };
  if (r.needsKey) {
    throw new ConfigError(`${r.file} is keyed (key ${r.needsKey.keyId}, from line ${r.needsKey.line}) and no audit key is configured: it cannot be verified`, {
      hint: `set ${AUDIT_KEY_ENV} to the key file it was written with (or audit.key_file / audit.key_secret in the config)`,
      details,
    });
  }
  if (!r.ok) {
    throw new CheckFailedError(`${r.file}: line ${r.firstBadLine}: ${r.reason}`, {
      hint: r.badAnchor
        ? 'the revisions.log of the target recorded the audit log as it was; restore audit.jsonl from a backup or your log store and compare'
        : 'the log was changed outside ltc; compare it with a backup or the copy in your log store, from that line on',
      details,
    });
  }
  const anchorsText = logs.length ? `, ${r.anchorsChecked} anchor${r.anchorsChecked === 1 ? '' : 's'} in revisions.log match` : '';
  const entriesText = `${r.entries} entr${r.entries === 1 ? 'y' : 'ies'}`;
  const text = key
    ? `${r.file}: ${entriesText}, hash chain intact, ${r.keyedEntries} keyed entr${r.keyedEntries === 1 ? 'y' : 'ies'} verified with key ${key.id}${r.entries > r.keyedEntries ? ` (the ${r.entries - r.keyedEntries} before them are covered by the first)` : ''}${anchorsText}`
    : `${r.file}: ${entriesText}, hash chain intact${anchorsText}\nunkeyed: tamper-evident only against accidents (anyone who can write .ltc/ can rewrite it); set ${AUDIT_KEY_ENV} (docs/audit.md)`;
  return {
    data: { file: r.file, entries: r.entries, keyed: !!key, keyedEntries: r.keyedEntries, ...(key ? { keyId: key.id } : {}), anchorsChecked: r.anchorsChecked, revisionLogs: logs },
    text,
  };
}

export async function auditInitKey(ctx: Context, opts: { out?: string }): Promise<CommandResult> {
  const { initKey } = await import('./key.js');
  const { file, id } = await initKey(ctx, opts.out);
  return {
    data: { file, keyId: id },
    text: [
      `wrote a new audit key to ${file} (mode 0600, key ${id})`,
      `next: export ${AUDIT_KEY_ENV}=${file}   (or audit.key_file: ${file} in the config), then \`ltc audit seal\``,
      'keep a copy where you keep other credentials: without it the log cannot be verified or continued',
    ].join('\n'),
  };
}

/** Appends a keyed `audit.seal` entry that vouches for the (verified) log so far. */
export async function auditSeal(ctx: Context): Promise<CommandResult> {
  const key = await currentAuditKey();
  if (!key) {
    throw new ConfigError('ltc audit seal needs an audit key: none is configured', {
      hint: `set ${AUDIT_KEY_ENV} to the key file (make one with \`ltc audit init-key --out <file>\`)`,
    });
  }
  const stateDir = await ctx.stateDir();
  const { anchors } = await collectAnchors(ctx);
  const r = await verifyAudit(stateDir, { key, anchors });
  // A log with no keyed entry yet is what seal is for; anything else must verify first.
  const onlyUnsealed = !r.ok && r.keyedEntries === 0 && r.reason?.startsWith('no entry carries an HMAC');
  if (!r.ok && !onlyUnsealed) {
    throw new CheckFailedError(`${r.file}: line ${r.firstBadLine}: ${r.reason}: not sealed`, { hint: 'a seal would vouch for a log that does not verify; restore it first' });
  }
  const entry = await appendAudit(stateDir, { action: 'audit.seal', outcome: 'ok', details: { covers: r.entries, key_id: key.id } });
  return { data: { file: r.file, seq: entry.seq, keyId: key.id }, text: `${r.file}: entry ${entry.seq} seals the ${r.entries} entr${r.entries === 1 ? 'y' : 'ies'} before it with key ${key.id}` };
}
