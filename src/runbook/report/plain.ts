/** Plain lines, no spinners: for pipes, CI logs, NO_COLOR and --verbose. `✓ build Build the app 12ms`. */
import { formatDuration } from '../../core/duration.js';
import type { Output } from '../../core/output.js';
import type { Reporter, StepEndView, StepView } from './types.js';

export function label(s: StepView): string {
  return s.name && s.name !== s.id.split('/').at(-1) ? `${s.id} ${s.name}` : s.id;
}

function indent(s: StepView): string {
  return '  '.repeat(s.depth) + (s.phase === 'on_failure' ? '↳ ' : '');
}

export function plainReporter(out: Output, opts: { verbose: boolean; quiet: boolean }): Reporter {
  const { c } = out;
  const line = (text: string) => {
    if (!opts.quiet) out.print(text);
  };
  return {
    runStart(run) {
      const id = run.runId ? ` (run ${run.runId})` : '';
      line(c.bold(run.resumedFrom ? `▶ ${run.runbook}${id}: resuming at step ${run.resumedFrom}` : `▶ ${run.runbook}${id}: ${run.title}`));
    },
    stepStart(s) {
      if (opts.verbose && !opts.quiet) line(c.dim(`${indent(s)}… ${label(s)}`));
    },
    stepLog(s, text) {
      if (opts.verbose) out.print(`${s.id} | ${text}`);
    },
    stepRetry(s, attempt, attempts, reason, delayMs) {
      line(c.yellow(`${indent(s)}↻ ${s.id} retry ${attempt}/${attempts} in ${formatDuration(delayMs)}: ${reason}`));
    },
    stepEnd(s: StepEndView) {
      const time = c.dim(formatDuration(s.durationMs));
      const tries = s.attempts > 1 ? c.dim(` (${s.attempts} attempts)`) : '';
      const summary = s.summary ? c.dim(` ${s.summary}`) : '';
      switch (s.status) {
        case 'ok':
          return line(`${indent(s)}${c.green('✓')} ${label(s)} ${time}${tries}${summary}`);
        case 'resumed':
          return line(`${indent(s)}${c.green('✓')} ${label(s)} ${c.dim('(done in the earlier attempt)')}`);
        case 'skipped':
          return line(`${indent(s)}${c.dim(`- ${label(s)} (skipped: ${s.reason ?? 'when is false'})`)}`);
        case 'interrupted':
          return line(`${indent(s)}${c.red('✗')} ${label(s)} ${time}: ${c.red('interrupted')}`);
        case 'failed':
          // An automatic rollback that succeeded (exit 3): the step did its job.
          if (s.rolledBack) return line(`${indent(s)}${c.green('✓')} ${label(s)} ${time}${tries}: ${c.yellow(s.reason ?? 'rolled back')}`);
          return line(`${indent(s)}${c.red('✗')} ${label(s)} ${time}${tries}: ${c.red(s.reason ?? 'failed')}${s.continued ? c.dim(' (continue_on_error: going on)') : ''}`);
      }
    },
    async runEnd(run) {
      const time = formatDuration(run.durationMs);
      if (run.status === 'ok') line(c.green(`✓ done in ${time}`));
      else line(c.red(`✗ ${run.status} after ${time}`));
    },
    suspend: () => undefined,
    resume: () => undefined,
  };
}
