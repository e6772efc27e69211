import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { processMasker } from '../core/masker.js';
import { withLock } from '../core/fs-atomic.js';
import { currentActor } from './actor.js';
import { lastLine } from '../core/tail.js';

/** The seq of an entry line, when it parses. */
function seqOf(line: string): number | undefined {
  try {
    const seq = (JSON.parse(line) as Partial<AuditEntry>).seq;
    return typeof seq === 'number' ? seq : undefined;
  } catch {
    return undefined;
  }
}

export const AUDIT_FILE = 'audit.jsonl';
/** Holds the seq and sha256 of the last line, so editing or dropping the last entry is found too. */
export const AUDIT_HEAD_FILE = 'audit.head';
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

/** The content of `.ltc/audit.head`. */
export interface AuditHead {
  seq: number;
  /** sha256 of the last line of audit.jsonl (without its newline). */
  sha256: string;
}

export function auditPath(stateDir: string): string {
  return join(stateDir, AUDIT_FILE);
}

export function auditHeadPath(stateDir: string): string {
  return join(stateDir, AUDIT_HEAD_FILE);
}

/** The head of an append in progress (see appendAudit). */
export function auditHeadNextPath(stateDir: string): string {
  return join(stateDir, `${AUDIT_HEAD_FILE}.next`);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Writes `file` with `head` and fsyncs it. */
async function writeHeadFile(file: string, head: AuditHead): Promise<void> {
  const handle = await open(file, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(head) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * audit.head.next matches the last line of the log: an append that wrote its line but was
 * killed before it could move the head (rename audit.head.next → audit.head).
 */
function confirms(next: AuditHead | undefined, lines: readonly string[]): boolean {
  return !!next && next.seq === lines.length && lines.length > 0 && next.sha256 === sha256(lines.at(-1)!);
}

/**
 * Appends one entry to `.ltc/audit.jsonl`, chained to the one before by its sha256, and
 * records the new last line in `.ltc/audit.head`. Append-only: a lock (taken over when its
 * owner was killed) keeps two processes from interleaving the chain. Crash-safe: the new head is
 * written to `audit.head.next` before the line is appended and renamed over `audit.head` after,
 * so a process killed in between leaves a head the next append (and `verify`) can confirm.
 * Every string is passed through the masker.
 */
export async function appendAudit(stateDir: string, event: AuditEvent): Promise<AuditEntry> {
  await mkdir(stateDir, { recursive: true });
  const file = auditPath(stateDir);
  const headFile = auditHeadPath(stateDir);
  const nextFile = auditHeadNextPath(stateDir);
  const actor = await currentActor();
  return withLock(`${file}.lock`, `the audit log ${file}`, async () => {
    // Only the last line is read (issue 17: an append must not cost more as the log grows) when
    // audit.head (or audit.head.next) vouches for it; anything else reads the whole file as before.
    const next = parseHead(await readFile(nextFile, 'utf8').catch(() => undefined));
    const tail = await lastLine(file);
    let count: number | undefined;
    let last = tail.last;
    let endsWithNewline = tail.endsWithNewline;
    if (tail.size === 0) count = 0;
    else if (last !== undefined) {
      const seq = seqOf(last);
      const head = parseHead(await readFile(headFile, 'utf8').catch(() => undefined));
      const hash = sha256(last);
      if (seq !== undefined && [head, next].some((h) => h && h.seq === seq && h.sha256 === hash)) count = seq;
    }
    if (count === undefined) {
      const text = await readFile(file, 'utf8').catch(() => '');
      const lines = text.split('\n').filter((l) => l.length > 0);
      count = lines.length;
      last = lines.at(-1);
      endsWithNewline = text.length === 0 || text.endsWith('\n');
    }
    if (next && last !== undefined && next.seq === count && count > 0 && next.sha256 === sha256(last)) await rename(nextFile, headFile);
    const entry: AuditEntry = {
      seq: count + 1,
      time: new Date().toISOString(),
      actor,
      ...processMasker.maskDeep(event),
      prev: last ? sha256(last) : GENESIS,
    };
    const line = JSON.stringify(entry);
    await writeHeadFile(nextFile, { seq: entry.seq, sha256: sha256(line) });
    const handle = await open(file, 'a', 0o600);
    try {
      // A file that lost its trailing newline (a crash mid-write) must not glue two entries together.
      await handle.appendFile((endsWithNewline ? '' : '\n') + line + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(nextFile, headFile);
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

function parseHead(text: string | undefined): AuditHead | undefined {
  if (text === undefined) return undefined;
  try {
    const head = JSON.parse(text) as Partial<AuditHead>;
    if (typeof head.seq === 'number' && typeof head.sha256 === 'string') return { seq: head.seq, sha256: head.sha256 };
  } catch {
    /* reported below */
  }
  return { seq: -1, sha256: '' };
}

/**
 * Whether line `i` (0-based) is as written, judged by what follows it: the next line's `prev`,
 * or for the last line audit.head. undefined when nothing tells (no head, an unreadable line).
 */
function confirmedBySuccessor(lines: readonly string[], i: number, head: AuditHead | null | undefined): boolean | undefined {
  const hash = sha256(lines[i]!);
  if (i + 1 < lines.length) {
    try {
      const next = JSON.parse(lines[i + 1]!) as Partial<AuditEntry>;
      return typeof next.prev === 'string' ? next.prev === hash : undefined;
    } catch {
      return undefined;
    }
  }
  if (!head || head.seq !== lines.length) return undefined;
  return head.sha256 === hash;
}

/**
 * Finds an edited, removed or reordered entry and names the first bad line. The chain
 * alone cannot see a change to the last line (nothing points at it): `head` (the content
 * of audit.head) closes that gap. `head === null` means "the head file is missing".
 */
export function verifyAuditText(text: string, head?: AuditHead | null): AuditVerification {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let prev = GENESIS;
  const bad = (line: number, reason: string): AuditVerification => ({ ok: false, entries: lines.length, firstBadLine: line, reason });
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let entry: AuditEntry;
    try {
      entry = JSON.parse(line) as AuditEntry;
    } catch {
      return bad(i + 1, 'not valid JSON: the entry was edited or cut off');
    }
    if (entry.seq !== i + 1) {
      return bad(
        i + 1,
        typeof entry.seq === 'number' && entry.seq > i + 1
          ? `holds entry ${entry.seq} where entry ${i + 1} belongs: entries were removed or reordered`
          : `holds entry ${String(entry.seq)} where entry ${i + 1} belongs: entries were reordered, duplicated or edited`,
      );
    }
    if (entry.prev !== prev) {
      if (i === 0) return bad(1, 'the first entry does not start the chain: it was edited');
      // The sequence is intact: either the line before was edited (it no longer hashes to what
      // this one recorded), or this line was (its `prev`), or it was added after the last entry
      // ltc wrote. What comes after this line (the next one, else audit.head) tells them apart.
      if (head && head.seq >= 0 && i >= head.seq) {
        return bad(i + 1, `${AUDIT_HEAD_FILE} records ${head.seq} entries: line ${i + 1} and after were added outside ltc`);
      }
      if (confirmedBySuccessor(lines, i, head) === false) {
        const after = i + 1 < lines.length ? `line ${i + 2} recorded a different sha256 for it` : `${AUDIT_HEAD_FILE} records a different sha256 for it`;
        return bad(i + 1, `the entry was edited: it does not carry the sha256 of line ${i}, and ${after}`);
      }
      return bad(i, `the entry was edited: line ${i + 1} recorded a different sha256 for it`);
    }
    prev = sha256(line);
  }
  if (head === undefined) return { ok: true, entries: lines.length };
  if (head === null) {
    if (lines.length === 0) return { ok: true, entries: 0 };
    return {
      ok: false,
      entries: lines.length,
      firstBadLine: lines.length,
      reason: `${AUDIT_HEAD_FILE} is missing: the last entry cannot be confirmed`,
    };
  }
  if (head.seq < 0) {
    return { ok: false, entries: lines.length, firstBadLine: lines.length, reason: `${AUDIT_HEAD_FILE} is not valid` };
  }
  if (head.seq > lines.length) {
    return {
      ok: false,
      entries: lines.length,
      firstBadLine: lines.length + 1,
      reason: `the log ends at line ${lines.length} but ${AUDIT_HEAD_FILE} records ${head.seq} entries: entries at the end were removed`,
    };
  }
  if (head.seq < lines.length) {
    return {
      ok: false,
      entries: lines.length,
      firstBadLine: head.seq + 1,
      reason: `${AUDIT_HEAD_FILE} records ${head.seq} entries: line ${head.seq + 1} and after were added outside ltc`,
    };
  }
  if (lines.length > 0 && sha256(lines.at(-1)!) !== head.sha256) {
    return { ok: false, entries: lines.length, firstBadLine: lines.length, reason: 'the last entry was edited (its sha256 differs from audit.head)' };
  }
  return { ok: true, entries: lines.length };
}

/**
 * Verifies `.ltc/audit.jsonl` against its chain and `.ltc/audit.head` (or `audit.head.next`
 * when an append was killed after writing its line, before moving the head).
 */
export async function verifyAudit(stateDir: string): Promise<AuditVerification & { file: string }> {
  const file = auditPath(stateDir);
  const text = await readFile(file, 'utf8').catch(() => '');
  const headText = await readFile(auditHeadPath(stateDir), 'utf8').catch(() => undefined);
  const next = parseHead(await readFile(auditHeadNextPath(stateDir), 'utf8').catch(() => undefined));
  const lines = text.split('\n').filter((l) => l.length > 0);
  const head = confirms(next, lines) ? next! : headText === undefined ? null : parseHead(headText);
  return { file, ...verifyAuditText(text, head) };
}

export async function readAudit(stateDir: string): Promise<AuditEntry[]> {
  const text = await readFile(auditPath(stateDir), 'utf8').catch(() => '');
  const entries: AuditEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    try {
      entries.push(JSON.parse(line) as AuditEntry);
    } catch {
      /* a broken line: `ltc audit verify` names it */
    }
  }
  return entries;
}
