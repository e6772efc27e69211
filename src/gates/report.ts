/**
 * Rendering of gate runs: plain progress lines, a listr2 list (TTY), JUnit XML, a Markdown
 * summary table (GITHUB_STEP_SUMMARY) and the status table.
 */
import { deferred, type Deferred } from '../core/deferred.js';
import { hostname } from 'node:os';
import { formatDuration } from '../core/duration.js';
import { processMasker, type Masker } from '../core/masker.js';
import { printableOutput } from '../core/printable.js';
import type { Output } from '../core/output.js';
import type { GateReporter, GateRunTarget } from './engine.js';
import type { GateRecord, GateResult, GateStatus } from './result.js';

const STATUS_WORD: Record<GateStatus, string> = {
  passed: 'passed',
  failed: 'failed',
  timed_out: 'timed out',
  cancelled: 'cancelled',
  not_run: 'not run',
  interrupted: 'interrupted',
};

export function statusWord(s: GateStatus): string {
  return STATUS_WORD[s];
}

/**
 * A gate's status with the first line of its reason, said once: a reason that already starts
 * with the status word ("not run: interrupted") is not prefixed again.
 */
export function outcomeText(rec: Pick<GateRecord, 'status' | 'reason'>): string {
  const word = STATUS_WORD[rec.status];
  const first = rec.reason?.split('\n')[0];
  if (!first) return word;
  return first.toLowerCase().startsWith(word) ? first : `${word}: ${first}`;
}

export function isBad(rec: GateRecord): boolean {
  return rec.status === 'failed' || rec.status === 'timed_out' || rec.status === 'interrupted';
}

function colour(out: Output, status: string, text: string): string {
  if (status === 'passed') return out.c.green(text);
  if (status === 'failed' || status === 'timed_out' || status === 'timed out') return out.c.red(text);
  if (status === 'interrupted' || status === 'cancelled') return out.c.yellow(text);
  return out.c.dim(text);
}

function targetName(t: { tag?: string; ref?: string; commit: string }): string {
  const short = t.commit.slice(0, 12);
  if (t.tag) return `${t.tag} (${short})`;
  if (t.ref && t.ref !== 'HEAD') return `${t.ref.replace(/^refs\/heads\//, '')} (${short})`;
  if (t.ref === 'HEAD') return `HEAD (${short})`;
  return short;
}

/** One aligned line per event; for pipes, CI logs and NO_COLOR. */
export function plainReporter(out: Output): GateReporter & { finish(): Promise<void> } {
  let width = 10;
  const line = (name: string, status: string, ms: number | undefined, detail = '') =>
    out.print(
      `${name.padEnd(width)}  ${colour(out, status, status.padEnd(11))} ${ms === undefined ? '       ' : formatDuration(ms).padStart(7)}${detail ? `  ${detail}` : ''}`.trimEnd(),
    );
  return {
    resolved(t: GateRunTarget) {
      width = Math.max(10, ...t.gates.map((g) => g.name.length));
      out.print(out.c.bold(`gates for ${targetName(t)}: ${t.gates.map((g) => g.name).join(', ')}`));
    },
    phaseEnd(phase, status, ms, detail) {
      line(phase, status, status === 'skipped' ? undefined : ms, detail);
    },
    gateStart(g) {
      line(g.name, 'started', undefined, out.c.dim(g.command));
    },
    gateEnd(g) {
      const detail = g.status === 'passed' ? '' : printableOutput(g.reason?.split('\n')[0] ?? (g.exitCode !== null ? `exit ${g.exitCode}` : ''));
      line(g.name, statusWord(g.status), g.startedAt ? g.durationMs : undefined, `${detail}${!g.required && isBad(g) ? ' (not required)' : ''}`);
    },
    warning(text) {
      out.warn(text);
    },
    async finish() {},
  };
}

interface ListrItem {
  name: string;
  title: string;
  output?: string;
  outcome?: { kind: 'ok' | 'fail' | 'skip'; title: string };
  done: Deferred;
  task?: { title: string; output: string; skip(message?: string): void };
}

/**
 * A listr2 list with live status and durations (TTY with colour). listr2 is imported here,
 * lazily; it only renders: the engine decides what runs when. listr2 writes to the terminal
 * itself, not through Output, so every title and output line is masked here before it gets them.
 */
