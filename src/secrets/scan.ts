/**
 * `ltc secrets scan`: secretlint (`@secretlint/node` createEngine) with the recommended preset
 * and this project's rule (scan-rule.ts), over files, the staged blobs (`--staged`) or every
 * blob of the git history (`--history`, deduplicated by blob id). Findings carry file, line,
 * column and rule, and the secret only masked. Output as text, JSON or SARIF 2.1.0; exit 1 on
 * findings. git output is read raw (not through the masker) since it is what is scanned.
 */
import { runGitBytes } from '../git/git.js';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';
import { RULE_ID, RULE_NAMES } from './scan-rule.js';

export interface ScanCliOptions {
  staged?: boolean;
  history?: boolean;
  format?: string;
  /** The stored values to look for, when the caller has read them already (storeValues). */
  knownValues?: Array<{ name: string; value: string }>;
}

export interface Finding {
  /** Path relative to the scanned folder or repository root. */
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  rule: string;
  messageId: string;
  message: string;
  /** The secret with all but (at most) its first 4 characters hidden. */
  secret: string;
  /** Where it was found: the working tree, the index, or a commit. */
  source: 'file' | 'staged' | 'history';
  commit?: string;
  blob?: string;
}

export interface ScanReport {
  root: string;
  scanned: { files: number; blobs: number; commits: number };
  findings: Finding[];
}

const MAX_BYTES = 2 * 1024 * 1024;
const SKIP_DIRS = new Set(['.git', 'node_modules', '.ltc']);

/**
 * `ghp_…` → `ghp_****`: the first 4 characters of a long secret, which for the preset's rules are
 * the token's public type prefix (ghp_, AKIA, xoxb, -----). This project's secrets (`ltc/…`
 * rules: keys, passwords, stored values) have no such prefix: nothing of them is shown.
 */
export function maskSecret(secret: string, prefixed = true): string {
  const oneLine = secret.split('\n')[0] ?? '';
  const prefix = prefixed && secret.length >= 20 ? oneLine.slice(0, 4) : '';
  return `${prefix}****`;
}

async function git(cwd: string, args: string[]): Promise<Buffer> {
  const r = await runGitBytes(args, { cwd, callerRepoEnv: true }).catch(() => {
    throw new UsageError('git not found', { hint: 'install git (Debian package git)' });
  });
  if (r.exitCode !== 0) throw new UsageError(`git ${args[0]} failed in ${cwd}: ${r.stderr.trim() || `git exited ${r.exitCode}`}`, { hint: 'is this a git repository?' });
  return r.stdout;
}

async function gitRoot(dir: string): Promise<string | undefined> {
  try {
    const out = (await git(dir, ['rev-parse', '--show-toplevel'])).toString().trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}

function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8000).includes(0);
}

/** Reads many blobs through one `git cat-file --batch`. */
async function catFileBatch(cwd: string, shas: string[]): Promise<Map<string, Buffer>> {
  const r = await runGitBytes(['cat-file', '--batch'], { cwd, callerRepoEnv: true, input: shas.join('\n') + '\n' });
  if (r.exitCode !== 0) throw new UsageError(`git cat-file failed: ${r.stderr.trim()}`);
  const out = r.stdout;
  const blobs = new Map<string, Buffer>();
  let pos = 0;
  while (pos < out.length) {
    const nl = out.indexOf(0x0a, pos);
    if (nl < 0) break;
    const header = out.subarray(pos, nl).toString();
    const [sha, type, sizeText] = header.split(' ');
    if (type === 'missing' || !sizeText) {
      pos = nl + 1;
      continue;
    }
    const size = Number(sizeText);
    blobs.set(sha!, out.subarray(nl + 1, nl + 1 + size));
    pos = nl + 1 + size + 1;
  }
  return blobs;
}

interface Item {
  file: string;
  content: string;
  source: Finding['source'];
  commit?: string;
  blob?: string;
}

async function walk(root: string, dir: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) await walk(root, join(dir, entry.name), out);
    } else if (entry.isFile()) out.push(relative(root, join(dir, entry.name)));
  }
}

