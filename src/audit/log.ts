import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processMasker } from '../core/masker.js';
import { currentActor } from './actor.js';

export const AUDIT_FILE = 'audit.jsonl';
export const GENESIS = '0'.repeat(64);

/** What happened; never a secret value. */
export interface AuditEvent {
  action: string;
  outcome: 'ok' | 'failed' | 'denied' | 'started' | 'interrupted';
  environment?: string;
  secret?: string;
  version?: string;
  rc?: string;
  details?: Record<string, unknown>;
}

export interface AuditEntry extends AuditEvent {
  seq: number;
  time: string;
  actor: string;
  /** sha256 of the previous line (GENESIS for the first). */
  prev: string;
}

export function auditPath(stateDir: string): string {
  return join(stateDir, AUDIT_FILE);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function withFileLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockFile, { force: true });
  }
}

/**
 * Appends one entry to `.ltc/audit.jsonl`, chained to the one before by its sha256.
 * Append-only: a short lock keeps two processes from interleaving the chain.
 */
export async function appendAudit(stateDir: string, event: AuditEvent): Promise<AuditEntry> {
  await mkdir(stateDir, { recursive: true });
  const file = auditPath(stateDir);
  const actor = await currentActor();
  return withFileLock(`${file}.lock`, async () => {
    const text = await readFile(file, 'utf8').catch(() => '');
    const lines = text.split('\n').filter((l) => l.length > 0);
    const last = lines.at(-1);
    const entry: AuditEntry = {
      seq: lines.length + 1,
      time: new Date().toISOString(),
      actor,
      ...processMasker.maskDeep(event),
      prev: last ? sha256(last) : GENESIS,
    };
    const handle = await open(file, 'a', 0o600);
    try {
      await handle.appendFile(JSON.stringify(entry) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    return entry;
  });
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** 1-based line of the first entry that breaks the chain. */
  firstBadLine?: number;
  reason?: string;
}

/** Finds an edited, removed or reordered entry: names the first bad line. */
export function verifyAuditText(text: string): AuditVerification {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let prev = GENESIS;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let entry: AuditEntry;
    try {
      entry = JSON.parse(line) as AuditEntry;
    } catch {
      return { ok: false, entries: lines.length, firstBadLine: i + 1, reason: 'not valid JSON' };
    }
    if (entry.prev !== prev) {
      return { ok: false, entries: lines.length, firstBadLine: i + 1, reason: 'hash chain broken: the entry before it was edited, removed or reordered' };
    }
    if (entry.seq !== i + 1) {
      return { ok: false, entries: lines.length, firstBadLine: i + 1, reason: `sequence number ${entry.seq} where ${i + 1} was expected` };
    }
    prev = sha256(line);
  }
  return { ok: true, entries: lines.length };
}

export async function readAudit(stateDir: string): Promise<AuditEntry[]> {
  const text = await readFile(auditPath(stateDir), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as AuditEntry);
}
