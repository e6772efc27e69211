/**
 * The TTY renderer: a listr2 task per top-level step, with durations and retries. Steps of
 * on_failure and of called runbooks appear as lines under the step they belong to. listr2 is
 * imported only here, only in a TTY.
 */
import { formatDuration } from '../../core/duration.js';
import type { Output } from '../../core/output.js';
import { label } from './plain.js';
import type { Reporter, RunStartView, StepEndView, StepView } from './types.js';

interface TaskHandle {
  title: string;
  output: string;
  skip(message?: string): void;
}

interface Slot {
  view: StepView;
  handle?: TaskHandle;
  title: string;
  /** Lines not yet handed to listr (each assignment to task.output adds one entry to its output). */
  pending: string[];
  settle?: (outcome: Outcome) => void;
  /** Known at the step's end; applied at the next top-level step (on_failure lines may follow). */
  outcome?: Outcome;
  /** Applied to the listr task. */
  final?: Outcome;
}

type Outcome = { kind: 'ok'; title: string } | { kind: 'skip'; message: string } | { kind: 'fail'; message: string };

/** The parts of listr2's default renderer used to pause drawing around a prompt. */
interface PausableRenderer {
  spinner?: { stop(): void; start(cb: () => void): void };
  updater?: { clear(): void };
  logger?: { process?: { hijack(): void; release(): void } };
  update?(): void;
  /** Redraws on every task event; detached while paused, or a frame lands in the prompt. */
  refresh?: () => void;
  events?: { on(event: string, fn: () => void): void; off(event: string, fn: () => void): void };
}

const REFRESH = 'SHOUD_REFRESH_RENDER'; // sic: listr2's event name

/** The most lines kept under one step (older ones scroll away). */
const OUTPUT_LINES = 20;

/**
 * listr2 writes to the terminal itself, not through Output: every text handed to it is masked
 * here (the engine masks too; this is the last door).
 */
