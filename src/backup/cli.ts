/** `ltc backup create | list | verify | prune`. */
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { formatDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { appendAudit } from '../audit/log.js';
import { createBackup, indexPath, openBackupScope, pruneBackups, readIndex, verifyBackup, type BackupEntry } from './backup.js';

function line(b: BackupEntry): string {
  const v = b.verify ? (b.verify.ok ? `verified ${b.verify.time} (restore ${formatDuration(b.verify.restoreMs)})` : `VERIFY FAILED ${b.verify.time}: ${b.verify.error}`) : 'not verified';
  return `${b.id}  ${b.created}  ${(b.size / 1048576).toFixed(1)} MB  ${formatDuration(b.durationMs)}  ${v}`;
}

export async function backupCreate(ctx: Context): Promise<CommandResult> {
  const s = await openBackupScope(ctx);
  try {
    const b = await createBackup(s).catch(async (err: Error) => {
      await appendAudit(s.stateDir, { action: 'backup.create', outcome: 'failed', environment: s.environment, details: { error: ctx.masker.mask(err.message) } });
      throw err;
    });
    await appendAudit(s.stateDir, { action: 'backup.create', outcome: 'ok', environment: s.environment, details: { id: b.id, size: b.size, sha256: b.sha256 } });
    return { data: { backup: b, dir: s.dir }, text: `backup ${b.id}: ${b.size} bytes, encrypted (AES-256-GCM), sha256 ${b.sha256.slice(0, 16)}…, ${formatDuration(b.durationMs)}\n  ${s.dir}/${b.file}\n` };
  } finally {
    await s.close();
  }
}

export async function backupList(ctx: Context): Promise<CommandResult> {
  const s = await openBackupScope(ctx);
  try {
    const list = (await readIndex(s.dir)).filter((b) => b.environment === s.environment);
    return { data: { backups: list, index: indexPath(s.dir) }, text: list.length ? list.map(line).join('\n') + '\n' : `no backups of ${s.environment} in ${s.dir}: ltc backup create --env ${s.environment}\n` };
  } finally {
    await s.close();
  }
}

export async function backupVerify(ctx: Context, id?: string): Promise<CommandResult> {
  const s = await openBackupScope(ctx);
  try {
    const b = await verifyBackup(s, id);
    const v = b.verify!;
    await appendAudit(s.stateDir, { action: 'backup.verify', outcome: v.ok ? 'ok' : 'failed', environment: s.environment, details: { id: b.id, restoreMs: v.restoreMs, ...(v.error ? { error: v.error } : {}) } });
    const checks = (v.checks ?? []).map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.sql} → ${c.got} (expected ${c.expect})`);
    const text = v.ok
      ? `backup ${b.id} verified: restored into a scratch database in ${formatDuration(v.restoreMs)}, ${checks.length} sanity queries passed, scratch database dropped\n${checks.join('\n')}\n`
      : `backup ${b.id} FAILED verification: ${v.error}\n${checks.join('\n')}\nrecorded in ${indexPath(s.dir)}\n`;
    return { data: { backup: b }, text, exitCode: v.ok ? 0 : 1 };
  } finally {
    await s.close();
  }
}

export async function backupPrune(ctx: Context, keepText: string | undefined): Promise<CommandResult> {
  const s = await openBackupScope(ctx);
  try {
    const keep = keepText === undefined ? s.backup.keep : Number(keepText);
    if (!Number.isInteger(keep) || keep < 1) throw new UsageError(`--keep ${JSON.stringify(keepText)} is not a count of backups to keep`, { hint: '--keep takes a whole number ≥ 1' });
    const removed = await pruneBackups(s, keep);
    await appendAudit(s.stateDir, { action: 'backup.prune', outcome: 'ok', environment: s.environment, details: { keep, removed: removed.map((b) => b.id) } });
    return { data: { removed, keep }, text: removed.length ? `removed ${removed.length} backup(s), kept the newest ${keep}:\n${removed.map((b) => `  ${b.id}`).join('\n')}\n` : `nothing to prune (${keep} or fewer backups)\n` };
  } finally {
    await s.close();
  }
}
