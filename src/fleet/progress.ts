/**
 * Progress of a fleet run per host: in a terminal a listr2 list (one line per host with its
 * phase and, when done, its outcome and time), otherwise plain lines per host. listr2 writes to
 * the terminal itself, so every title is masked here; notes said while the list is live are
 * printed after it.
 */
import { deferred, type Deferred } from '../core/deferred.js';
import { formatDuration } from '../core/duration.js';
import type { Masker } from '../core/masker.js';
import type { Output } from '../core/output.js';

export interface FleetProgress {
  /** The host is in this phase now (upload, build, drain, switch, restart, health, …). */
  phase(host: string, phase: string): void;
  /** The host's part of the run ended. */
  done(host: string, ok: boolean, text: string): void;
  /** A line about the run (a batch, the canary window, a rollback starting). */
  note(text: string, level?: 'info' | 'warn' | 'error'): void;
  finish(): Promise<void>;
}

export function plainProgress(out: Output): FleetProgress {
  return {
    phase: () => undefined,
    done: (host, _ok, text) => out.info(`  ${host}: ${text}`),
    note: (text, level = 'info') => (level === 'warn' ? out.warn(text) : level === 'error' ? out.error(text) : out.info(text)),
    finish: async () => undefined,
  };
}

interface HostItem {
  title: string;
  started: number;
  outcome?: { ok: boolean; title: string };
  done: Deferred;
  task?: { title: string };
}

export async function listrProgress(out: Output, masker: Masker, hosts: string[], heading: string): Promise<FleetProgress> {
  const { Listr } = await import('listr2');
  const notes: Array<{ text: string; level: 'info' | 'warn' | 'error' }> = [];
  const items = new Map<string, HostItem>(hosts.map((h) => [h, { title: `${h} ${out.c.dim('waiting')}`, started: performance.now(), done: deferred() }]));
  const apply = (item: HostItem) => {
    if (item.task) item.task.title = masker.mask(item.outcome?.title ?? item.title);
  };
  out.info(out.c.bold(heading));
  const list = new Listr(
    [...items.entries()].map(([name, item]) => ({
      title: masker.mask(item.title),
      task: async (_ctx: unknown, task: { title: string }) => {
        item.task = task;
        apply(item);
        await item.done.promise;
        apply(item);
        if (item.outcome && !item.outcome.ok) throw new Error(masker.mask(item.outcome.title));
        void name;
      },
    })),
    { concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseErrors: false, showErrorMessage: false } },
  );
  const running = list.run().catch(() => undefined);
  let finished = false;
  const say = (text: string, level: 'info' | 'warn' | 'error') => (level === 'warn' ? out.warn(text) : level === 'error' ? out.error(text) : out.info(text));
  return {
    phase(host, phase) {
      const item = items.get(host);
      if (!item || item.outcome) return;
      item.title = `${host} ${out.c.dim(`${phase} (${formatDuration(performance.now() - item.started)})`)}`;
      apply(item);
    },
    done(host, ok, text) {
      const item = items.get(host);
      if (!item) return;
      // A host may end twice (switched, then rolled back): the last word stands.
      item.outcome = { ok, title: `${host}: ${text} ${out.c.dim(formatDuration(performance.now() - item.started))}` };
      apply(item);
      item.done.resolve();
    },
    note(text, level = 'info') {
      if (finished) say(text, level);
      else notes.push({ text, level });
    },
    async finish() {
      if (finished) return;
      finished = true;
      for (const [host, item] of items) {
        if (!item.outcome) {
          item.outcome = { ok: true, title: `${host}: ${out.c.dim('not switched')}` };
          apply(item);
        }
        item.done.resolve();
      }
      await running;
      for (const n of notes.splice(0)) say(n.text, n.level);
    },
  };
}
