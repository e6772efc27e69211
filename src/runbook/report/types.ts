/** What the engine tells a renderer. Renderers only print; they never decide anything. */
import type { Phase, RunStatus, StepStatus } from '../journal.js';

export interface StepView {
  /** For steps of a called runbook: `<caller step>/<step>`. */
  id: string;
  name: string;
  type: string;
  phase: Phase;
  /** 0 for the run's own steps, 1 for the steps of a runbook it calls, … */
  depth: number;
}

export interface StepEndView extends StepView {
  /** `resumed`: done in an earlier attempt of this run, not run again. */
  status: StepStatus | 'resumed';
  durationMs: number;
  attempts: number;
  summary?: string;
  /** Why it failed, or why it was skipped. */
  reason?: string;
  continued?: boolean;
  /** The step failed because it rolled back (exit 3) — and the rollback itself succeeded. */
  rolledBack?: boolean;
}

export interface RunStartView {
  runId: string | null;
  runbook: string;
  title: string;
  /** The top-level steps, in order (listr declares them up front). */
  steps: StepView[];
  resumedFrom?: string;
}

export interface RunEndView {
  status: RunStatus;
  durationMs: number;
}

export interface Reporter {
  runStart(run: RunStartView): void;
  stepStart(step: StepView): void;
  stepLog(step: StepView, line: string): void;
  stepRetry(step: StepView, attempt: number, attempts: number, reason: string, delayMs: number): void;
  stepEnd(step: StepEndView): void;
  runEnd(run: RunEndView): Promise<void>;
  /** Stop drawing while a person answers a prompt (resolves once the screen is free); `resume` redraws. */
  suspend(): void | Promise<void>;
  resume(): void;
}

/**
 * What steps print and why they failed come from outside ltc (a build's output, an HTTP body in a
 * health condition's message): escaped, so that an escape sequence in them cannot clear the
 * screen, recolour or overwrite a line of the report.
 */
export function printableReporter(inner: Reporter, escape: (text: string) => string): Reporter {
  const end = (s: StepEndView): StepEndView => ({
    ...s,
    ...(s.reason !== undefined ? { reason: escape(s.reason) } : {}),
    ...(s.summary !== undefined ? { summary: escape(s.summary) } : {}),
  });
  return {
    runStart: (r) => inner.runStart(r),
    stepStart: (s) => inner.stepStart(s),
    stepLog: (s, line) => inner.stepLog(s, escape(line)),
    stepRetry: (s, a, n, r, d) => inner.stepRetry(s, a, n, escape(r), d),
    stepEnd: (s) => inner.stepEnd(end(s)),
    runEnd: (r) => inner.runEnd(r),
    suspend: () => inner.suspend(),
    resume: () => inner.resume(),
  };
}

/** Prefixes the ids of a called runbook's steps (the engine already runs them one level deeper). */
export function nestedReporter(parent: Reporter, prefix: string): Reporter {
  const wrap = <T extends StepView>(s: T): T => ({ ...s, id: `${prefix}/${s.id}` });
  return {
    runStart: () => undefined,
    stepStart: (s) => parent.stepStart(wrap(s)),
    stepLog: (s, line) => parent.stepLog(wrap(s), line),
    stepRetry: (s, a, n, r, d) => parent.stepRetry(wrap(s), a, n, r, d),
    stepEnd: (s) => parent.stepEnd(wrap(s)),
    runEnd: async () => undefined,
    suspend: () => parent.suspend(),
    resume: () => parent.resume(),
  };
}
