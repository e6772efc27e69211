import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { CommandResult } from '../cli/define.js';
import type { Context } from '../core/context.js';
import { CheckFailedError, InterruptedError, UsageError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { packageRoot } from '../core/paths.js';
import { freeLoopbackPort } from '../core/net.js';
import { DEMO_TAGS, generateDemoApp } from './generate-app.js';
import { writeDemoConfig } from './write-config.js';
import { demoStages, type DemoPlan, type DemoStage, type DemoWorkspace } from './stages.js';

export interface DemoOptions {
  dir?: string;
  keep?: boolean;
  /** `--hosts N`: the story on N sshd hosts on loopback behind HAProxy (src/demo/fleet.ts). */
  hosts?: string;
}

function hostCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-8]$/.test(value)) throw new UsageError(`--hosts ${JSON.stringify(value)}: give a number of hosts from 1 to 8`, { hint: 'ltc demo --hosts 3' });
  return Number(value);
}

interface StageOutcome {
  title: string;
  command: string;
  exitCode: number;
  expected: number;
  ok: boolean;
  durationMs: number;
}

async function runStage(stage: DemoStage, ws: DemoWorkspace, ctx: Context): Promise<StageOutcome> {
  const { out } = ctx;
  const shown = `ltc ${stage.args.join(' ')}`;
  out.print('');
  out.print(out.c.bold(`▶ ${stage.title}`));
  out.print(out.c.cyan(`  $ ${shown}`));
  const started = performance.now();
  const child = execa(process.execPath, [join(packageRoot(), 'bin', 'ltc.js'), ...stage.args], {
    cwd: ws.opsDir,
    env: { ...ws.env, ...(ctx.options.color ? {} : { NO_COLOR: '1' }) },
    reject: false,
    stdin: 'ignore',
    all: true,
    buffer: false,
    cancelSignal: ctx.signal,
  });
  child.all?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line) out.print(`  │ ${line}`);
  });
  const result = await child;
  const exitCode = result.exitCode ?? 1;
  const expected = stage.expectExit ?? 0;
  const ok = exitCode === expected;
  const durationMs = Math.round(performance.now() - started);
  const verdict = ok
    ? out.c.green(`  ✓ exit ${exitCode}${expected ? ' (expected)' : ''} in ${formatDuration(durationMs)}`)
    : out.c.red(`  ✗ exit ${exitCode}, expected ${expected}`);
  out.print(verdict);
  if (stage.explain) out.print(out.c.dim(`  ${stage.explain}`));
  if (ok && stage.after) {
    const said = await stage.after();
    if (said) out.print(out.c.bold(`  ${said}`));
  }
  return { title: stage.title, command: shown, exitCode, expected, ok, durationMs };
}

/**
 * `ltc demo`: a throwaway app repo, the local target and the file secret backend in a temp dir;
 * runs the real commands a release manager would type, then stops everything it started.
 */
