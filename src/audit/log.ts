import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { processMasker } from '../core/masker.js';
import { ConfigError } from '../core/errors.js';
import { withLock } from '../core/fs-atomic.js';
import { actorName, currentActorId, type Actor } from './actor.js';
import { currentAuditKey, type AuditKey } from './key-source.js';
import { hmacHex } from './key.js';
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
/** The variable that names the key file (docs/audit.md). */
export const AUDIT_KEY_ENV = 'LTC_AUDIT_KEY_FILE';

/**
 * One outcome vocabulary for deploys, rollbacks and restarts in the audit log and revisions.log
 * (`rolled_back`: the deploy failed and the release before it runs again; `rollback_failed`:
 * that rollback failed too).
 */
export type AuditOutcome = 'ok' | 'failed' | 'denied' | 'started' | 'interrupted' | 'rolled_back' | 'rollback_failed';

/** What happened; never a secret value. */
export interface AuditEvent {
  action: string;
  outcome: AuditOutcome;
  environment?: string;
  secret?: string;
  version?: string;
  rc?: string;
  details?: Record<string, unknown>;
}

export interface AuditEntry extends AuditEvent {
  seq: number;
  time: string;
  /** git user.email, else user@host (see `by` for both). */
  actor: string;
  /** Both identities, the same object as in the environment lock and revisions.log. */
  by?: Actor;
  /** sha256 of the previous line (GENESIS for the first). */
  prev: string;
  /** Keyed log: the key's id and HMAC-SHA256 of the line without its `hmac` (always the last field). */
  key_id?: string;
  hmac?: string;
}

/** The content of `.ltc/audit.head`. */
export interface AuditHead {
  seq: number;
  /** sha256 of the last line of audit.jsonl (without its newline). */
  sha256: string;
}

/** The audit head at the time of a deploy/rollback/restart, written into the target's revisions.log. */
export interface AuditAnchor {
  /** Entries in the log once this record's entry was written (its seq). */
  entries: number;
  /** sha256 of that entry's line. */
  sha256: string;
  /** Its HMAC, when the log is keyed. */
  hmac?: string;
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

const HMAC_TAIL = /,"hmac":"([0-9a-f]{64})"\}$/;

/** The line of an entry: its JSON, and with a key its HMAC appended as the last field. */
export function entryLine(entry: Omit<AuditEntry, 'hmac'>, key: AuditKey | undefined): string {
  const body = JSON.stringify(entry);
  if (!key) return body;
  return `${body.slice(0, -1)},"hmac":"${hmacHex(key.key, body)}"}`;
}

