/**
 * `ltc gates run --dry-run`: the tag resolved (git ls-remote only reads), the checkout, setup and
 * every gate with its command, cwd, batch and timeout; nothing is checked out, run or written.
 */
import { join } from 'node:path';
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { displayCommand } from '../exec/command.js';
import { isCommitSha } from '../git/refs.js';
import { batchGates, gateArgv, prepareGates, resolveTarget } from './engine.js';
import { resultFile } from './result.js';

export interface GatesPlanOptions {
  rc?: string;
  ref?: string;
  only?: string[];
  jobs?: number;
  install: boolean;
  junit?: string;
}

export async function gatesPlan(opts: GatesPlanOptions, ctx: Context): Promise<CommandResult> {
  const loaded = await ctx.config();
  const stateDir = await ctx.stateDir();
  const { gates, selected, jobs } = prepareGates(loaded, opts.only, opts.jobs);
  // A commit id would need the mirror (a write) to be resolved: it is shown as given.
  const target =
    opts.ref !== undefined && isCommitSha(opts.ref) && opts.rc === undefined
      ? { commit: opts.ref, ref: opts.ref, repo: loaded.config.app.repo }
      : await resolveTarget({ rc: opts.rc, ref: opts.ref }, { loaded, stateDir, signal: ctx.signal });
  const mask = (s: string) => ctx.masker.mask(s);
  const planned = gates.filter((g) => selected.has(g.name));
  const batches = batchGates(planned);
  const steps = planned.map((g) => ({
    name: g.name,
    command: mask(displayCommand(gateArgv(g).argv)),
    cwd: g.cwd ?? '.',
    parallel: g.parallel,
    required: g.required,
    timeout: g.timeout,
    batch: batches.findIndex((b) => b.includes(g)) + 1,
  }));
  const workTree = join(stateDir, 'work', target.commit);
  const data = {
    dryRun: true,
    commit: target.commit,
    ...(target.ref ? { ref: target.ref } : {}),
    repo: mask(target.repo),
    workTree,
    install: opts.install ? 'npm ci, when the checkout has a package-lock.json' : 'skipped (--no-install)',
    jobs,
    gates: steps,
    notSelected: gates.filter((g) => !selected.has(g.name)).map((g) => g.name),
    resultFile: resultFile(stateDir, target.commit),
    ...(opts.junit ? { junit: opts.junit } : {}),
  };
  const text = [
    `Plan for ltc gates run on ${opts.rc ?? target.ref ?? target.commit} (commit ${target.commit.slice(0, 12)}) — dry run, nothing is checked out, run or written`,
    `1. checkout into ${workTree} (git clone --shared of the mirror in ${join(stateDir, 'cache')})`,
    `2. setup: ${data.install}`,
    ...batches.map((b, i) => {
      const head = `${i + 3}. ${b.length > 1 ? `together (at most ${jobs} at once)` : 'gate'}:`;
      return [head, ...b.map((g) => {
        const s = steps.find((x) => x.name === g.name)!;
        return `     ${s.name}: ${s.command}${s.cwd !== '.' ? ` (in ${s.cwd})` : ''}, timeout ${s.timeout}${s.required ? '' : ', not required'}`;
      })].join('\n');
    }),
    ...(data.notSelected.length ? [`not selected (--only): ${data.notSelected.join(', ')}`] : []),
    `result: ${data.resultFile}${opts.junit ? `; JUnit: ${opts.junit}` : ''}`,
  ].join('\n');
  return { data, text };
}
