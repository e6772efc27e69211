/**
 * The keyed audit log (issue 10, item 3): HMACs with a key outside the ops repo and .ltc/, anchors
 * in the target's revisions.log, the forgeries that passed an unkeyed `ltc audit verify`, the
 * upgrade of an unkeyed log, the key file checks, and a streaming verify of 100k entries.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { appendAudit, appendAuditAnchored, auditHeadPath, auditPath, entryLine, GENESIS, readAudit, sha256, type AuditAnchor, type AuditEntry } from '../src/audit/log.js';
import { keyId } from '../src/audit/key.js';
import { cleanupTempDirs, LTC, ROOT, runLtc, tempDir } from './helpers/cli.js';

afterAll(cleanupTempDirs);
const savedKeyEnv = process.env.LTC_AUDIT_KEY_FILE;
afterEach(() => {
  if (savedKeyEnv === undefined) delete process.env.LTC_AUDIT_KEY_FILE;
  else process.env.LTC_AUDIT_KEY_FILE = savedKeyEnv;
});

interface Ops {
  dir: string;
  ops: string;
  stateDir: string;
  deployRoot: string;
  keyFile: string;
  key: Buffer;
}

/** An ops folder (config with a local staging target) and a key file outside it. */
async function makeOps(): Promise<Ops> {
  const dir = await tempDir('ltc-audit-keyed-');
  const ops = join(dir, 'ops');
  const deployRoot = join(dir, 'deploy');
  await mkdir(ops, { recursive: true });
  await mkdir(deployRoot, { recursive: true });
  await writeFile(
    join(ops, 'ltc.config.yaml'),
    stringify({ version: 1, app: { name: 'demo', repo: join(dir, 'app') }, environments: { staging: { target: { type: 'local', deploy_root: deployRoot, start: ['node', 'server.mjs'] } } } }),
  );
  const keyDir = join(dir, 'keys');
  await mkdir(keyDir, { mode: 0o700 });
  const keyFile = join(keyDir, 'audit.key');
  const text = randomBytes(32).toString('hex');
  await writeFile(keyFile, text + '\n', { mode: 0o600 });
  return { dir, ops, stateDir: join(ops, '.ltc'), deployRoot, keyFile, key: Buffer.from(text) };
}

/** n entries, every third one a deploy recorded in revisions.log with its anchor (as recordOutcome does). */
async function fill(o: Ops, n: number, keyed = true): Promise<{ lines: string[]; anchors: AuditAnchor[] }> {
  if (keyed) process.env.LTC_AUDIT_KEY_FILE = o.keyFile;
  else delete process.env.LTC_AUDIT_KEY_FILE;
  const anchors: AuditAnchor[] = [];
  for (let i = 1; i <= n; i++) {
    if (i % 3 === 0) {
      const { anchor } = await appendAuditAnchored(o.stateDir, { action: 'deploy', outcome: 'ok', environment: 'staging', rc: `rc-2026-03-0${i % 10}` });
      anchors.push(anchor);
      const rec = { time: new Date().toISOString(), actor: 't', action: 'deploy', environment: 'staging', rc: `rc-2026-03-0${i % 10}`, commit: null, release: `r${i}`, releaseDir: null, from: null, outcome: 'ok', durationMs: 1, runId: `run${i}`, audit: anchor };
      await writeFile(join(o.deployRoot, 'revisions.log'), JSON.stringify(rec) + '\n', { flag: 'a' });
    } else {
      await appendAudit(o.stateDir, { action: 'secret.read', outcome: 'ok', environment: 'staging', secret: `S${i}` });
    }
  }
  return { lines: (await readFile(auditPath(o.stateDir), 'utf8')).trim().split('\n'), anchors };
}

type VerifyJson = { ok: boolean; entries?: number; keyed?: boolean; keyedEntries?: number; anchorsChecked?: number; error?: { message: string; hint?: string; firstBadLine?: number; reason?: string; badAnchor?: string } };

