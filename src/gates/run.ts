/**
 * `ltc gates run` and `ltc gates status`: options in, one call into the engine, the result
 * rendered (listr2 / plain lines / --json), JUnit XML and the GitHub step summary written.
 */
import { appendFile, chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { interruptCause, resolveTarget, runGates, tailLines, type GateReporter } from './engine.js';
import { isBad, junitXml, listrReporter, markdownSummary, plainReporter, statusTable, statusWord, targetName } from './report.js';
import { checkGatesGreen, describeStatus, formatAge, gateDefinitionHash, latestGateResult, readGateResult, resultFile, type GateResult } from './result.js';

export interface GatesRunCliOptions {
  rc?: string;
  ref?: string;
  only?: string[];
  failFast?: boolean;
  junit?: string;
  jobs?: string;
  install?: boolean;
  keep?: boolean;
}

export interface GatesStatusCliOptions {
  rc?: string;
  ref?: string;
}

export const TAIL_LINES = 40;

function parseJobs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`--jobs ${JSON.stringify(value)} is not a whole number from 1 to 256`);
  return n;
}

/** Tails of the logs of the gates (and setup) that failed, masked. */
async function failureTails(result: GateResult, ctx: Context): Promise<Map<string, string[]>> {
  const tails = new Map<string, string[]>();
  if (result.setup.status === 'failed' && result.setup.log) tails.set('setup', (await tailLines(result.setup.log, TAIL_LINES)).map((l) => ctx.masker.mask(l)));
  for (const g of result.gates) {
    if (isBad(g)) tails.set(g.name, (await tailLines(g.log, TAIL_LINES)).map((l) => ctx.masker.mask(l)));
  }
  return tails;
}

/**
 * What the terminal shows of a failed gate's (or the setup's) log: what the command printed, and
 * ltc's notes that its line does not already say. Left out, since the gate's line above says them:
 * the log's header (command, cwd, start), its closing status line and the first line of the reason.
 * (The log file, the JUnit body and --json keep the whole tail.)
 */
