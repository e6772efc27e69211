/** `ltc audit log` and `ltc audit verify`. */
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { CheckFailedError } from '../core/errors.js';
import { auditRows } from '../secrets/cli.js';
import { parseSince } from '../secrets/since.js';
import { auditPath, readAudit, verifyAudit } from './log.js';

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

export async function auditVerify(ctx: Context): Promise<CommandResult> {
  const r = await verifyAudit(await ctx.stateDir());
  if (!r.ok) {
    throw new CheckFailedError(`${r.file}: line ${r.firstBadLine}: ${r.reason}`, {
      hint: 'the log was changed outside ltc; compare it with a backup or the copy in your log store, from that line on',
      details: { file: r.file, entries: r.entries, firstBadLine: r.firstBadLine, reason: r.reason },
    });
  }
  return {
    data: { file: r.file, entries: r.entries },
    text: `${r.file}: ${r.entries} entr${r.entries === 1 ? 'y' : 'ies'}, hash chain intact`,
  };
}