/** Files of a folder: in a git work tree what git would commit (tracked + untracked, not ignored), else every file. */
async function workingTreeItems(target: string): Promise<{ root: string; items: Item[] }> {
  const st = await stat(target).catch(() => undefined);
  if (!st) throw new UsageError(`nothing to scan at ${target}`, { hint: 'give an existing file or folder' });
  if (st.isFile()) {
    const buf = await readFile(target);
    return { root: resolve(target, '..'), items: isBinary(buf) || buf.length > MAX_BYTES ? [] : [{ file: target, content: buf.toString('utf8'), source: 'file' }] };
  }
  let files: string[];
  if (await gitRoot(target)) {
    files = (await git(target, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']))
      .toString()
      .split('\0')
      .filter(Boolean);
  } else {
    files = [];
    await walk(target, target, files);
  }
  const items: Item[] = [];
  for (const f of files.sort()) {
    const abs = join(target, f);
    const s = await stat(abs).catch(() => undefined);
    if (!s?.isFile() || s.size > MAX_BYTES) continue;
    const buf = await readFile(abs);
    if (isBinary(buf)) continue;
    items.push({ file: f.split(sep).join('/'), content: buf.toString('utf8'), source: 'file' });
  }
  return { root: target, items };
}

async function stagedItems(repo: string): Promise<Item[]> {
  const names = (await git(repo, ['diff', '--cached', '--name-only', '--diff-filter=ACMR', '-z'])).toString().split('\0').filter(Boolean);
  if (names.length === 0) return [];
  // The staged blob of each path (`git show :path`), read in one batch by blob id.
  const entries = (await git(repo, ['ls-files', '-s', '-z', '--', ...names]))
    .toString()
    .split('\0')
    .filter(Boolean)
    .map((l) => {
      const [meta, path] = l.split('\t');
      const [mode, sha] = (meta ?? '').split(' ');
      return { mode, sha: sha!, path: path! };
    })
    .filter((e) => e.mode !== '160000');
  const blobs = await catFileBatch(repo, entries.map((e) => e.sha));
  const items: Item[] = [];
  for (const e of entries) {
    const buf = blobs.get(e.sha);
    if (!buf || buf.length > MAX_BYTES || isBinary(buf)) continue;
    items.push({ file: e.path, content: buf.toString('utf8'), source: 'staged', blob: e.sha });
  }
  return items;
}

async function historyItems(repo: string): Promise<{ items: Item[]; commits: number }> {
  const commits = (await git(repo, ['rev-list', '--all', '--reverse'])).toString().split('\n').filter(Boolean);
  const firstSeen = new Map<string, { commit: string; path: string }>();
  for (const commit of commits) {
    const tree = (await git(repo, ['ls-tree', '-r', '-z', '--full-tree', commit])).toString().split('\0').filter(Boolean);
    for (const line of tree) {
      const tab = line.indexOf('\t');
      const [, type, sha] = line.slice(0, tab).split(' ');
      if (type !== 'blob' || !sha || firstSeen.has(sha)) continue;
      firstSeen.set(sha, { commit, path: line.slice(tab + 1) });
    }
  }
  const blobs = await catFileBatch(repo, [...firstSeen.keys()]);
  const items: Item[] = [];
  for (const [sha, where] of firstSeen) {
    const buf = blobs.get(sha);
    if (!buf || buf.length > MAX_BYTES || isBinary(buf)) continue;
    items.push({ file: where.path, content: buf.toString('utf8'), source: 'history', commit: where.commit, blob: sha });
  }
  return { items, commits: commits.length };
}

interface LintMessage {
  ruleId: string;
  messageId: string;
  message: string;
  range: readonly [number, number];
  loc: { start: { line: number; column: number }; end: { line: number; column: number } };
}

type Engine = Awaited<ReturnType<typeof import('@secretlint/node').createEngine>>;

async function createEngine(): Promise<Engine> {
  const { createEngine: create } = await import('@secretlint/node');
  return create({
    cwd: packageRoot(),
    formatter: 'json',
    color: false,
    maskSecrets: true,
    configFileJSON: {
      rules: [
        // Access key ids too (off by default in secretlint): an AKIA… id next to code is worth a look.
        { id: '@secretlint/secretlint-rule-preset-recommend', rules: [{ id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true } }] },
        { id: ruleFile },
      ],
    },
  });
}

// secretlint loads the rule by path: next to this module in dist/src, or from the bundle (dist/bundle) the tsc output.
const nearRule = fileURLToPath(new URL('./scan-rule.js', import.meta.url));
const ruleFile = existsSync(nearRule) ? nearRule : join(packageRoot(), 'dist', 'src', 'secrets', 'scan-rule.js');

async function lint(engine: Engine, item: Item, ctx: Context): Promise<Finding[]> {
  const r = await engine.executeOnContent({ content: item.content, filePath: item.file });
  if (r.ok) return [];
  const results = JSON.parse(r.output) as Array<{ messages: LintMessage[] }>;
  const findings: Finding[] = [];
  // One finding per secret: a later message whose range overlaps a kept one is the same secret.
  const messages = results.flatMap((x) => x.messages).sort((a, b) => a.range[0] - b.range[0] || b.range[1] - a.range[1]);
  let keptEnd = -1;
  for (const m of messages) {
    if (m.range[0] < keptEnd) continue;
    keptEnd = m.range[1];
    const secret = item.content.slice(m.range[0], m.range[1]);
    ctx.masker.add(secret);
    const ours = m.ruleId === ruleFile;
    const masked = maskSecret(secret, !ours);
    findings.push({
      file: item.file,
      line: m.loc.start.line,
      column: m.loc.start.column + 1,
      endLine: m.loc.end.line,
      endColumn: m.loc.end.column + 1,
      rule: ours ? (RULE_NAMES[m.messageId] ?? RULE_ID) : m.ruleId,
      messageId: m.messageId,
      message: secret ? m.message.split(secret).join(masked) : m.message,
      secret: masked,
      source: item.source,
      ...(item.commit ? { commit: item.commit } : {}),
      ...(item.blob ? { blob: item.blob } : {}),
    });
  }
  return findings;
}

/** Values of the file store of the chosen environment, when one is configured and its key is at hand. */
export async function storeValues(ctx: Context): Promise<Array<{ name: string; value: string }>> {
  try {
    const { openScope, audited } = await import('./service.js');
    const scope = await openScope(ctx);
    if (scope.backend.kind !== 'file') return [];
    const out: Array<{ name: string; value: string }> = [];
    for (const s of await scope.backend.list()) {
      for (const v of s.versions) {
        const got = await audited(scope, { action: 'secret.read', secret: s.name, details: { purpose: 'scan for leaked values' } }, () => scope.backend.getValue(s.name, { versionId: v.id }), (x) => x.versionId);
        out.push({ name: s.name, value: got.value });
      }
    }
    return out;
  } catch (err) {
    ctx.out.debug(`scan: stored values not used (${err instanceof Error ? err.message : String(err)})`);
    return [];
  }
}

export async function scan(ctx: Context, path: string | undefined, opts: ScanCliOptions): Promise<ScanReport> {
  const target = path ? (isAbsolute(path) ? path : resolve(ctx.cwd, path)) : ctx.cwd;
  const items: Item[] = [];
  let root = target;
  let commits = 0;
  if (opts.staged || opts.history) {
    const repo = await gitRoot(target);
    if (!repo) throw new UsageError(`${target} is not in a git repository`, { hint: '--staged and --history scan a git repository; give its path' });
    root = repo;
    if (opts.staged) items.push(...(await stagedItems(repo)));
    if (opts.history) {
      const h = await historyItems(repo);
      items.push(...h.items);
      commits = h.commits;
    }
  } else {
    const w = await workingTreeItems(target);
    root = w.root;
    items.push(...w.items);
  }
  // The instance secretlint loads (by ruleFile's path), not the bundle's copy of the module.
  const { setKnownValues } = (await import(pathToFileURL(ruleFile).href)) as typeof import('./scan-rule.js');
  setKnownValues(opts.knownValues ?? (await storeValues(ctx)));
  const engine = await createEngine();
  const findings: Finding[] = [];
  for (const item of items) findings.push(...(await lint(engine, item, ctx)));
  return {
    root,
    scanned: { files: items.filter((i) => i.source !== 'history').length, blobs: items.filter((i) => i.source === 'history').length, commits },
    findings,
  };
}

export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** SARIF 2.1.0 with one run. */
export function toSarif(report: ScanReport): Record<string, unknown> {
  const rules = [...new Set(report.findings.map((f) => f.rule))].sort();
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'ltc secrets scan',
            version: packageVersion(),
            informationUri: 'https://github.com/secretlint/secretlint',
            rules: rules.map((id) => ({
              id,
              name: id.replace(/^.*\//, ''),
              shortDescription: { text: id.startsWith('ltc/') ? `this project's secrets: ${id.slice(4).replace(/-/g, ' ')}` : `secretlint rule ${id}` },
              defaultConfiguration: { level: 'error' },
            })),
          },
        },
        originalUriBaseIds: { SRCROOT: { uri: `file://${report.root.endsWith('/') ? report.root : report.root + '/'}` } },
        results: report.findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: rules.indexOf(f.rule),
          level: 'error',
          message: { text: `${f.message} (${f.secret})${f.commit ? ` in commit ${f.commit}` : f.source === 'staged' ? ' (staged)' : ''}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: f.file, uriBaseId: 'SRCROOT' },
                region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn },
              },
            },
          ],
          partialFingerprints: { 'ltc/blob-rule-line': `${f.blob ?? f.file}:${f.rule}:${f.line}` },
          properties: { source: f.source, messageId: f.messageId, ...(f.commit ? { commit: f.commit } : {}) },
        })),
      },
    ],
  };
}

export async function scanCommand(ctx: Context, path: string | undefined, opts: ScanCliOptions): Promise<CommandResult> {
  const format = opts.format ?? 'text';
  if (!['text', 'json', 'sarif'].includes(format)) throw new UsageError(`--format ${format} is not known`, { hint: 'use text, json or sarif' });
  const report = await scan(ctx, path, opts);
  const exitCode = report.findings.length ? 1 : 0;
  const data = { root: report.root, scanned: report.scanned, findings: report.findings };
  if (ctx.options.json) return { data, exitCode };
  if (format === 'json') return { data, text: JSON.stringify(data, null, 2), exitCode };
  if (format === 'sarif') return { data, text: JSON.stringify(toSarif(report), null, 2), exitCode };
  const what = [
    report.scanned.files ? `${report.scanned.files} file${report.scanned.files === 1 ? '' : 's'}` : '',
    report.scanned.blobs ? `${report.scanned.blobs} blobs of ${report.scanned.commits} commits` : '',
  ].filter(Boolean).join(' and ') || 'nothing';
  const lines = report.findings.map((f) => {
    const where = f.commit ? `${f.commit.slice(0, 12)}:${f.file}` : f.source === 'staged' ? `${f.file} (staged)` : f.file;
    return `${where}:${f.line}:${f.column}  ${f.rule}  ${f.message}  [${f.secret}]`;
  });
  const nothing = !report.scanned.files && !report.scanned.blobs;
  const summary = report.findings.length
    ? `${report.findings.length} secret${report.findings.length === 1 ? '' : 's'} found in ${what}`
    : nothing
      ? `nothing to scan${opts.staged ? ' (no staged changes)' : ''}; no secrets found`
      : `no secrets found in ${what}`;
  if (report.findings.length) ctx.out.info('hint: remove the secret, rotate it (`ltc secrets rotate <NAME>`) if it was ever committed or shared, and use `ltc secrets set` instead');
  return { data, text: [...lines, summary].join('\n'), exitCode };
}