async function verify(o: Ops, env: Record<string, string | undefined> = { LTC_AUDIT_KEY_FILE: o.keyFile }, extra: string[] = []) {
  const r = await runLtc(['audit', 'verify', '--json', ...extra], { cwd: o.ops, env: { LTC_AUDIT_KEY_FILE: undefined, ...env } });
  return { ...r, j: r.json as VerifyJson };
}

/** What an attacker with write access to .ltc/ but without the key does: re-chain and rewrite the head. */
async function forge(o: Ops, entries: Record<string, unknown>[], strip: boolean): Promise<void> {
  let prev = GENESIS;
  const out: string[] = [];
  entries.forEach((e, i) => {
    const x: Record<string, unknown> = { ...e, seq: i + 1, prev };
    if (strip) {
      delete x.hmac;
      delete x.key_id;
    } else if ('hmac' in x) {
      const h = x.hmac;
      delete x.hmac;
      x.hmac = h; // stays the last field, as ltc writes it
    }
    const line = JSON.stringify(x);
    out.push(line);
    prev = sha256(line);
  });
  await writeFile(auditPath(o.stateDir), out.map((l) => l + '\n').join(''));
  await writeFile(auditHeadPath(o.stateDir), JSON.stringify({ seq: out.length, sha256: out.length ? sha256(out.at(-1)!) : GENESIS }) + '\n');
}

