/**
 * `ltc watch --report <file>`: a Markdown summary and an SVG chart (<file without .md>.svg next to
 * it) of the error rate and p95 over the watch, per source, with the thresholds drawn in and the
 * rollback's start marked.
 */
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Figure, WatchPlan, WatchResult } from './run.js';
import { fmtFigure } from './run.js';

const W = 720;
const PANEL_H = 180;
const PAD = { left: 64, right: 16, top: 28, bottom: 28 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function panel(result: WatchResult, figure: Figure, threshold: number, top: number, rollbackAt: number | undefined, t0: number, t1: number): string {
  const series = (['probes', 'prometheus'] as const).map((source) => ({
    source,
    points: result.samples
      .map((s) => ({ t: Date.parse(s.time), v: s.checks.find((c) => c.source === source && c.figure === figure)?.value ?? null }))
      .filter((p): p is { t: number; v: number } => p.v !== null),
  }));
  const max = Math.max(threshold * 1.25, ...series.flatMap((s) => s.points.map((p) => p.v))) || 1;
  const x = (t: number) => PAD.left + ((t - t0) / Math.max(1, t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => top + PAD.top + (1 - v / max) * (PANEL_H - PAD.top - PAD.bottom);
  const label = figure === 'error_rate' ? 'error rate' : 'p95 latency';
  const parts = [
    `<text x="${PAD.left}" y="${top + 18}" font-size="13" font-weight="bold">${label}</text>`,
    `<rect x="${PAD.left}" y="${top + PAD.top}" width="${W - PAD.left - PAD.right}" height="${PANEL_H - PAD.top - PAD.bottom}" fill="none" stroke="#bbb"/>`,
    `<text x="${PAD.left - 6}" y="${y(max) + 4}" font-size="10" text-anchor="end">${esc(fmtFigure(figure, max))}</text>`,
    `<text x="${PAD.left - 6}" y="${y(0) + 4}" font-size="10" text-anchor="end">${esc(fmtFigure(figure, 0))}</text>`,
    `<line class="threshold" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(threshold)}" y2="${y(threshold)}" stroke="#d33" stroke-dasharray="6 4"/>`,
    `<text x="${W - PAD.right - 4}" y="${y(threshold) - 4}" font-size="10" text-anchor="end" fill="#d33">threshold ${esc(fmtFigure(figure, threshold))}</text>`,
  ];
  const colors = { probes: '#1f77b4', prometheus: '#ff7f0e' };
  for (const s of series) {
    if (!s.points.length) continue;
    parts.push(`<polyline class="${s.source}" fill="none" stroke="${colors[s.source]}" stroke-width="2" points="${s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')}"/>`);
  }
  if (rollbackAt !== undefined) {
    parts.push(`<line class="rollback" x1="${x(rollbackAt)}" x2="${x(rollbackAt)}" y1="${top + PAD.top}" y2="${top + PANEL_H - PAD.bottom}" stroke="#900" stroke-width="2"/>`);
    parts.push(`<text x="${x(rollbackAt) - 4}" y="${top + PANEL_H - PAD.bottom - 4}" font-size="10" text-anchor="end" fill="#900">rollback</text>`);
  }
  return parts.join('\n');
}

export function chartSvg(plan: WatchPlan, result: WatchResult, rollbackAt?: string): string {
  const t0 = Date.parse(result.samples[0]?.time ?? result.startedAt);
  const rb = rollbackAt ? Date.parse(rollbackAt) : undefined;
  const t1 = Math.max(rb ?? 0, Date.parse(result.samples.at(-1)?.time ?? result.endedAt), t0 + 1);
  const h = PANEL_H * 2 + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif">`,
    `<rect width="${W}" height="${h}" fill="#fff"/>`,
    panel(result, 'error_rate', plan.thresholds.error_rate, 0, rb, t0, t1),
    panel(result, 'latency_p95_ms', plan.thresholds.latency_p95_ms, PANEL_H, rb, t0, t1),
    `<text x="${PAD.left}" y="${h - 6}" font-size="10"><tspan fill="#1f77b4">— ltc probes</tspan>  <tspan fill="#ff7f0e">— Prometheus</tspan>  ${esc(new Date(t0).toISOString())} → ${esc(new Date(t1).toISOString())}</text>`,
    '</svg>',
    '',
  ].join('\n');
}

export async function writeReport(file: string, plan: WatchPlan, result: WatchResult, rollback?: { startedAt: string; ok: boolean; release?: unknown }): Promise<{ markdown: string; svg: string }> {
  const svg = join(dirname(file), `${basename(file).replace(/\.md$/i, '')}.svg`);
  await writeFile(svg, chartSvg(plan, result, rollback?.startedAt));
  const counts = { good: 0, bad: 0, inconclusive: 0 };
  for (const s of result.samples) counts[s.verdict]++;
  const th = plan.thresholds;
  const md = [
    `# Watch of ${plan.environment}: ${result.outcome}`,
    '',
    `- release: ${plan.release ?? '(unknown)'}${plan.rc ? ` (${plan.rc})` : ''}`,
    `- from ${result.startedAt} to ${result.endedAt}; ${result.samples.length} of ${plan.intervals} interval(s) of ${plan.intervalMs}ms`,
    `- result: **${result.outcome}**: ${result.reason}`,
    `- intervals: ${counts.good} good, ${counts.bad} bad, ${counts.inconclusive} inconclusive`,
    `- thresholds: error rate ${fmtFigure('error_rate', th.error_rate)}, p95 ${th.latency_p95_ms}ms, p99 ${th.latency_p99_ms}ms; failure limit ${plan.failureLimit}, success limit ${plan.successLimit}`,
    `- worst case from a broken release to the start of the rollback: ${plan.worstCaseMs}ms`,
    ...(rollback ? [`- rollback: started ${rollback.startedAt}, ${rollback.ok ? 'succeeded' : 'FAILED'}`] : []),
    ...result.alerts.map((a) => `- alert (${a.kind}): ${a.sent ? `delivered after ${a.attempts} attempt(s)` : `not delivered: ${a.error}`}`),
    '',
    `![error rate and p95 over the watch](${basename(svg)})`,
    '',
    '| # | time | verdict | figures |',
    '| --- | --- | --- | --- |',
    ...result.samples.map((s) => `| ${s.index + 1} | ${s.time} | ${s.verdict} | ${s.checks.map((c) => `${c.source} ${c.figure} ${c.value === null ? `n/a (${c.reason})` : fmtFigure(c.figure, c.value)}`).join('; ').replace(/\|/g, '\\|')} |`),
    '',
  ].join('\n');
  await writeFile(file, md);
  return { markdown: file, svg };
}