export async function listrReporter(out: Output, masker: Masker = processMasker): Promise<GateReporter & { finish(): Promise<void> }> {
  const { Listr } = await import('listr2');
  const items = new Map<string, ListrItem>();
  let running: Promise<unknown> | undefined;
  const mask = (text: string) => masker.mask(text);

  const apply = (item: ListrItem) => {
    if (!item.task) return;
    item.task.title = mask(item.outcome?.title ?? item.title);
    if (item.output !== undefined && !item.outcome) item.task.output = mask(item.output);
  };
  const settle = (name: string, kind: 'ok' | 'fail' | 'skip', title: string) => {
    const item = items.get(name);
    if (!item || item.outcome) return;
    item.outcome = { kind, title };
    apply(item);
    item.done.resolve();
  };
  const update = (name: string, title?: string, output?: string) => {
    const item = items.get(name);
    if (!item || item.outcome) return;
    if (title !== undefined) item.title = title;
    if (output !== undefined) item.output = output;
    apply(item);
  };

  return {
    resolved(t) {
      out.print(out.c.bold(`gates for ${targetName(t)}`));
      for (const name of ['checkout', 'setup', ...t.gates.map((g) => g.name)]) {
        items.set(name, { name, title: `${name} ${out.c.dim('waiting')}`, done: deferred() });
      }
      const list = new Listr(
        [...items.values()].map((item) => ({
          title: mask(item.title),
          rendererOptions: { outputBar: 1 },
          task: async (_ctx: unknown, task: ListrItem['task'] & object) => {
            item.task = task;
            apply(item);
            await item.done.promise;
            apply(item);
            if (item.outcome?.kind === 'fail') throw new Error(mask(item.outcome.title));
            if (item.outcome?.kind === 'skip') task.skip(mask(item.outcome.title));
          },
        })),
        {
          concurrent: true,
          exitOnError: false,
          registerSignalListeners: false,
          rendererOptions: { collapseErrors: false, showErrorMessage: true },
        },
      );
      running = list.run().catch(() => undefined);
    },
    phaseStart(phase, detail) {
      update(phase, `${phase} ${out.c.dim(detail)}`);
    },
    phaseEnd(phase, status, ms, detail) {
      const title = `${phase} ${out.c.dim(status === 'skipped' ? detail ?? 'skipped' : formatDuration(ms))}`;
      settle(phase, status === 'passed' ? 'ok' : status === 'skipped' ? 'skip' : 'fail', status === 'failed' ? `${phase} failed${detail ? `: ${detail}` : ''}` : title);
    },
    gateStart(g) {
      update(g.name, `${g.name} ${out.c.dim(g.command)}`, 'running');
    },
    gateLine(name, text) {
      // Escaped: a gate's output (a test runner's colours, a hostile escape sequence) must not redraw the list.
      update(name, undefined, printableOutput(text.slice(0, 200)));
    },
    gateEnd(g) {
      const time = g.startedAt ? ` ${formatDuration(g.durationMs)}` : '';
      if (g.status === 'passed') settle(g.name, 'ok', `${g.name}${out.c.dim(time)}`);
      else if (g.status === 'not_run' || g.status === 'cancelled') settle(g.name, 'skip', `${g.name} ${outcomeText(g)}`);
      else settle(g.name, 'fail', `${g.name} ${statusWord(g.status)}${time}${g.reason ? `: ${printableOutput(g.reason.split('\n')[0]!)}` : ''}${g.required ? '' : ' (not required)'}`);
    },
    warning(text) {
      out.warn(text);
    },
    done(result) {
      settle('checkout', 'skip', 'checkout not done');
      settle('setup', 'skip', 'setup not run');
      for (const g of result.gates) if (items.has(g.name)) settle(g.name, 'skip', `${g.name} ${outcomeText(g)}`);
    },
    async finish() {
      await running;
    },
  };
}