const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('keyed audit log', () => {
  it('writes key_id and an HMAC on every entry, verifies with the key, and without it exits 2 naming LTC_AUDIT_KEY_FILE', async () => {
    const o = await makeOps();
    const { lines } = await fill(o, 6);
    const entries = lines.map((l) => JSON.parse(l) as AuditEntry);
    expect(entries.every((e) => e.key_id === keyId(o.key) && /^[0-9a-f]{64}$/.test(e.hmac ?? ''))).toBe(true);
    expect(lines.every((l) => l.endsWith(`"}`) && /,"hmac":"[0-9a-f]{64}"\}$/.test(l))).toBe(true);
    expect(entries[0]!.by).toMatchObject({ os_user: expect.stringContaining('@') });
    const ok = await verify(o);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.j).toMatchObject({ ok: true, entries: 6, keyed: true, keyedEntries: 6, anchorsChecked: 2 });
    const human = await runLtc(['audit', 'verify'], { cwd: o.ops, env: { LTC_AUDIT_KEY_FILE: o.keyFile } });
    expect(human.stdout).toContain(`verified with key ${keyId(o.key)}`);
    // Without the key: cannot be verified, exit 2, the variable named.
    const none = await verify(o, {});
    expect(none.code).toBe(2);
    expect(none.j.error!.message).toContain('is keyed');
    expect(none.j.error!.hint).toContain('LTC_AUDIT_KEY_FILE');
    // And it cannot be continued without the key (exit 2, nothing written).
    delete process.env.LTC_AUDIT_KEY_FILE;
    await expect(appendAudit(o.stateDir, { action: 'secret.read', outcome: 'ok' })).rejects.toMatchObject({ exitCode: 2 });
    expect((await readAudit(o.stateDir)).length).toBe(6);
  });

  // The 7 forgeries of issue 10, each with the chain and audit.head recomputed; the forger
  // either keeps the old HMACs or strips them (it cannot compute new ones).
  const forgeries: [string, (e: Record<string, unknown>[]) => Record<string, unknown>[]][] = [
    ['change the actor', (e) => e.map((x, i) => (i === 1 ? { ...x, actor: 'someone-else@example.com' } : x))],
    ['change an outcome', (e) => e.map((x, i) => (i === 2 ? { ...x, outcome: 'failed' } : x))],
    ['change a time', (e) => e.map((x, i) => (i === 1 ? { ...x, time: '2020-01-01T00:00:00.000Z' } : x))],
    ['delete a middle entry', (e) => e.filter((_, i) => i !== 3)],
    ['reorder two entries', (e) => [e[0]!, e[2]!, e[1]!, ...e.slice(3)]],
    ['insert an entry', (e) => [...e.slice(0, 2), { time: new Date().toISOString(), actor: 'x', action: 'secret.read', outcome: 'ok', secret: 'INSERTED', prev: '' }, ...e.slice(2)]],
    ['rewrite all with fresh hashes', (e) => e.map((x) => ({ seq: 0, time: x.time, actor: 'forger', action: 'noop', outcome: 'ok', prev: '' }))],
  ];
  for (const [name, mutate] of forgeries) {
    it(`a forgery fails verify with the key: ${name} (HMACs kept, and stripped)`, async () => {
      const o = await makeOps();
      const { lines } = await fill(o, 7);
      for (const strip of [false, true]) {
        await forge(o, mutate(parse(lines)), strip);
        // Without the key, the forgery that strips the HMACs looks like an intact unkeyed log — the gap the key closes.
        const r = await verify(o);
        expect(r.code, `${name}, strip=${strip}: ${r.stdout}`).toBe(1);
        expect(r.j.error!.firstBadLine).toBeGreaterThan(0);
      }
    });
  }

  it('the untouched forge helper passes (the forgeries above fail for what they change, not for the rewrite)', async () => {
    const o = await makeOps();
    const { lines } = await fill(o, 7);
    await forge(o, parse(lines), false);
    expect((await verify(o)).code).toBe(0);
  });

  it('a shortened log with a rewritten head, or log and head deleted, fail through the anchors in revisions.log', async () => {
    const o = await makeOps();
    const { lines } = await fill(o, 9); // anchors at entries 3, 6, 9
    // Truncate to 7 entries: still a valid keyed chain with a matching head; the anchor at 9 says otherwise.
    await writeFile(auditPath(o.stateDir), lines.slice(0, 7).map((l) => l + '\n').join(''));
    await writeFile(auditHeadPath(o.stateDir), JSON.stringify({ seq: 7, sha256: sha256(lines[6]!) }) + '\n');
    let r = await verify(o);
    expect(r.code).toBe(1);
    expect(r.j.error!.message).toContain('recorded the audit log at 9 entries; it has 7');
    expect(r.j.error!.badAnchor).toContain('record 3 (deploy of rc-2026-03-09 on staging');
    expect(r.j.error!.badAnchor).toContain('run9');
    // Delete both.
    await rm(auditPath(o.stateDir));
    await rm(auditHeadPath(o.stateDir));
    r = await verify(o);
    expect(r.code).toBe(1);
    expect(r.j.error!.message).toContain('the log was deleted');
    // Unkeyed too: the anchors do not need the key.
    r = await verify(o, {});
    expect(r.code).toBe(1);
  });

  it('an anchor catches a rewrite even by someone who holds the key (the target keeps what the log was)', async () => {
    const o = await makeOps();
    const { lines } = await fill(o, 6);
    // Re-sign the whole log with the real key, entry 2 changed: chain, HMACs and head all valid.
    const entries = parse(lines).map((x, i) => (i === 1 ? { ...x, secret: 'CHANGED' } : x));
    let prev = GENESIS;
    const out = entries.map((x) => {
      const { hmac: _h, ...body } = x;
      const line = entryLine({ ...(body as unknown as AuditEntry), prev }, { key: o.key, id: keyId(o.key), source: 't' });
      prev = sha256(line);
      return line;
    });
    await writeFile(auditPath(o.stateDir), out.map((l) => l + '\n').join(''));
    await writeFile(auditHeadPath(o.stateDir), JSON.stringify({ seq: out.length, sha256: sha256(out.at(-1)!) }) + '\n');
    const r = await verify(o);
    expect(r.code).toBe(1);
    expect(r.j.error!.firstBadLine).toBe(3);
    expect(r.j.error!.message).toContain('is not the one anchored in');
    expect(r.j.error!.badAnchor).toContain('record 1 (deploy');
  });

  it('a wrong key fails (exit 1, both key ids named)', async () => {
    const o = await makeOps();
    await fill(o, 4);
    const other = join(o.dir, 'keys', 'other.key');
    const otherKey = randomBytes(32).toString('hex');
    await writeFile(other, otherKey, { mode: 0o600 });
    const r = await verify(o, { LTC_AUDIT_KEY_FILE: other });
    expect(r.code).toBe(1);
    expect(r.j.error!.message).toContain(keyId(o.key));
    expect(r.j.error!.message).toContain(keyId(Buffer.from(otherKey)));
  });

  it('upgrades an unkeyed log: the first keyed entry covers the entries before it; seal does it without another command', async () => {
    const o = await makeOps();
    await fill(o, 4, false);
    // Unkeyed, no key: passes, and says what it is worth.
    const plain = await runLtc(['audit', 'verify'], { cwd: o.ops, env: { LTC_AUDIT_KEY_FILE: undefined } });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('unkeyed: tamper-evident only against accidents');
    expect((await verify(o, {}, ['--require-key'])).code).toBe(2);
    // A key set up, nothing written since: not verifiable as keyed yet; `ltc audit seal` seals it.
    let r = await verify(o);
    expect(r.code).toBe(1);
    expect(r.j.error!.message).toContain('ltc audit seal');
    const seal = await runLtc(['audit', 'seal'], { cwd: o.ops, env: { LTC_AUDIT_KEY_FILE: o.keyFile } });
    expect(seal.code, seal.stderr).toBe(0);
    expect(seal.stdout).toContain('entry 5 seals the 4 entries');
    r = await verify(o);
    expect(r.j).toMatchObject({ ok: true, entries: 5, keyedEntries: 1 });
    // More keyed entries (a deploy with its anchor among them).
    await fill(o, 3);
    r = await verify(o);
    expect(r.j).toMatchObject({ ok: true, entries: 8, keyedEntries: 4, anchorsChecked: 2 });
    // An edit of the unkeyed prefix with the chain recomputed: the first keyed entry's HMAC no longer matches.
    const lines = (await readFile(auditPath(o.stateDir), 'utf8')).trim().split('\n');
    await forge(o, parse(lines).map((x, i) => (i === 0 ? { ...x, secret: 'EDITED' } : x)), false);
    r = await verify(o);
    expect(r.code).toBe(1);
    expect(r.j.error!.firstBadLine).toBe(3); // the deploy anchored at entry 3 sees it first
    await rm(join(o.deployRoot, 'revisions.log'));
    r = await verify(o);
    expect(r.code).toBe(1);
    expect(r.j.error!.firstBadLine).toBe(5); // without anchors: the first keyed entry's HMAC covers the prefix
    expect(r.j.error!.reason).toContain('HMAC does not match');
    // Stripping the HMACs of the keyed part makes it unkeyed again: refused with the key (and by the anchors).
    await forge(o, parse(lines), true);
    expect((await verify(o)).code).toBe(1);
  });

  it('refuses a key file inside the ops repo or .ltc/, or readable by group/others (exit 2); init-key writes 0600 and never overwrites', async () => {
    const o = await makeOps();
    const text = randomBytes(32).toString('hex');
    const inRepo = join(o.ops, 'audit.key');
    await writeFile(inRepo, text, { mode: 0o600 });
    let r = await verify(o, { LTC_AUDIT_KEY_FILE: inRepo });
    expect(r.code).toBe(2);
    expect(r.j.error!.message).toContain('inside the ops repo');
    await mkdir(o.stateDir, { recursive: true });
    const inState = join(o.stateDir, 'audit.key');
    await writeFile(inState, text, { mode: 0o600 });
    r = await verify(o, { LTC_AUDIT_KEY_FILE: inState });
    expect(r.code).toBe(2);
    expect(r.j.error!.message).toMatch(/inside the (state folder|ops repo)/);
    // Via the config key too, and a deploy-like append refuses the same way.
    await chmod(o.keyFile, 0o644);
    r = await verify(o, { LTC_AUDIT_KEY_FILE: o.keyFile });
    expect(r.code).toBe(2);
    expect(r.j.error!.message).toContain('readable by group or others (mode 0644)');
    expect(r.j.error!.hint).toContain(`chmod 600 ${o.keyFile}`);
    await chmod(o.keyFile, 0o600);
    const short = join(o.dir, 'keys', 'short.key');
    await writeFile(short, 'tooshort', { mode: 0o600 });
    expect((await verify(o, { LTC_AUDIT_KEY_FILE: short })).code).toBe(2);
    expect((await verify(o, { LTC_AUDIT_KEY_FILE: join(o.dir, 'keys', 'missing.key') })).code).toBe(2);
    // audit.key_file in the config (relative to it) works like the variable.
    const cfg = join(o.ops, 'ltc.config.yaml');
    await writeFile(cfg, (await readFile(cfg, 'utf8')) + `audit:\n  key_file: ../keys/audit.key\n`);
    await fill(o, 2);
    expect((await verify(o, {})).j).toMatchObject({ ok: true, keyedEntries: 2 });
    // init-key
    const bad = await runLtc(['audit', 'init-key', '--out', join(o.ops, 'k')], { cwd: o.ops });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('inside the ops repo');
    const out = join(o.dir, 'keys2', 'audit.key');
    const made = await runLtc(['audit', 'init-key', '--out', out, '--json'], { cwd: o.ops });
    expect(made.code, made.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect((made.json as { keyId: string }).keyId).toBe(keyId(Buffer.from((await readFile(out, 'utf8')).trim())));
    const again = await runLtc(['audit', 'init-key', '--out', out], { cwd: o.ops });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('never overwrites');
  });
});