export async function runDemo(opts: DemoOptions, ctx: Context): Promise<CommandResult> {
  const hosts = hostCount(opts.hosts);
  if (ctx.options.dryRun) return demoPlan(opts, ctx, hosts);
  const fleetDemo = hosts ? await import('./fleet.js') : undefined;
  fleetDemo?.checkFleetDemoTools(hosts!);
  const work = opts.dir ?? (await mkdtemp(join(tmpdir(), 'ltc-demo-')));
  const ws: DemoWorkspace = {
    work,
    repoDir: join(work, 'app'),
    opsDir: join(work, 'ops'),
    deployRoot: join(work, 'deploy'),
    port: await freeLoopbackPort(),
    env: { ...ctx.env, LTC_CONFIG: '', LTC_ENV: 'demo' },
  };
  const { out } = ctx;
  out.print(out.c.bold('ltc demo') + out.c.dim(` — workspace ${work}`));
  const outcomes: StageOutcome[] = [];
  let cleanup: (() => Promise<string | undefined>) | undefined;
  let loadOf: (() => { requests: number; failed: number } | undefined) | undefined;
  try {
    const app = await generateDemoApp({ dir: ws.repoDir });
    await mkdir(join(ws.opsDir, '.ltc'), { recursive: true });
    await writeFile(join(ws.opsDir, '.ltc', 'master.key'), randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    out.print(`generated the demo app repo ${ws.repoDir} with tags ${app.tags.map((t) => t.name).join(', ')}`);
    let plan: DemoPlan;
    if (fleetDemo) {
      // Cleanup is set before the lab starts anything, so Ctrl-C mid-start still stops what runs.
      const lab = await fleetDemo.startFleetLab(work, hosts!);
      const fp = fleetDemo.fleetDemoStages(lab, hosts!);
      plan = fp;
      loadOf = fp.load;
      cleanup = plan.cleanup;
      const configFile = await fleetDemo.writeFleetDemoConfig(ws, lab);
      out.print(`started ${hosts} sshd hosts on loopback (${lab.hosts.map((h) => `${h.name} :${h.sshd.port}, app :${h.port}`).join('; ')})${lab.lb ? `, HAProxy on :${lab.lb.port}` : ''}`);
      out.print(`wrote ${configFile} (environment "demo", ssh target)`);
    } else {
      const configFile = await writeDemoConfig(ws);
      out.print(`wrote ${configFile} (environment "demo", local target in ${ws.deployRoot}, port ${ws.port})`);
      plan = demoStages(ws, ctx);
      cleanup = plan.cleanup;
    }
    for (const stage of plan.stages) {
      if (ctx.signal.aborted) break;
      const outcome = await runStage(stage, ws, ctx);
      outcomes.push(outcome);
      if (!outcome.ok && !stage.continueOnFailure) break;
    }
  } finally {
    const said = await cleanup?.().catch((err: unknown) => out.warn(`cleanup: ${(err as Error).message}`));
    if (said) out.print(said);
    if (!opts.keep && !opts.dir) await rm(work, { recursive: true, force: true });
  }
  const kept = Boolean(opts.keep || opts.dir);
  if (ctx.signal.aborted) throw new InterruptedError(`demo interrupted; the app was stopped and the workspace ${kept ? `kept: ${work}` : 'removed'}`);
  const load = loadOf?.();
  const ok = outcomes.every((o) => o.ok) && (!load || load.failed === 0);
  out.print('');
  out.print(out.c.bold('Summary'));
  for (const o of outcomes) out.print(`  ${o.ok ? out.c.green('✓') : out.c.red('✗')} ${o.title.padEnd(58)} ${formatDuration(o.durationMs).padStart(7)}  ${out.c.dim(o.command)}`);
  if (load) out.print(`  ${load.failed === 0 ? out.c.green('✓') : out.c.red('✗')} requests through HAProxy during the deploys and the rollback: ${load.requests}, failed: ${load.failed}`);
  out.print(kept ? `workspace kept: ${work}` : 'workspace removed; nothing left running');
  if (!ok) {
    throw new CheckFailedError('the demo did not go as expected', {
      hint: 'run `ltc demo --keep --verbose` and look at the workspace it keeps',
      details: { stages: outcomes },
    });
  }
  return { data: { workspace: work, kept, stages: outcomes, tags: DEMO_TAGS, ...(hosts ? { hosts } : {}), ...(load ? { load } : {}) } };
}

/** `ltc demo --dry-run`: the commands the demo would run, in order; nothing is created or started. */
async function demoPlan(opts: DemoOptions, ctx: Context, hosts: number | undefined): Promise<CommandResult> {
  const work = opts.dir ?? join(tmpdir(), 'ltc-demo-<random>');
  const ws: DemoWorkspace = { work, repoDir: join(work, 'app'), opsDir: join(work, 'ops'), deployRoot: join(work, 'deploy'), port: 0, env: ctx.env };
  const { stages } = hosts ? (await import('./fleet.js')).fleetDemoStages(undefined, hosts) : demoStages(ws, ctx);
  const steps = stages.map((s) => ({ title: s.title, command: ['ltc', ...s.args].join(' '), expectedExit: s.expectExit ?? 0 }));
  const text = [
    `Plan for ltc demo — dry run, nothing is created or started`,
    `workspace: ${work} (${opts.keep || opts.dir ? 'kept' : 'removed at the end'}); demo app repo in app/, ltc.config.yaml in ops/, local target in deploy/`,
    ...steps.map((s, i) => `${i + 1}. ${s.title}\n     ${s.command}${s.expectedExit ? ` (expected exit ${s.expectedExit})` : ''}`),
    'then: stop the demo app',
  ].join('\n');
  return { data: { dryRun: true, workspace: work, stages: steps }, text };
}