export async function listrReporter(out: Output, mask: (text: string) => string): Promise<Reporter> {
  const { Listr, PRESET_TIMER } = await import('listr2');
  const { c } = out;
  const slots = new Map<string, Slot>();
  let order: Slot[] = [];
  let current: Slot | undefined;
  let listr: InstanceType<typeof Listr> | undefined;
  let running: Promise<unknown> | undefined;
  let suspended = false;
  // listr2 sets its renderer up asynchronously; a prompt must wait for it or the first frame
  // is drawn over the question.
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const retitle = (slot: Slot) => {
    if (slot.handle) slot.handle.title = mask(slot.title);
  };
  const flush = (slot: Slot) => {
    if (!slot.handle) return;
    for (const line of slot.pending.splice(0)) slot.handle.output = mask(line);
  };
  const finish = (slot: Slot | undefined, outcome: Outcome) => {
    if (!slot || slot.final) return;
    slot.final = outcome;
    slot.settle?.(outcome);
  };
  const addLine = (text: string) => {
    if (!current) return;
    current.pending.push(text);
    flush(current);
  };

  return {
    runStart(run: RunStartView) {
      order = run.steps.map((view) => ({ view, title: label(view), pending: [] }));
      for (const slot of order) slots.set(slot.view.id, slot);
      listr = new Listr(
        order.map((slot) => ({
          title: mask(slot.title),
          rendererOptions: { persistentOutput: true, outputBar: OUTPUT_LINES },
          task: (_ctx: unknown, task: TaskHandle) =>
            new Promise<void>((resolve, reject) => {
              markReady();
              slot.handle = task;
              retitle(slot);
              flush(slot);
              const settle = (o: Outcome) => {
                if (o.kind === 'ok') {
                  task.title = mask(o.title);
                  resolve();
                } else if (o.kind === 'skip') {
                  task.skip(mask(o.message));
                  resolve();
                } else reject(new Error(mask(o.message)));
              };
              if (slot.final) settle(slot.final);
              else slot.settle = settle;
            }),
        })),
        {
          concurrent: false,
          exitOnError: false,
          registerSignalListeners: false,
          rendererOptions: { timer: PRESET_TIMER, collapseErrors: false, showErrorMessage: true, collapseSkips: true },
        },
      );
      running = listr.run().catch(() => undefined);
    },
    stepStart(s) {
      const slot = s.depth === 0 && s.phase === 'main' ? slots.get(s.id) : undefined;
      if (slot) {
        if (current && current !== slot) finish(current, current.outcome ?? { kind: 'ok', title: current.title });
        current = slot;
        return;
      }
      addLine(c.dim(`${'  '.repeat(s.depth)}${s.phase === 'on_failure' ? '↳ on_failure ' : ''}… ${label(s)}`));
    },
    stepLog(_s, text) {
      addLine(c.dim(text));
    },
    stepRetry(s, attempt, attempts, reason, delayMs) {
      if (current && s.id === current.view.id) {
        current.title = `${label(s)} ${c.yellow(`(retry ${attempt}/${attempts} in ${formatDuration(delayMs)}: ${reason})`)}`;
        retitle(current);
      } else addLine(c.yellow(`↻ ${s.id} retry ${attempt}/${attempts}: ${reason}`));
    },
    stepEnd(s: StepEndView) {
      const slot = s.depth === 0 && s.phase === 'main' ? slots.get(s.id) : undefined;
      const tries = s.attempts > 1 ? ` (${s.attempts} attempts)` : '';
      if (slot) {
        if (current && current !== slot) finish(current, current.outcome ?? { kind: 'ok', title: current.title });
        current = slot;
        if (s.status === 'resumed') return finish(slot, { kind: 'skip', message: `${label(s)} (done in the earlier attempt)` });
        if (s.status === 'skipped') return finish(slot, { kind: 'skip', message: `${label(s)} (skipped: ${s.reason ?? 'when is false'})` });
        const title = `${label(s)}${tries}${s.summary ? c.dim(` ${s.summary}`) : ''}`;
        // The outcome is settled at the next top-level step (on_failure lines may still come).
        slot.title = title;
        retitle(slot);
        slot.outcome =
          s.status === 'ok' || s.continued
            ? { kind: 'ok', title: s.continued ? `${title} ${c.yellow(`(failed, continued: ${s.reason})`)}` : title }
            : { kind: 'fail', message: `${label(s)} ${c.dim(formatDuration(s.durationMs))}${tries}: ${s.reason ?? s.status}` };
        return;
      }
      const mark = s.status === 'ok' || s.status === 'resumed' || s.rolledBack ? c.green('✓') : s.status === 'skipped' ? c.dim('-') : c.red('✗');
      addLine(`${'  '.repeat(s.depth)}${s.phase === 'on_failure' ? '↳ on_failure ' : ''}${mark} ${label(s)} ${c.dim(formatDuration(s.durationMs))}${s.reason && s.status !== 'ok' ? `: ${s.reason}` : ''}`);
    },
    async runEnd() {
      for (const slot of order) {
        finish(slot, slot.outcome ?? (slot === current ? { kind: 'ok', title: slot.title } : { kind: 'skip', message: `${slot.title} (not run)` }));
      }
      await running;
    },
    async suspend() {
      if (!listr) return;
      await ready;
      const r = (listr as unknown as { renderer?: PausableRenderer } | undefined)?.renderer;
      if (suspended || !r?.spinner || !r.updater || !r.logger?.process) return;
      suspended = true;
      r.spinner.stop();
      if (r.refresh) r.events?.off(REFRESH, r.refresh);
      r.updater.clear();
      r.logger.process.release();
    },
    resume() {
      const r = (listr as unknown as { renderer?: PausableRenderer } | undefined)?.renderer;
      if (!suspended || !r?.spinner || !r.logger?.process) return;
      suspended = false;
      r.logger.process.hijack();
      if (r.refresh) r.events?.on(REFRESH, r.refresh);
      r.spinner.start(() => r.update?.());
    },
  };
}
