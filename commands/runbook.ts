import { defineCommand, type CommandGroup } from '../src/cli/define.js';

interface RefArgs {
  ref: string;
}
interface InputOptions {
  input?: string[];
}

const impl = () => import('../src/runbook/commands.js');

const group: CommandGroup = {
  name: 'runbook',
  description: 'validate, list, show, run and resume runbooks (executable YAML)',
  commands: [
    defineCommand<RefArgs, Record<string, never>>({
      path: ['runbook', 'validate'],
      description: 'check a runbook: schema, step types, expressions, references, calls (file:line:column for every problem)',
      args: [{ name: 'ref', description: 'runbook name or file', required: true }],
      examples: ['ltc runbook validate deploy', 'ltc runbook validate runbooks/smoke-test.yaml --json'],
      handler: async ({ args }, ctx) => (await impl()).validateCommand(args.ref, ctx),
    }),
    defineCommand<Record<string, never>, Record<string, never>>({
      path: ['runbook', 'list'],
      description: 'list shipped runbooks and the ops repo\'s runbooks/ (a same-named ops runbook overrides a shipped one)',
      examples: ['ltc runbook list', 'ltc runbook list --json'],
      handler: async (_input, ctx) => (await impl()).listCommand(ctx),
    }),
    defineCommand<RefArgs, Record<string, never>>({
      path: ['runbook', 'show'],
      description: 'show a runbook: inputs, steps and outputs',
      args: [{ name: 'ref', description: 'runbook name or file', required: true }],
      examples: ['ltc runbook show smoke-test'],
      handler: async ({ args }, ctx) => (await impl()).showCommand(args.ref, ctx),
    }),
    defineCommand<RefArgs, InputOptions>({
      path: ['runbook', 'run'],
      description: 'run a runbook (journaled under .ltc/runs/); --dry-run prints the resolved plan',
      args: [{ name: 'ref', description: 'runbook name or file', required: true }],
      options: [{ flags: '--input <name=value>', description: 'an input (repeatable)', repeatable: true }],
      examples: [
        'ltc runbook run smoke-test --input url=https://staging.example',
        'ltc runbook run deploy --input rc=rc-2026-03-01 --env staging --dry-run',
        'ltc runbook run ./my.yaml --approve sign-off --json',
      ],
      handler: async ({ args, options }, ctx) => (await impl()).runCommand(args.ref, options.input, ctx),
    }),
    defineCommand<Record<string, never>, { limit?: string }>({
      path: ['runbook', 'runs'],
      description: 'the history of runs, newest first (from .ltc/runs/)',
      options: [{ flags: '--limit <n>', description: 'show at most n runs', default: '20' }],
      examples: ['ltc runbook runs', 'ltc runbook runs --limit 5 --json'],
      handler: async ({ options }, ctx) => (await impl()).runsCommand(options.limit, ctx),
    }),
    defineCommand<{ runId: string }, InputOptions>({
      path: ['runbook', 'resume'],
      description: 'continue a failed, interrupted or killed run from its first unfinished step',
      args: [{ name: 'runId', description: 'run id (see `ltc runbook runs`)', required: true }],
      options: [{ flags: '--input <name=value>', description: 'a secret input again (secrets are not journaled)', repeatable: true }],
      examples: ['ltc runbook resume 20260301-142501-deploy-a1b2'],
      handler: async ({ args, options }, ctx) => (await impl()).resumeCommand(args.runId, options.input, ctx),
    }),
  ],
};
export default group;
