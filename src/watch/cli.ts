/** `ltc watch`: prepare (config errors exit 2 before anything starts), print the worst case, run, alert, roll back. */
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { access, appendFile, constants, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { liveBlock, prepareWatch, runWatch, sampleLine, worstCaseText, fmtFigure } from './run.js';

export interface WatchCliOptions {
  for?: string;
  interval?: string;
  failureLimit?: string;
  autoRollback?: boolean;
  report?: string;
}

export async function watchCommand(opts: WatchCliOptions, ctx: Context): Promise<CommandResult> {
  if (opts.report !== undefined && !opts.report.trim()) throw new UsageError('--report needs a file name', { hint: 'e.g. --report watch-staging.md' });
  for (const [flag, value] of [['--for', opts.for], ['--interval', opts.interval]] as const) {
    if (value !== undefined && !value.trim()) throw new UsageError(`${flag} needs a duration`, { hint: `e.g. ${flag} ${flag === '--for' ? '3h' : '30s'}` });
  }
  if (opts.report) await checkReportPath(resolve(ctx.cwd, opts.report));
  let failureLimit: number | undefined;
  if (opts.failureLimit !== undefined) {
    failureLimit = Number(opts.failureLimit);
    if (!/^\d+$/.test(opts.failureLimit) || failureLimit < 1) throw new UsageError(`--failure-limit ${JSON.stringify(opts.failureLimit)} is not a whole number of at least 1`, { hint: 'e.g. --failure-limit 3' });
  }
  const { name, env, loaded } = await ctx.environment();
  const autoRollback = Boolean(opts.autoRollback);
  if (autoRollback && !env.target) {
    const { ConfigError } = await import('../core/errors.js');
    throw new ConfigError(`--auto-rollback: environment "${name}" has no target to roll back`, { hint: `add environments.${name}.target, or watch without --auto-rollback` });
  }
  const plan = await prepareWatch(name, env, loaded, { ...(opts.for !== undefined ? { for: opts.for } : {}), ...(opts.interval !== undefined ? { interval: opts.interval } : {}), ...(failureLimit ? { failureLimit } : {}) }, ctx, ctx.signal);
  const sources = [plan.probes.length ? `probes ${plan.probes.join(', ')} (${plan.requestsPerInterval} per interval)` : '', plan.prometheus ? `Prometheus ${plan.prometheus.url} (${Object.keys(plan.prometheus.queries).join(', ')})` : ''].filter(Boolean);
  const th = plan.thresholds;
  if (ctx.options.dryRun) {
    return { data: { dryRun: true, plan: { ...plan, webhook: plan.webhook ? '***' : null } }, text: `would watch ${name} for ${plan.intervals} interval(s): ${sources.join('; ')}\n${worstCaseText(plan)}` };
  }
  ctx.out.info(`watching ${name} (release ${plan.release ?? 'unknown'}${plan.rc ? `, ${plan.rc}` : ''}): ${plan.intervals} interval(s) of ${formatDuration(plan.intervalMs)}; ${sources.join('; ')}`);
  ctx.out.info(`thresholds: error rate ${fmtFigure('error_rate', th.error_rate)}, p95 ${th.latency_p95_ms}ms, p99 ${th.latency_p99_ms}ms; fail after ${plan.failureLimit} bad interval(s) in a row${autoRollback ? ', then roll back' : ''}`);
  ctx.out.info(worstCaseText(plan));
  const live = ctx.isTTY && !ctx.options.json && Boolean(process.stderr.isTTY);
  let drawn = 0;
  const result = await runWatch(plan, ctx, ctx.signal, {
    autoRollback,
    onSample: (s, history) => {
      if (!live) return ctx.out.info(sampleLine(plan, s, history, false));
      // Redraw the block in place; bad and inconclusive samples also stay as a line above it.
      const block = liveBlock(plan, s, history);
      let text = drawn ? `\x1b[${drawn}A\x1b[J` : '';
      if (s.verdict !== 'good') text += sampleLine(plan, s, history, false) + '\n';
      process.stderr.write(ctx.out.mask(text + block.join('\n') + '\n'));
      drawn = block.length;
    },
  });
  const data: Record<string, unknown> = { ...result, autoRollback, rollback: null, report: null };
  const report = async (rollback?: { startedAt: string; ok: boolean }) => {
    if (!opts.report) return;
    const { writeReport } = await import('./report.js');
    data.report = await writeReport(resolve(ctx.cwd, opts.report), plan, result, rollback);
    lines.push(`  report: ${(data.report as { markdown: string }).markdown}`);
  };
  const lines = [`watch ${result.outcome}: ${result.reason}`, `  samples: ${result.samples.length}; journal ${result.journal}`];
  for (const a of result.alerts) lines.push(`  alert (${a.kind}): ${a.sent ? `delivered (attempt ${a.attempts})` : `NOT delivered: ${a.error}`}`);
  if (result.outcome !== 'fail' || !autoRollback) await report();
  if (result.outcome === 'pass') return { data, text: ctx.out.c.green(lines.join('\n')) };
  if (result.outcome === 'inconclusive') return { data, text: ctx.out.c.yellow(lines.join('\n') + '\n  not rolled back: inconclusive never rolls back by itself'), exitCode: 1 };
  if (!autoRollback) return { data, text: ctx.out.c.red(lines.join('\n') + `\n  roll back with: ltc rollback --env ${name}`), exitCode: 1 };
  const rollbackStartedAt = new Date().toISOString();
  await appendFile(plan.journal, JSON.stringify({ time: rollbackStartedAt, type: 'rollback', startedAt: rollbackStartedAt }) + '\n');
  ctx.out.info(`rolling back ${name} (runbooks/rollback.yaml)`);
  const { rollbackCommand } = await import('../deploy/cli.js');
  // A deploy that is still finishing (its log scan, its record) holds the lock: wait for it, not exit 5.
  const rb = await rollbackCommand({ lockWait: '5m' }, ctx);
  const rolledBack = (rb.exitCode ?? 0) === 0;
  await appendFile(plan.journal, JSON.stringify({ time: new Date().toISOString(), type: 'rollback-end', ok: rolledBack, ...(rb.data ? { rollback: rb.data } : {}) }) + '\n');
  data.rollback = { startedAt: rollbackStartedAt, ok: rolledBack, ...(rb.data ?? {}) };
  await report({ startedAt: rollbackStartedAt, ok: rolledBack });
  const text = [ctx.out.c.red(lines.join('\n')), rb.text ?? ''].filter(Boolean).join('\n');
  return { data, text, exitCode: rolledBack ? 3 : 4 };
}

/** The report is written at the end of a watch that may run for hours: a path that cannot be written is a usage error now. */
async function checkReportPath(markdown: string): Promise<void> {
  const svg = markdown.replace(/\.md$/i, '') + '.svg';
  const dir = dirname(markdown);
  const hint = { hint: 'give --report a file in an existing, writable directory, e.g. --report watch-staging.md' };
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat?.isDirectory()) throw new UsageError(`--report ${markdown}: the directory ${dir} does not exist`, hint);
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UsageError(`--report ${markdown}: the directory ${dir} is not writable`, hint);
  }
  for (const file of [markdown, svg]) {
    const st = await stat(file).catch(() => undefined);
    if (st?.isDirectory()) throw new UsageError(`--report ${markdown}: ${file} is a directory`, hint);
  }
}