/** A keyed line split into what its HMAC covers and the HMAC; undefined for an unkeyed line. */
export function splitHmac(line: string): { body: string; hmac: string } | undefined {
  const m = HMAC_TAIL.exec(line);
  if (!m) return undefined;
  return { body: `${line.slice(0, m.index)}}`, hmac: m[1]! };
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

function keyIdOf(line: string): string | undefined {
  try {
    const id = (JSON.parse(line) as Partial<AuditEntry>).key_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Appends one entry to `.ltc/audit.jsonl`, chained to the one before by its sha256, and
 * records the new last line in `.ltc/audit.head`. With a key (LTC_AUDIT_KEY_FILE,
 * audit.key_file or audit.key_secret) the entry carries `key_id` and an HMAC over the line,
 * which includes `prev`: the first keyed entry vouches for the unkeyed entries before it.
 * A keyed log is never continued without its key (exit 2). Append-only: a lock (taken over when its
 * owner was killed) keeps two processes from interleaving the chain. Crash-safe: the new head is
 * written to `audit.head.next` before the line is appended and renamed over `audit.head` after,
 * so a process killed in between leaves a head the next append (and `verify`) can confirm.
 * Every string is passed through the masker.
 */
export async function appendAudit(stateDir: string, event: AuditEvent): Promise<AuditEntry> {
  return (await appendAuditAnchored(stateDir, event)).entry;
}

/** appendAudit, also returning the anchor (the head after this entry) for revisions.log. */
export async function appendAuditAnchored(stateDir: string, event: AuditEvent): Promise<{ entry: AuditEntry; anchor: AuditAnchor }> {
  const key = await currentAuditKey();
  await mkdir(stateDir, { recursive: true });
  const file = auditPath(stateDir);
  const headFile = auditHeadPath(stateDir);
  const nextFile = auditHeadNextPath(stateDir);
  const by = await currentActorId();
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
    // No downgrade: a keyed log continues with its key only.
    const lastKeyId = last !== undefined && splitHmac(last) ? keyIdOf(last) : undefined;
    if (lastKeyId && !key) {
      throw new ConfigError(`the audit log ${file} is keyed (key ${lastKeyId}) and no audit key is configured: nothing was written`, {
        hint: `set ${AUDIT_KEY_ENV} to the key file (or audit.key_file / audit.key_secret in the config); see docs/audit.md`,
      });
    }
    if (lastKeyId && key && lastKeyId !== key.id) {
      throw new ConfigError(`the audit log ${file} is keyed with key ${lastKeyId}; the configured key (${key.source}) is ${key.id}: nothing was written`, {
        hint: `point ${AUDIT_KEY_ENV} at the key the log was written with`,
      });
    }
    if (next && last !== undefined && next.seq === count && count > 0 && next.sha256 === sha256(last)) await rename(nextFile, headFile);
    const body: Omit<AuditEntry, 'hmac'> = {
      seq: count + 1,
      time: new Date().toISOString(),
      actor: actorName(by),
      by,
      ...processMasker.maskDeep(event),
      prev: last ? sha256(last) : GENESIS,
      ...(key ? { key_id: key.id } : {}),
    };
    const line = entryLine(body, key);
    const hmac = splitHmac(line)?.hmac;
    const entry: AuditEntry = { ...body, ...(key && hmac ? { hmac } : {}) };
    const lineHash = sha256(line);
    await writeHeadFile(nextFile, { seq: entry.seq, sha256: lineHash });
    const handle = await open(file, 'a', 0o600);
    try {
      // A file that lost its trailing newline (a crash mid-write) must not glue two entries together.
      await handle.appendFile((endsWithNewline ? '' : '\n') + line + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(nextFile, headFile);
    return { entry, anchor: { entries: entry.seq, sha256: lineHash, ...(hmac ? { hmac } : {}) } };
  });
}

/**
 * Before a command changes anything: the audit key (when configured) can be read and fits the
 * log, and a keyed log has its key — otherwise ConfigError (exit 2), so a deploy never runs
 * with an audit entry that could not be written.
 */
export async function checkAuditWritable(stateDir: string): Promise<void> {
  const key = await currentAuditKey();
  const file = auditPath(stateDir);
  const { last } = await lastLine(file);
  const id = last !== undefined && splitHmac(last) ? keyIdOf(last) : undefined;
  if (id && !key) {
    throw new ConfigError(`the audit log ${file} is keyed (key ${id}) and no audit key is configured: nothing was changed`, {
      hint: `set ${AUDIT_KEY_ENV} to the key file (or audit.key_file / audit.key_secret in the config); see docs/audit.md`,
    });
  }
  if (id && key && id !== key.id) {
    throw new ConfigError(`the audit log ${file} is keyed with key ${id}; the configured key (${key.source}) is ${key.id}: nothing was changed`, {
      hint: `point ${AUDIT_KEY_ENV} at the key the log was written with`,
    });
  }
}

/** An anchor as `verify` checks it: where it was found, for messages. */
export interface AnchorRef extends AuditAnchor {
  /** e.g. `staging: deploy of rc-2026-03-01 at 2026-03-01T10:00:00Z (/srv/ltc/revisions.log line 4)`. */
  where: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** 1-based line of the first entry that breaks the chain. */
  firstBadLine?: number;
  reason?: string;
  /** Entries that carry an HMAC (checked with the key). */
  keyedEntries: number;
  /** The key the log was checked with. */
  keyId?: string;
  /** The log is keyed but no key was given: it cannot be verified (exit 2). */
  needsKey?: { line: number; keyId: string };
  /** Anchors (from revisions.log) that were compared; the one that failed. */
  anchorsChecked: number;
  badAnchor?: string;
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

export interface VerifyOptions {
  /** undefined (given): verify without a key; left out: the configured key. */
  key?: AuditKey | undefined;
  anchors?: readonly AnchorRef[];
}

/**
 * Checks the log one line at a time (one line of look-ahead), so memory stays flat whatever its
 * size: the sha256 chain, the sequence, the HMACs with the key, the anchors, then audit.head.
 * `head === null` means "the head file is missing"; undefined: not checked.
 */
class ChainCheck {
  private count = 0;
  private prev = GENESIS;
  private pending: string | undefined;
  private bad: { line: number; reason: string; anchor?: string; needsKey?: { line: number; keyId: string } } | undefined;
  private keyed = 0;
  private lastHash: string | undefined;
  private anchorsChecked = 0;
  private readonly anchorsAt = new Map<number, AnchorRef[]>();

  constructor(
    private readonly head: AuditHead | null | undefined,
    private readonly opts: VerifyOptions,
  ) {
    for (const a of opts.anchors ?? []) {
      const list = this.anchorsAt.get(a.entries) ?? [];
      list.push(a);
      this.anchorsAt.set(a.entries, list);
    }
  }

  push(line: string): void {
    if (this.pending !== undefined) this.check(this.pending, line);
    this.pending = line;
    this.count++;
  }

  private fail(line: number, reason: string, extra: { anchor?: string; needsKey?: { line: number; keyId: string } } = {}): void {
    this.bad ??= { line, reason, ...extra };
  }

  /** Line number `this.checked + 1` (1-based), with the line after it (undefined for the last). */
  private checked = 0;
  private check(line: string, next: string | undefined): void {
    const n = ++this.checked;
    const hash = sha256(line);
    this.lastHash = hash;
    if (this.bad) return;
    let entry: AuditEntry;
    try {
      entry = JSON.parse(line) as AuditEntry;
    } catch {
      return this.fail(n, 'not valid JSON: the entry was edited or cut off');
    }
    if (entry.seq !== n) {
      return this.fail(
        n,
        typeof entry.seq === 'number' && entry.seq > n
          ? `holds entry ${entry.seq} where entry ${n} belongs: entries were removed or reordered`
          : `holds entry ${String(entry.seq)} where entry ${n} belongs: entries were reordered, duplicated or edited`,
      );
    }
    if (entry.prev !== this.prev) {
      if (n === 1) return this.fail(1, 'the first entry does not start the chain: it was edited');
      // The sequence is intact: either the line before was edited (it no longer hashes to what
      // this one recorded), or this line was (its `prev`), or it was added after the last entry
      // ltc wrote. What comes after this line (the next one, else audit.head) tells them apart.
      const head = this.head;
      if (head && head.seq >= 0 && n - 1 >= head.seq) {
        return this.fail(n, `${AUDIT_HEAD_FILE} records ${head.seq} entries: line ${n} and after were added outside ltc`);
      }
      if (this.confirmedBySuccessor(hash, next, n) === false) {
        const after = next !== undefined ? `line ${n + 1} recorded a different sha256 for it` : `${AUDIT_HEAD_FILE} records a different sha256 for it`;
        return this.fail(n, `the entry was edited: it does not carry the sha256 of line ${n - 1}, and ${after}`);
      }
      return this.fail(n - 1, `the entry was edited: line ${n} recorded a different sha256 for it`);
    }
    this.prev = hash;
    const sig = splitHmac(line);
    const key = this.opts.key;
    if (sig) {
      const id = typeof entry.key_id === 'string' ? entry.key_id : '?';
      if (!key) {
        return this.fail(n, `the log is keyed from line ${n} on (key ${id}) and no audit key was given: it cannot be verified`, { needsKey: { line: n, keyId: id } });
      }
      if (id !== key.id) return this.fail(n, `the entry was written with audit key ${id}; the key given (${key.source}) is ${key.id}: the wrong key, or the entry was forged`);
      if (hmacHex(key.key, sig.body) !== sig.hmac) return this.fail(n, 'its HMAC does not match: the entry was edited, forged or re-chained without the key');
      this.keyed++;
    } else if (this.keyed > 0) {
      return this.fail(n, 'the entry has no HMAC although the entries before it have: written without the key, or its HMAC was stripped');
    } else if (entry.hmac !== undefined || entry.key_id !== undefined) {
      return this.fail(n, 'the entry has a malformed HMAC: it was edited');
    }
    for (const a of this.anchorsAt.get(n) ?? []) {
      this.anchorsChecked++;
      if (a.sha256 !== hash || (a.hmac !== undefined && a.hmac !== sig?.hmac)) {
        return this.fail(n, `entry ${n} is not the one anchored in ${a.where}: the log was rewritten from there on (or earlier)`, { anchor: a.where });
      }
    }
  }

  private confirmedBySuccessor(hash: string, next: string | undefined, n: number): boolean | undefined {
    if (next !== undefined) {
      try {
        const e = JSON.parse(next) as Partial<AuditEntry>;
        return typeof e.prev === 'string' ? e.prev === hash : undefined;
      } catch {
        return undefined;
      }
    }
    const head = this.head;
    if (!head || head.seq !== n) return undefined;
    return head.sha256 === hash;
  }

  finish(): AuditVerification {
    if (this.pending !== undefined) this.check(this.pending, undefined);
    this.pending = undefined;
    const entries = this.count;
    const base = { entries, keyedEntries: this.keyed, anchorsChecked: this.anchorsChecked, ...(this.opts.key ? { keyId: this.opts.key.id } : {}) };
    const bad = (line: number, reason: string, extra: { badAnchor?: string; needsKey?: { line: number; keyId: string } } = {}): AuditVerification => ({
      ok: false,
      ...base,
      firstBadLine: line,
      reason,
      ...extra,
    });
    if (this.bad) {
      return bad(this.bad.line, this.bad.reason, {
        ...(this.bad.anchor ? { badAnchor: this.bad.anchor } : {}),
        ...(this.bad.needsKey ? { needsKey: this.bad.needsKey } : {}),
      });
    }
    // Anchors past the end: the log was shortened or deleted.
    const beyond = [...this.anchorsAt.entries()].filter(([at]) => at > entries).sort((a, b) => b[0] - a[0])[0];
    if (beyond) {
      const a = beyond[1][0]!;
      return bad(entries + 1, `${a.where} recorded the audit log at ${a.entries} entries; it has ${entries}: entries were removed${entries === 0 ? ' (the log was deleted)' : ' from the end'}`, {
        badAnchor: a.where,
      });
    }
    if (this.opts.key && entries > 0 && this.keyed === 0) {
      return bad(
        entries,
        `no entry carries an HMAC although a key is given (${this.opts.key.source}): either nothing was written since the key was set up (run \`ltc audit seal\`) or the HMACs were stripped`,
      );
    }
    const head = this.head;
    if (head === undefined) return { ok: true, ...base };
    if (head === null) {
      if (entries === 0) return { ok: true, ...base };
      return bad(entries, `${AUDIT_HEAD_FILE} is missing: the last entry cannot be confirmed`);
    }
    if (head.seq < 0) return bad(entries, `${AUDIT_HEAD_FILE} is not valid`);
    if (head.seq > entries) {
      return bad(entries + 1, `the log ends at line ${entries} but ${AUDIT_HEAD_FILE} records ${head.seq} entries: entries at the end were removed`);
    }
    if (head.seq < entries) {
      return bad(head.seq + 1, `${AUDIT_HEAD_FILE} records ${head.seq} entries: line ${head.seq + 1} and after were added outside ltc`);
    }
    if (entries > 0 && this.lastHash !== head.sha256) {
      return bad(entries, 'the last entry was edited (its sha256 differs from audit.head)');
    }
    return { ok: true, ...base };
  }
}

/**
 * Finds an edited, removed or reordered entry and names the first bad line. The chain
 * alone cannot see a change to the last line (nothing points at it): `head` (the content
 * of audit.head) closes that gap. `head === null` means "the head file is missing".
 */
export function verifyAuditText(text: string, head?: AuditHead | null, opts: VerifyOptions = {}): AuditVerification {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const check = new ChainCheck(head, opts);
  for (const line of lines) check.push(line);
  return check.finish();
}

/** The lines of a file, streamed (a missing file has none). */
async function* streamLines(file: string): AsyncGenerator<string> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  const opened = await new Promise<boolean>((resolve) => {
    stream.once('open', () => resolve(true));
    stream.once('error', () => resolve(false));
  });
  if (!opened) return;
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of rl) yield line;
  } finally {
    rl.close();
    stream.destroy();
  }
}

/**
 * Verifies `.ltc/audit.jsonl` (streamed, memory flat whatever its length) against its chain,
 * the HMACs (with `opts.key`), the anchors and `.ltc/audit.head` (or `audit.head.next` when an
 * append was killed after writing its line, before moving the head).
 */
export async function verifyAudit(stateDir: string, opts: VerifyOptions = {}): Promise<AuditVerification & { file: string }> {
  const file = auditPath(stateDir);
  const headText = await readFile(auditHeadPath(stateDir), 'utf8').catch(() => undefined);
  const next = parseHead(await readFile(auditHeadNextPath(stateDir), 'utf8').catch(() => undefined));
  // audit.head.next vouches for the last line when it names it (its seq and sha256).
  const { last } = await lastLine(file);
  const nextConfirms = !!next && last !== undefined && next.seq > 0 && next.seq === seqOf(last) && next.sha256 === sha256(last);
  const head = nextConfirms ? next : headText === undefined ? null : parseHead(headText);
  // Without `key` in opts: the configured key (LTC_AUDIT_KEY_FILE, audit.key_file, audit.key_secret).
  const key = 'key' in opts ? opts.key : await currentAuditKey();
  const check = new ChainCheck(head, { ...opts, ...(key ? { key } : {}) });
  for await (const line of streamLines(file)) check.push(line);
  return { file, ...check.finish() };
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