async function shownTail(file: string, reason: string | undefined, ctx: Context): Promise<string[]> {
  const lines = await tailLines(file, Number.MAX_SAFE_INTEGER);
  let start = 0;
  // `# ltc gate <name>: <command>` or `# ltc gates setup: npm ci …`
  if (/^# ltc (gate |gates setup: )/.test(lines[0] ?? '')) {
    start = 1;
    if (lines[start]?.startsWith('# cwd: ')) start++;
    if (lines[start]?.startsWith('# started: ')) start++;
  }
  let end = lines.length;
  if (end > start && /^# (passed|failed|timed_out|cancelled|interrupted|not_run)\b.* in \d+ms\b/.test(lines[end - 1]!)) end--;
  const body = lines.slice(start, end);
  const first = reason?.split('\n')[0];
  if (first) {
    for (let i = body.length - 1; i >= 0; i--) {
      if (body[i] === `ltc: ${first}` || body[i] === first) {
        body.splice(i, 1);
        break;
      }
    }
  }
  return body.slice(-TAIL_LINES).map((l) => ctx.masker.mask(l));
}

export async function gatesRun(opts: GatesRunCliOptions, ctx: Context): Promise<CommandResult> {
  const { out } = ctx;
  const jobs = parseJobs(opts.jobs);
  const junitFile = opts.junit ? resolve(ctx.cwd, opts.junit) : undefined;
  if (ctx.options.dryRun) {
    const { gatesPlan } = await import('./plan.js');
    return gatesPlan({ rc: opts.rc, ref: opts.ref, only: opts.only, jobs, install: opts.install !== false, junit: junitFile }, ctx);
  }
  const loaded = await ctx.config();
  const stateDir = await ctx.stateDir();
  // A pseudo-terminal that reports no width (some CI runners, `script` without a size) would
  // make listr2 wrap after every character: plain lines there.
  const useListr = ctx.options.color && !ctx.options.json && Boolean(process.stdout.isTTY) && (process.stdout.columns ?? 0) > 0;
  const reporter: GateReporter & { finish(): Promise<void> } = useListr ? await listrReporter(out, ctx.masker) : plainReporter(out);

  let outcome;
  try {
    outcome = await runGates(
      {
        rc: opts.rc,
        ref: opts.ref,
        only: opts.only,
        failFast: opts.failFast,
        jobs,
        install: opts.install !== false,
        keepWorkTree: opts.keep,
      },
      { loaded, stateDir, signal: ctx.signal, masker: ctx.masker, reporter, env: ctx.env },
    );
  } finally {
    await reporter.finish();
  }
  const { result, file, exitCode } = outcome;
  const tails = await failureTails(result, ctx);

  if (junitFile) {
    await mkdir(dirname(junitFile), { recursive: true, mode: 0o700 });
    // It holds the tails of failed gates' output: readable by this user only (also when it existed).
    await writeFile(junitFile, ctx.masker.mask(junitXml(result, tails)), { mode: 0o600 });
    await chmod(junitFile, 0o600);
  }
  const summaryFile = ctx.env.GITHUB_STEP_SUMMARY;
  if (summaryFile) await appendFile(summaryFile, ctx.masker.mask(markdownSummary(result)) + '\n');

  const lines: string[] = [];
  for (const name of tails.keys()) {
    const rec = name === 'setup' ? result.setup : result.gates.find((g) => g.name === name);
    const log = rec?.log;
    if (!log) continue;
    const shown = await shownTail(log, rec.reason, ctx);
    if (shown.length === 0) lines.push('', out.c.bold(`── ${name}: printed nothing (log: ${log}) ──`));
    else lines.push('', out.c.bold(`── ${name}: last ${shown.length} line${shown.length === 1 ? '' : 's'} of ${log} ──`), ...shown);
  }
  const selected = result.gates.filter((g) => !result.only || result.only.includes(g.name));
  const passed = selected.filter((g) => g.status === 'passed').length;
  const optionalBad = selected.filter((g) => !g.required && isBad(g));
  if (lines.length) lines.push('');
  if (useListr) lines.push(statusTable(out, result));
  for (const g of optionalBad) lines.push(out.c.yellow(`warning: gate ${g.name} ${statusWord(g.status)} (not required, so the run does not fail)`));
  const verdict =
    result.status === 'passed'
      ? out.c.green(`gates passed: ${passed} of ${selected.length}`)
      : result.status === 'incomplete'
        ? out.c.yellow(`selected gates passed: ${passed} of ${selected.length}; the run is incomplete (--only), so it does not count as green`)
        : result.status === 'interrupted'
          ? out.c.yellow(`gates interrupted: ${passed} of ${selected.length} passed before ${outcome.interruptedBy ?? interruptCause(ctx.signal)}`)
          : out.c.red(`gates failed: ${passed} of ${selected.length} passed${result.setup.status === 'failed' ? ' (the setup failed)' : ''}`);
  lines.push(`${verdict} for ${targetName(result)} in ${formatDuration(result.durationMs)} (checkout ${formatDuration(result.checkoutMs)})`);
  lines.push(out.c.dim(`result: ${file}`));
  if (junitFile) lines.push(out.c.dim(`junit: ${junitFile}`));
  if (opts.keep) lines.push(out.c.dim(`work tree kept: ${outcome.workTree}`));

  return {
    exitCode,
    text: lines.join('\n'),
    data: {
      ...result,
      resultFile: file,
      ...(junitFile ? { junit: junitFile } : {}),
      ...(tails.size ? { failureTails: Object.fromEntries(tails) } : {}),
    },
  };
}

export async function gatesStatus(opts: GatesStatusCliOptions, ctx: Context): Promise<CommandResult> {
  const { out } = ctx;
  const loaded = await ctx.config();
  const stateDir = await ctx.stateDir();
  let result: GateResult | undefined;
  let wanted: string;
  if (opts.rc !== undefined || opts.ref !== undefined) {
    const target = await resolveTarget(opts, { loaded, stateDir, signal: ctx.signal });
    result = await readGateResult(stateDir, target.commit);
    wanted = targetName(target);
  } else {
    result = await latestGateResult(stateDir);
    wanted = 'any commit';
  }
  if (!result) {
    const how = opts.rc ? `ltc gates run --rc ${opts.rc}` : opts.ref ? `ltc gates run --ref ${opts.ref}` : 'ltc gates run --rc <tag>';
    return {
      exitCode: 1,
      data: { recorded: false },
      text: `no gate result recorded for ${wanted}\nrun: ${how}`,
    };
  }
  const ended = result.finishedAt ?? result.startedAt;
  const age = Date.now() - Date.parse(ended);
  const changed = result.gates.filter((g) => {
    const now = loaded.config.gates.find((c) => c.name === g.name);
    return !now || gateDefinitionHash(now) !== g.definition;
  });
  const added = loaded.config.gates.filter((c) => !result.gates.some((g) => g.name === c.name));
  const lines = [
    out.c.bold(`gates for ${targetName(result)}: ${result.status}`) + out.c.dim(`  (${result.status === 'running' ? 'started' : 'finished'} ${ended}, ${formatAge(age)} ago)`),
    statusTable(out, result),
    out.c.dim(`result: ${resultFile(stateDir, result.commit)}`),
  ];
  if (result.status !== 'passed') lines.push(`the last run ${describeStatus(result.status)}`);
  if (changed.length || added.length) {
    lines.push(out.c.yellow(`the config changed since this run (${[...changed.map((g) => g.name), ...added.map((g) => `${g.name} (new)`)].join(', ')}): run the gates again`));
  }
  const green = await checkGatesGreen(stateDir, result.commit, Number.POSITIVE_INFINITY, { gates: loaded.config.gates });
  return {
    exitCode: green.green ? 0 : 1,
    text: lines.join('\n'),
    data: { recorded: true, green: green.green, reason: green.reason, ageMs: age, configChanged: changed.length + added.length > 0, resultFile: resultFile(stateDir, result.commit), ...result },
  };
}