function xmlEscape(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
      // eslint-disable-next-line no-control-regex
      .replace(/[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd]/gu, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/**
 * JUnit XML (the subset every CI reads): one testsuite, one testcase per gate. A setup (`npm ci`)
 * that failed or was interrupted is a testcase of its own (`setup`, first), with its failure and
 * log tail: else a CI would read "no failures, every gate skipped" for a run that failed.
 */
export function junitXml(result: GateResult, tails: ReadonlyMap<string, string[]>): string {
  const setupBad = result.setup.status === 'failed' || result.setup.status === 'interrupted';
  const setupCase: GateRecord | undefined = setupBad
    ? {
        name: 'setup',
        status: result.setup.status === 'failed' ? 'failed' : 'interrupted',
        required: true,
        parallel: false,
        command: result.setup.command ?? '',
        exitCode: null,
        durationMs: result.setup.durationMs,
        log: result.setup.log ?? '',
        ...(result.setup.reason ? { reason: result.setup.reason } : {}),
        definition: '',
      }
    : undefined;
  const cases = setupCase ? [setupCase, ...result.gates] : result.gates;
  const count = (pred: (g: GateRecord) => boolean) => cases.filter(pred).length;
  const failures = count((g) => g.status === 'failed' || g.status === 'timed_out');
  const errors = count((g) => g.status === 'interrupted');
  const skipped = count((g) => g.status === 'cancelled' || g.status === 'not_run');
  const suiteName = `ltc gates ${targetName(result)}`;
  const attrs = `tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(result.durationMs)}"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="ltc gates" ${attrs}>`,
    `  <testsuite name="${xmlEscape(suiteName)}" ${attrs} timestamp="${xmlEscape(result.startedAt)}" hostname="${xmlEscape(hostname())}">`,
    '    <properties>',
    `      <property name="commit" value="${xmlEscape(result.commit)}"/>`,
    ...(result.tag ? [`      <property name="tag" value="${xmlEscape(result.tag)}"/>`] : []),
    ...(result.ref ? [`      <property name="ref" value="${xmlEscape(result.ref)}"/>`] : []),
    `      <property name="status" value="${xmlEscape(result.status)}"/>`,
    '    </properties>',
  ];
  for (const g of cases) {
    const open = `    <testcase name="${xmlEscape(g.name)}" classname="${g === setupCase ? 'gates.setup' : 'gates'}" time="${seconds(g.durationMs)}"`;
    const message = xmlEscape(`${outcomeText(g)}${g.required ? '' : ' (not required)'}`);
    const body = xmlEscape((tails.get(g === setupCase ? 'setup' : g.name) ?? []).join('\n'));
    if (g.status === 'passed') lines.push(`${open}/>`);
    else if (g.status === 'failed' || g.status === 'timed_out') lines.push(`${open}>`, `      <failure message="${message}" type="${g.status}">${body}</failure>`, '    </testcase>');
    else if (g.status === 'interrupted') lines.push(`${open}>`, `      <error message="${message}" type="interrupted">${body}</error>`, '    </testcase>');
    else lines.push(`${open}>`, `      <skipped message="${message}"/>`, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

function mdCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

const MD_ICON: Record<GateStatus, string> = {
  passed: '✅',
  failed: '❌',
  timed_out: '⏱️',
  cancelled: '⏹️',
  not_run: '➖',
  interrupted: '⚠️',
};

/** The GitHub step summary: a heading and one table row per gate. */
export function markdownSummary(result: GateResult): string {
  const rows = result.gates.map(
    (g) =>
      `| ${mdCell(g.name)} | ${MD_ICON[g.status]} ${statusWord(g.status)} | ${g.exitCode ?? ''} | ${g.startedAt ? formatDuration(g.durationMs) : ''} | ${g.required ? 'yes' : 'no'} | ${mdCell(g.reason?.split('\n')[0] ?? '')} |`,
  );
  return [
    `### ltc gates: ${mdCell(targetName(result))}: ${result.status}`,
    '',
    '| gate | status | exit | duration | required | note |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Commit \`${result.commit}\`, checkout ${formatDuration(result.checkoutMs)}, setup ${result.setup.status}${result.setup.durationMs ? ` ${formatDuration(result.setup.durationMs)}` : ''}, total ${formatDuration(result.durationMs)}.`,
    '',
  ].join('\n');
}

/** The status table (`ltc gates status` and the end of `ltc gates run`). */
export function statusTable(out: Output, result: GateResult): string {
  const width = Math.max(10, ...result.gates.map((g) => g.name.length));
  const lines = result.gates.map((g) => {
    const exit = g.exitCode === null ? '' : `exit ${g.exitCode}`;
    return `  ${g.name.padEnd(width)}  ${colour(out, g.status, statusWord(g.status).padEnd(11))} ${(g.startedAt ? formatDuration(g.durationMs) : '').padStart(7)}  ${exit.padEnd(8)}${g.required ? '' : ' (not required)'}`.trimEnd();
  });
  return lines.join('\n');
}

export { targetName };
