/** The escalation list (config `contacts`) and who to page per severity (`incidents.escalation`). */
import type { CommandResult } from '../cli/define.js';
import type { Config } from '../config/schema/index.js';
import type { Context } from '../core/context.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { isPlaceholder } from '../core/placeholder.js';

type Contact = Config['contacts'][number];
const FIELDS = ['name', 'role', 'phone', 'email', 'slack'] as const;

export interface PageTier {
  /** Milliseconds after the incident opened; 0 = at once. */
  afterMs: number;
  /** As written in the config (e.g. 30m). */
  after: string;
  contacts: Contact[];
}

/** What is not filled in about a contact: the placeholder fields, or no way at all to reach the person. */
export function contactProblems(c: Contact): string[] {
  const fields = FIELDS.filter((f) => c[f] !== undefined && isPlaceholder(c[f], f));
  const problems = fields.length ? [`${fields.join(', ')} ${fields.length === 1 ? 'is a placeholder' : 'are placeholders'}`] : [];
  if (c.phone === undefined && c.email === undefined && c.slack === undefined) problems.push('no phone, e-mail or Slack handle to reach them');
  return problems;
}

export function contactLine(c: Contact): string {
  return `${c.name} (${[c.role, c.phone, c.email, c.slack].filter(Boolean).join(', ')})`;
}

/** Who to page for a severity, tier by tier; without rules: sev 1-2 everyone, sev 3-4 the on-call/SRE roles. */
export function escalationFor(config: Config, severity: number): PageTier[] {
  const rules = config.incidents.escalation.filter((r) => (Array.isArray(r.severity) ? r.severity : [r.severity]).includes(severity));
  if (rules.length === 0) {
    const pick = severity <= 2 ? config.contacts : config.contacts.filter((c) => /on.?call|incident|sre/i.test(c.role));
    return pick.length > 0 ? [{ afterMs: 0, after: '0m', contacts: pick }] : [];
  }
  const tiers = new Map<number, PageTier>();
  for (const r of rules) {
    const afterMs = parseDuration(r.after);
    const tier: PageTier = tiers.get(afterMs) ?? { afterMs, after: typeof r.after === 'number' ? formatDuration(r.after) : r.after, contacts: [] };
    for (const c of config.contacts) if (r.page.includes(c.role) && !tier.contacts.includes(c)) tier.contacts.push(c);
    tiers.set(afterMs, tier);
  }
  return [...tiers.values()].sort((a, b) => a.afterMs - b.afterMs);
}

export function tierLabel(t: PageTier): string {
  return t.afterMs === 0 ? 'now' : `after ${t.after} unresolved`;
}

export async function contactsCommand(opts: { sev?: string }, ctx: Context): Promise<CommandResult> {
  let only: number | undefined;
  if (opts.sev !== undefined) {
    only = Number(opts.sev);
    if (!/^[1-4]$/.test(opts.sev.trim())) throw new UsageError(`--sev ${JSON.stringify(opts.sev)} is not a severity`, { hint: 'a severity from 1 (critical) to 4 (low)' });
  }
  const loaded = await ctx.config();
  const config = loaded.config;
  const flagged: string[] = [];
  const rows = config.contacts.map((c, i) => {
    const problems = contactProblems(c);
    for (const p of problems) flagged.push(`contacts[${i}] (${c.role}): ${p}`);
    return { ...c, problems };
  });
  if (config.contacts.length === 0) flagged.push(`no contacts in ${loaded.file}`);
  const paging = config.golive.paging_tool;
  const statusPage = config.golive.status_page;
  if (isPlaceholder(paging)) flagged.push('no paging tool named (golive.paging_tool)');
  if (isPlaceholder(statusPage)) flagged.push('no public status page URL (golive.status_page)');
  const severities = only ? [only] : [1, 2, 3, 4];
  const escalation = severities.map((severity) => ({
    severity,
    tiers: escalationFor(config, severity).map((t) => ({ after: t.after, contacts: t.contacts.map((c) => c.role) })),
  }));
  for (const e of escalation) if (e.tiers.length === 0) flagged.push(`nobody to page for sev ${e.severity} (add an incidents.escalation rule or an on-call contact)`);

  const width = Math.max(4, ...rows.map((r) => r.role.length));
  const lines = [`Escalation list (${loaded.file})`];
  for (const r of rows) {
    const how = [r.phone, r.email, r.slack].filter(Boolean).join('  ');
    lines.push(`  ${r.problems.length ? '✗' : '✓'} ${r.role.padEnd(width)}  ${r.name}${how ? `  ${how}` : ''}${r.problems.length ? `  ← ${r.problems.join('; ')}` : ''}`);
  }
  if (rows.length === 0) lines.push('  ✗ no contacts');
  lines.push(`  ${isPlaceholder(paging) ? '✗' : '✓'} paging tool: ${paging ?? 'not named'}`);
  lines.push(`  ${isPlaceholder(statusPage) ? '✗' : '✓'} status page: ${statusPage ?? 'not named'}`);
  lines.push('', 'Who to page');
  for (const e of escalation) {
    const tiers = escalationFor(config, e.severity);
    lines.push(`  sev ${e.severity}: ${tiers.length ? tiers.map((t) => `${tierLabel(t)}: ${t.contacts.map((c) => c.role).join(', ')}`).join('; ') : '✗ nobody'}`);
  }
  if (flagged.length) lines.push('', `${flagged.length} to fill in before go-live (${loaded.file}):`, ...flagged.map((f) => `  - ${f}`));
  else lines.push('', 'every contact is filled in');
  return {
    exitCode: flagged.length ? 1 : 0,
    data: { file: loaded.file, contacts: rows, pagingTool: paging ?? null, statusPage: statusPage ?? null, escalation, placeholders: flagged },
    text: lines.join('\n') + '\n',
  };
}