describe('the key in a secrets backend (audit.key_secret)', () => {
  it('reads the key from the environment\'s backend; the log verifies with it and not without it', async () => {
    const o = await makeOps();
    const cfg = join(o.ops, 'ltc.config.yaml');
    const config = { version: 1, app: { name: 'demo', repo: join(o.dir, 'app') }, environments: { staging: { secrets: { backend: 'file' }, target: { type: 'local', deploy_root: o.deployRoot, start: ['node', 'server.mjs'] } } } };
    await writeFile(cfg, stringify(config));
    const env = { LTC_MASTER_KEY: randomBytes(32).toString('base64'), LTC_AUDIT_KEY_FILE: undefined };
    const keyText = randomBytes(32).toString('hex');
    // The key is stored first (this write is still unkeyed), then named in the config.
    const set = await runLtc(['secrets', 'set', 'LTC_AUDIT_KEY', '--env', 'staging'], { cwd: o.ops, env, input: keyText + '\n' });
    expect(set.code, set.stderr).toBe(0);
    await writeFile(cfg, stringify({ ...config, audit: { key_secret: { environment: 'staging', name: 'LTC_AUDIT_KEY' } } }));
    const seal = await runLtc(['audit', 'seal'], { cwd: o.ops, env });
    expect(seal.code, seal.stderr).toBe(0);
    expect(seal.stdout).toContain(`key ${keyId(Buffer.from(keyText))}`);
    expect(seal.stdout + seal.stderr).not.toContain(keyText);
    const v = await runLtc(['audit', 'verify', '--json'], { cwd: o.ops, env });
    expect(v.json).toMatchObject({ ok: true, keyed: true, keyedEntries: 1 });
    // Without the backend's credentials the key cannot be read: exit 2, nothing written.
    const lines = (await readFile(auditPath(o.stateDir), 'utf8')).split('\n').length;
    const noKey = await runLtc(['audit', 'verify'], { cwd: o.ops, env: { ...env, LTC_MASTER_KEY: undefined } });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('LTC_AUDIT_KEY');
    expect((await readFile(auditPath(o.stateDir), 'utf8')).split('\n').length).toBe(lines);
  });
});

