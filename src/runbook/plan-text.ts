/** The dry-run plan as text for people. */
import { formatDuration } from '../core/duration.js';
import type { Palette } from '../core/output.js';
import type { PlanStep, RunPlan } from './plan.js';

function whenText(s: PlanStep, c: Palette): string | undefined {
  switch (s.when) {
    case 'always':
      return undefined;
    case 'true':
      return c.green(`when: true (${s.whenText ?? 'true'})`);
    case 'false':
      return c.dim(`when: false, will be skipped (${s.whenText ?? 'false'})`);
    case 'unknown':
      return c.yellow(`when: known at run time (${s.whenText})`);
  }
}

function stepLines(s: PlanStep, n: string, depth: number, c: Palette): string[] {
  const pad = '  '.repeat(depth);
  const controls = [
    s.retries ? `retries ${s.retries}` : '',
    s.timeoutMs !== undefined ? `timeout ${formatDuration(s.timeoutMs)}` : '',
    s.continueOnError ? 'continue_on_error' : '',
  ].filter(Boolean);
  const title = `${pad}${n} ${c.bold(s.id)}${s.name !== s.id ? ` ${s.name}` : ''} ${c.dim(`[${s.type}]`)}${controls.length ? c.dim(` (${controls.join(', ')})`) : ''}`;
  const lines = [title];
  const w = whenText(s, c);
  if (w) lines.push(`${pad}     ${w}`);
  for (const item of s.items) lines.push(`${pad}     ${item.action}: ${item.detail}${item.writes ? c.yellow(' (changes something)') : ''}`);
  if (s.pending) lines.push(`${pad}     ${c.dim('values with ${{ steps.… }} are known at run time')}`);
  if (s.calls) {
    lines.push(`${pad}     ${c.dim(`calls runbook ${s.calls.runbook} (${s.calls.file}):`)}`);
    s.calls.steps.forEach((child, i) => lines.push(...stepLines(child, `${i + 1}.`, depth + 3, c)));
  }
  s.onFailure.forEach((f, i) => lines.push(...stepLines(f, `${c.dim('on_failure')} ${i + 1}.`, depth + 3, c)));
  return lines;
}

export function formatPlan(plan: RunPlan, c: Palette): string {
  const inputs = Object.entries(plan.inputs)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
  return [
    c.bold(`Plan for runbook ${plan.runbook}: ${plan.title}`) + c.dim(` (${plan.file}) — dry run, nothing is changed`),
    ...(inputs ? [`inputs: ${inputs}`] : []),
    ...plan.steps.flatMap((s, i) => stepLines(s, `${i + 1}.`, 0, c)),
    ...(plan.problems?.length
      ? [
          c.red('the run would refuse to start (exit 2, nothing would run), because:'),
          ...plan.problems.map((p) => `  ${p}`),
          ...(plan.problemsHint ? [`hint: ${plan.problemsHint}`] : []),
        ]
      : []),
  ].join('\n');
}
