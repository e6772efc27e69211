/**
 * The run journal: `.ltc/runs/<run-id>.jsonl`, one JSON event per line, masked. Each event is
 * written with one synchronous append on an O_APPEND descriptor before the engine goes on, so a
 * process killed with SIGKILL leaves every event it wrote readable (the kernel has it). fsync only
 * guards against a power loss: it runs for the run's header, a failed or interrupted step, the
 * run's end, and for other step ends at most once a second (measured: an fsync per step end cost
 * about 10% of a 200-step runbook of `true`, see bench/runbook.mjs).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { randomHex } from '../core/random-hex.js';
import { statFields } from '../core/process-alive.js';
import { join } from 'node:path';
import type { Masker } from '../core/masker.js';
import type { OutputValue } from './step-type.js';

export type StepStatus = 'ok' | 'failed' | 'skipped' | 'interrupted';
export type RunStatus = 'ok' | 'failed' | 'interrupted';
export type Phase = 'main' | 'on_failure';

export interface ErrorInfo {
  code: string;
  exitCode: number;
  message: string;
  hint?: string;
}

export type JournalEvent =
  | {
      t: 'run';
      v: 1;
      runId: string;
      runbook: string;
      title: string;
      file: string;
      sha256: string;
      actor: string;
      inputs: Record<string, OutputValue>;
      argv: string[];
      pid: number;
      /** When that process started (Linux: /proc/<pid>/stat starttime), so a reused pid is not taken for the run. */
      pidStart?: string;
      cwd: string;
      at: string;
      parent?: { runId: string; step: string };
    }
  | { t: 'resume'; at: string; actor: string; pid: number; pidStart?: string; argv: string[]; from: string | null }
  | { t: 'start'; id: string; name: string; type: string; phase: Phase; at: string }
  | { t: 'retry'; id: string; attempt: number; error: string; delayMs: number; at: string }
  | { t: 'log'; id: string; line: string }
  | { t: 'child'; id: string; runId: string }
  | {
      t: 'end';
      id: string;
      status: StepStatus;
      phase: Phase;
      durationMs: number;
      attempts: number;
      outputs: Record<string, OutputValue>;
      /** A failure with continue_on_error: the run went on. */
      continued?: boolean;
      /** Outputs that held a secret (journaled as ***): a resumed run runs the step again. */
      secretOutputs?: string[];
      reason?: string;
      error?: ErrorInfo;
      at: string;
    }
  | { t: 'done'; status: RunStatus; durationMs: number; outputs: Record<string, OutputValue>; error?: ErrorInfo; failedStep?: string; at: string };

const MAX_LOG_LINES_PER_STEP = 2000;

/** When a process started, as the kernel counts it (Linux); undefined where /proc is not there. */
export function processStart(pid: number): string | undefined {
  try {
    return statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[19];
  } catch {
    return undefined;
  }
}
const SYNC_INTERVAL_MS = 1000;

/** `20260301-142501-deploy-a1b2`: sortable by time, names the runbook. */
export function newRunId(runbook: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const slug = runbook.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'run';
  return `${stamp}-${slug}-${randomHex(2)}`;
}

export function runsDir(stateDir: string): string {
  return join(stateDir, 'runs');
}

export function journalFile(stateDir: string, runId: string): string {
  return join(runsDir(stateDir), `${runId}.jsonl`);
}

export class Journal {
  private fd: number | undefined;
  private readonly logLines = new Map<string, number>();
  private lastSync = 0;

  private constructor(
    readonly file: string,
    private readonly masker: Masker,
  ) {}

  /** Opens (creating) the journal for appending. */
  static open(stateDir: string, runId: string, masker: Masker): Journal {
    mkdirSync(runsDir(stateDir), { recursive: true, mode: 0o700 });
    const journal = new Journal(journalFile(stateDir, runId), masker);
    journal.fd = openSync(journal.file, 'a', 0o600);
    return journal;
  }

  write(event: JournalEvent): void {
    if (this.fd === undefined) return;
    if (event.t === 'log') {
      const n = (this.logLines.get(event.id) ?? 0) + 1;
      this.logLines.set(event.id, n);
      if (n > MAX_LOG_LINES_PER_STEP) return;
    }
    writeSync(this.fd, this.masker.mask(JSON.stringify(event)) + '\n');
    if (this.mustSync(event)) {
      fsyncSync(this.fd);
      this.lastSync = performance.now();
    }
  }

  private mustSync(event: JournalEvent): boolean {
    if (event.t === 'run' || event.t === 'resume' || event.t === 'done') return true;
    if (event.t !== 'end') return false;
    return event.status === 'failed' || event.status === 'interrupted' || performance.now() - this.lastSync >= SYNC_INTERVAL_MS;
  }

  /** A run refused before it changed anything (exit 2) leaves no journal behind. */
  discard(): void {
    this.close();
    rmSync(this.file, { force: true });
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