describe('one actor everywhere', () => {
  it('the lock, the audit entry and the revision record carry the same {git_email, os_user} object', async () => {
    const o = await makeOps();
    const { acquireLock } = await import('../src/targets/local/lock.js');
    const { currentActorId } = await import('../src/audit/actor.js');
    const lockFile = join(o.deployRoot, '.ltc-lock');
    const lock = await acquireLock(lockFile, { action: 'deploy', waitMs: 0, signal: new AbortController().signal, what: 'staging', hintEnv: 'staging' });
    try {
      const inLock = (JSON.parse(await readFile(lockFile, 'utf8')) as { by: unknown }).by;
      const me = await currentActorId();
      expect(me.os_user).toMatch(/^[^@\s]+@[^@\s]+$/);
      expect(inLock).toEqual(me);
      delete process.env.LTC_AUDIT_KEY_FILE;
      const e = await appendAudit(o.stateDir, { action: 'deploy', outcome: 'rolled_back' });
      expect(e.by).toEqual(me);
      expect(e.actor).toBe(me.git_email ?? me.os_user);
    } finally {
      await lock.release();
    }
  });
});

describe('ltc audit verify streams', () => {
  /** Writes n keyed entries directly (the same line format and hashes as appendAudit). */
  async function bigLog(stateDir: string, n: number, key: Buffer): Promise<void> {
    await mkdir(stateDir, { recursive: true });
    const k = { key, id: keyId(key), source: 't' };
    const chunks: string[] = [];
    let prev = GENESIS;
    let last = '';
    const t = new Date().toISOString();
    for (let i = 1; i <= n; i++) {
      last = entryLine({ seq: i, time: t, actor: 'bench@example.com', by: { git_email: 'bench@example.com', os_user: 'ci@host' }, action: 'secret.read', outcome: 'ok', environment: 'staging', secret: `SECRET_${i % 50}`, details: { purpose: 'deploy env file', runId: `r${i}` }, prev, key_id: k.id }, k);
      prev = sha256(last);
      chunks.push(last, '\n');
    }
    await writeFile(auditPath(stateDir), chunks.join(''));
    await writeFile(auditHeadPath(stateDir), JSON.stringify({ seq: n, sha256: prev }) + '\n');
    void last;
  }

  it('verifies 100k keyed entries with memory that does not grow with the log', async () => {
    const dir = await tempDir('ltc-audit-big-');
    const key = randomBytes(32);
    const keyFile = join(dir, 'audit.key');
    await writeFile(keyFile, key.toString('hex'), { mode: 0o600 });
    const hexKey = Buffer.from(key.toString('hex'));
    const small = join(dir, 'small', '.ltc');
    const big = join(dir, 'big', '.ltc');
    await bigLog(small, 1_000, hexKey);
    await bigLog(big, 100_000, hexKey);
    const r = await runLtc(['audit', 'verify', '--json'], { cwd: dir, env: { LTC_STATE_DIR: big, LTC_AUDIT_KEY_FILE: keyFile }, timeout: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ ok: true, entries: 100_000, keyedEntries: 100_000 });
    // Memory flat: the whole ltc binary verifies the 100k log (~40 MB) in a 16 MB old-generation
    // heap, where reading the file whole and splitting it runs out of memory.
    const limited = spawnSync(process.execPath, ['--max-old-space-size=16', LTC, 'audit', 'verify', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, LTC_STATE_DIR: big, LTC_AUDIT_KEY_FILE: keyFile, NO_COLOR: '1' },
      cwd: dir,
    });
    expect(limited.status, limited.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(limited.stdout)).toMatchObject({ ok: true, entries: 100_000 });
    // A note of the peak RSS of the verification alone, 1k vs 100k entries (not asserted).
    const mod = pathToFileURL(join(ROOT, 'dist', 'src', 'audit', 'log.js')).href;
    const rss = (stateDir: string): number => {
      const p = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(mod)}); const r = await m.verifyAudit(${JSON.stringify(stateDir)}); if (!r.ok) throw new Error(r.reason); console.log(process.resourceUsage().maxRSS)`], { encoding: 'utf8', env: { ...process.env, LTC_AUDIT_KEY_FILE: keyFile, LTC_STATE_DIR: stateDir } });
      if (p.status !== 0) throw new Error(p.stderr);
      return Number(p.stdout.trim()) / 1024;
    };
    const size = statSync(auditPath(big)).size / 1024 / 1024;
    console.log(`audit verify peak RSS: 1k entries ${rss(small).toFixed(1)} MB, 100k entries ${rss(big).toFixed(1)} MB (log ${size.toFixed(1)} MB)`);
  }, 180_000);
});
