/** The go-live report (Markdown) to attach to the release: every item, its evidence, who signed or waived what. */
import { PHASES, type ItemStatus } from './items.js';
import type { CheckRecord } from './run.js';
import type { SignoffFile } from './signoffs.js';

const LABEL: Record<ItemStatus, string> = { passed: '✅ passed', failed: '❌ failed', needs_signoff: '✍️ needs sign-off', waived: '⚠️ waived', not_applicable: '➖ not applicable' };

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderReport(r: CheckRecord, signoffs: SignoffFile): string {
  const out: string[] = [];
  out.push(`# Go-live report: ${r.rc}`, '');
  out.push(`- Commit: \`${r.commit ?? 'unknown'}\``, `- Environment: ${r.environment}`, `- Checked: ${r.time} (${(r.durationMs / 1000).toFixed(1)}s)`, `- Checklist: ${r.runbook}`);
  out.push(`- Verdict: **${r.go ? 'GO' : 'NO-GO'}** — ${r.counts.passed} passed, ${r.counts.failed} failed, ${r.counts.needs_signoff} need sign-off, ${r.counts.waived} waived, ${r.counts.not_applicable} not applicable`, '');
  const waivers = signoffs.waivers.filter((w) => w.rc === r.rc);
  out.push('## Waivers', '');
  if (waivers.length === 0) out.push('None.', '');
  else {
    out.push('| item | by | run by | recorded | expires | reason |', '| --- | --- | --- | --- | --- | --- |');
    for (const w of waivers) out.push(`| ${w.item} | ${cell(w.by)} | ${w.actor} | ${w.time} | ${w.expires}${Date.parse(w.expires) <= Date.now() ? ' (expired)' : ''} | ${cell(w.reason)} |`);
    out.push('');
  }
  for (const p of [1, 2, 3, 4]) {
    const list = r.items.filter((i) => i.phase === p);
    if (!list.length) continue;
    out.push(`## ${PHASES[p]}`, '', '| item | status | blocking | decided by | evidence |', '| --- | --- | --- | --- | --- |');
    for (const i of list) {
      const ev = [...i.evidence, ...(i.fix && i.status !== 'passed' ? [`fix: ${i.fix}`] : [])].map(cell).join('<br>');
      out.push(`| **${i.item}**<br>${cell(i.title)} | ${LABEL[i.status]} | ${i.blocking ? 'yes' : 'no'} | ${i.decided_by} | ${ev} |`);
    }
    out.push('');
  }
  const so = signoffs.signoffs.filter((s) => s.rc === r.rc);
  out.push('## Sign-offs', '');
  if (so.length === 0) out.push('None recorded.', '');
  else {
    out.push('| item | by | run by | when | note |', '| --- | --- | --- | --- | --- |');
    for (const s of so) out.push(`| ${s.item} | ${cell(s.by)} | ${s.actor} | ${s.time} | ${cell(s.note ?? '')} |`);
    out.push('');
  }
  const gates = r.items.find((i) => i.item === 'gates.green');
  out.push('## Gate results', '', ...(gates ? gates.evidence.map((e) => `- ${e}`) : ['- not checked']), '');
  const staging = r.items.find((i) => i.item === 'staging.deployed');
  const rehearsal = r.items.find((i) => i.item === 'staging.rollback_rehearsed');
  out.push('## Staging deploy and rollback rehearsal', '');
  out.push(...(staging ? staging.evidence.map((e) => `- deploy: ${e}`) : ['- deploy: not checked']));
  out.push(...(rehearsal ? rehearsal.evidence.map((e) => `- rollback rehearsal: ${e}`) : ['- rollback rehearsal: not checked']), '');
  return out.join('\n');
}
