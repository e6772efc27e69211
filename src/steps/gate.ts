/**
 * `gate` step: "the gates are green for this commit, not older than max_age; else run them".
 *
 *   - id: gates
 *     gate:
 *       rc: ${{ inputs.rc }}
 *       max_age: 12h          # a passed run older than this does not count
 *       if_not_green: run     # or: fail (only require, never run)
 */
import { z } from 'zod';
import { duration } from '../config/schema/common.js';
import { CheckFailedError, InterruptedError, UsageError } from '../core/errors.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { defineStep } from '../runbook/step-type.js';
import type { GateReporter } from '../gates/engine.js';

const schema = z
  .strictObject({
    rc: z.string().min(1).optional().describe('release candidate tag (must match app.tag_pattern)'),
    ref: z.string().min(1).optional().describe('a branch, tag or commit instead of rc'),
    max_age: duration.default('24h').describe('a passed gate run older than this does not count'),
    if_not_green: z.enum(['run', 'fail']).default('run').describe('run the gates when they are not green (default), or fail'),
    fail_fast: z.boolean().default(false).describe('when running: end the other gates when a required gate fails'),
  })
  .describe('require green gates for a commit (recorded by `ltc gates run`), running them when needed');

type GateSpec = z.output<typeof schema>;

function describeTarget(spec: GateSpec): string {
  return spec.rc ? `rc ${spec.rc}` : spec.ref ? `ref ${spec.ref}` : 'HEAD of the app repo';
}

function logReporter(log: (line: string) => void): GateReporter {
  return {
    resolved: (t) => log(`gates for ${t.tag ?? t.ref ?? 'HEAD'} (${t.commit.slice(0, 12)}): ${t.gates.map((g) => g.name).join(', ')}`),
    phaseEnd: (phase, status, ms, detail) => log(`${phase} ${status}${status === 'skipped' ? '' : ` in ${formatDuration(ms)}`}${detail ? `: ${detail}` : ''}`),
    gateStart: (g) => log(`${g.name} started: ${g.command}`),
    warning: (text) => log(`warning: ${text}`),
    gateEnd: (g) => log(`${g.name} ${g.status}${g.startedAt ? ` in ${formatDuration(g.durationMs)}` : ''}${g.reason ? `: ${g.reason.split('\n')[0]}` : ''}`),
  };
}

export default defineStep({
  name: 'gate',
  description: 'require green gates for a commit, not older than max_age; else run them (`ltc gates run`)',
  schema,
  outputs: ['commit', 'status', 'ran', 'result_file'],
  plan(spec) {
    if (spec.rc && spec.ref) throw new UsageError('gate: give rc or ref, not both');
    const age = typeof spec.max_age === 'number' ? `${spec.max_age}ms` : spec.max_age;
    return [
      {
        action: 'gate',
        detail: `require gates green for ${describeTarget(spec)} (passed within ${age})${spec.if_not_green === 'run' ? ', else run them in a clean checkout' : ', else fail'}`,
        writes: spec.if_not_green === 'run',
      },
    ];
  },
  async run(spec, step) {
    const { ctx } = step;
    const { resolveTarget, runGates } = await import('../gates/engine.js');
    const { checkGatesGreen, resultFile } = await import('../gates/result.js');
    const loaded = await ctx.config();
    const stateDir = await ctx.stateDir();
    const maxAgeMs = parseDuration(spec.max_age, 'gate.max_age');
    const target = await resolveTarget({ rc: spec.rc, ref: spec.ref, names: { rc: 'gate.rc', ref: 'gate.ref' } }, { loaded, stateDir, signal: step.signal });
    const short = target.commit.slice(0, 12);
    const check = await checkGatesGreen(stateDir, target.commit, maxAgeMs, { gates: loaded.config.gates });
    const file = resultFile(stateDir, target.commit);
    if (check.green) {
      step.log(check.reason);
      return { outputs: { commit: target.commit, status: 'passed', ran: false, result_file: file }, summary: check.reason };
    }
    const rerun = spec.rc ? `ltc gates run --rc ${spec.rc}` : spec.ref ? `ltc gates run --ref ${spec.ref}` : 'ltc gates run';
    if (spec.if_not_green === 'fail') {
      throw new CheckFailedError(`gates are not green: ${check.reason}`, { hint: `run \`${rerun}\`` });
    }
    step.log(`${check.reason}; running the gates`);
    const outcome = await runGates(
      { rc: spec.rc, ref: spec.ref, failFast: spec.fail_fast },
      { loaded, stateDir, signal: step.signal, masker: ctx.masker, reporter: logReporter((l) => step.log(l)), env: ctx.env },
    );
    const bad = outcome.result.gates.filter((g) => g.required && g.status !== 'passed').map((g) => `${g.name} ${g.status}`);
    if (outcome.exitCode === 130) throw new InterruptedError(`gates interrupted for ${short}`, { details: { resultFile: outcome.file } });
    if (outcome.exitCode !== 0) {
      throw new CheckFailedError(`gates failed for ${describeTarget(spec)} (${short}): ${bad.join(', ') || outcome.result.setup.reason || 'setup failed'}`, {
        hint: `logs in ${outcome.file.replace(/\.json$/, '/')}; see \`ltc gates status${spec.rc ? ` --rc ${spec.rc}` : ''}\``,
        details: { resultFile: outcome.file },
      });
    }
    const summary = `gates passed for ${short} in ${formatDuration(outcome.result.durationMs)}`;
    return { outputs: { commit: target.commit, status: outcome.result.status, ran: true, result_file: outcome.file }, summary };
  },
});
