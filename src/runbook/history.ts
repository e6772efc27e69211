/**
 * Reads run journals back: the history for `ltc runbook runs` and the state `resume` continues
 * from. A torn last line (the process died mid-write) is ignored.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { pidAlive } from '../core/process-alive.js';
import { didYouMean } from '../core/suggest.js';
import { journalFile, processStart, runsDir, type ErrorInfo, type JournalEvent, type Phase, type StepStatus } from './journal.js';
import type { OutputValue } from './step-type.js';
import { byText } from '../core/text-order.js';

export type HistoryStatus = 'ok' | 'failed' | 'interrupted' | 'running' | 'killed';

export interface StepState {
  status: StepStatus;
  outputs: Record<string, OutputValue>;
  continued: boolean;
  phase: Phase;
  durationMs: number;
  /** Outputs that held a secret: journaled as ***, so the step must run again to have them. */
  secretOutputs: string[];
}

/**
 * A step finished in an earlier attempt of this run and is not run again on resume: it passed,
 * was skipped, or failed with continue_on_error. A step whose outputs held a secret is run again:
 * the journal keeps *** in their place, and the secret must be loaded (and masked) again.
 */
export function doneEarlier(state: StepState | undefined): boolean {
  if (!state || state.phase !== 'main' || state.secretOutputs.length) return false;
  return state.status === 'ok' || state.status === 'skipped' || (state.status === 'failed' && state.continued);
}

export interface RunHistory {
  runId: string;
  journal: string;
  header: Extract<JournalEvent, { t: 'run' }>;
  resumes: Array<Extract<JournalEvent, { t: 'resume' }>>;
  /** The latest end of each step. */
  steps: Map<string, StepState>;
  /** A step that started and never ended (the process died in it). */
  openStep?: string;
  /** Child runs started by `runbook` steps, by step id (the latest). */
  children: Map<string, string>;
  status: HistoryStatus;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  failedStep?: string;
  error?: ErrorInfo;
}

/**
 * Is the process that wrote the journal still running? A pid since reused by another process is
 * not, nor one killed and not reaped yet (a zombie keeps its /proc entry and start time).
 */
function alive(pid: number, started: string | undefined): boolean {
  if (pid !== process.pid && !pidAlive(pid)) return false;
  if (started !== undefined) {
    const now = processStart(pid);
    if (now !== undefined || existsSync('/proc/self/stat')) return now === started;
  }
  return true;
}

export function parseJournal(file: string, runId: string): RunHistory | undefined {
  const events: JournalEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as JournalEvent);
    } catch {
      /* a torn last line */
    }
  }
  const header = events.find((e): e is Extract<JournalEvent, { t: 'run' }> => e.t === 'run');
  if (!header) return undefined;
  const history: RunHistory = { runId, journal: file, header, resumes: [], steps: new Map(), children: new Map(), status: 'running', startedAt: header.at };
  let pid = header.pid;
  let pidStart = header.pidStart;
  let open: string | undefined;
  let done: Extract<JournalEvent, { t: 'done' }> | undefined;
  for (const e of events) {
    switch (e.t) {
      case 'resume':
        history.resumes.push(e);
        pid = e.pid;
        pidStart = e.pidStart;
        done = undefined;
        open = undefined;
        break;
      case 'start':
        open = e.id;
        break;
      case 'end':
        history.steps.set(e.id, { status: e.status, outputs: e.outputs, continued: e.continued === true, phase: e.phase, durationMs: e.durationMs, secretOutputs: e.secretOutputs ?? [] });
        if (open === e.id) open = undefined;
        break;
      case 'child':
        history.children.set(e.id, e.runId);
        break;
      case 'done':
        done = e;
        break;
    }
  }
  if (done) {
    history.status = done.status;
    history.endedAt = done.at;
    history.durationMs = new Date(done.at).getTime() - new Date(header.at).getTime();
    if (done.failedStep) history.failedStep = done.failedStep;
    if (done.error) history.error = done.error;
  } else {
    history.status = alive(pid, pidStart) ? 'running' : 'killed';
    if (open) history.openStep = open;
  }
  return history;
}

/** Every run in the state dir, newest first. */
export function listRunHistory(stateDir: string): RunHistory[] {
  const dir = runsDir(stateDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .map((f) => parseJournal(join(dir, f), f.slice(0, -'.jsonl'.length)))
    .filter((h): h is RunHistory => h !== undefined)
    .sort((a, b) => byText(b.startedAt, a.startedAt) || byText(b.runId, a.runId));
}

export function readRunHistory(stateDir: string, runId: string): RunHistory {
  const file = journalFile(stateDir, runId);
  const history = existsSync(file) ? parseJournal(file, runId) : undefined;
  if (!history) {
    const known = listRunHistory(stateDir).map((h) => h.runId);
    throw new UsageError(`no run "${runId}" in ${runsDir(stateDir)}`, {
      hint: didYouMean(runId, known) ?? 'list runs with `ltc runbook runs`',
    });
  }
  return history;
}
