import { defineCommand, type CommandGroup } from '../src/cli/define.js';
import type { GatesRunCliOptions, GatesStatusCliOptions } from '../src/gates/run.js';

const group: CommandGroup = {
  name: 'gates',
  description: "the handbook's final gates, run against a release candidate in a clean checkout",
  commands: [
    defineCommand<Record<string, never>, GatesRunCliOptions>({
      path: ['gates', 'run'],
      description:
        'check the commit out into a clean work tree (.ltc/work), npm ci, run the configured gates and record the result in .ltc/gates/<commit>.json',
      options: [
        { flags: '--rc <tag>', description: 'release candidate tag (must match app.tag_pattern)' },
        { flags: '--ref <ref>', description: 'a branch, tag or commit instead of --rc (default: HEAD of the app repo)' },
        { flags: '--only <name...>', description: 'run only these gates (names, or comma-separated)' },
        { flags: '--fail-fast', description: 'end the other gates when a required gate fails (recorded as cancelled)' },
        { flags: '--junit <file>', description: 'also write the result as JUnit XML' },
        { flags: '--jobs <n>', description: 'parallel gates at once (default: the number of CPUs)' },
        { flags: '--no-install', description: 'skip `npm ci` even when the checkout has a package-lock.json' },
        { flags: '--keep', description: 'keep the work tree in .ltc/work/<commit> afterwards' },
      ],
      examples: [
        'ltc gates run --rc rc-2026-03-01',
        'ltc gates run --rc rc-2026-03-01 --only build,e2e --fail-fast',
        'ltc gates run --ref main --junit reports/gates.xml',
        'ltc gates run --rc rc-2026-03-01 --json',
      ],
      handler: async ({ options }, ctx) => (await import('../src/gates/run.js')).gatesRun(options, ctx),
    }),
    defineCommand<Record<string, never>, GatesStatusCliOptions>({
      path: ['gates', 'status'],
      description: 'show the recorded gate result for a commit (or the latest); exit 0 only when green',
      options: [
        { flags: '--rc <tag>', description: 'release candidate tag' },
        { flags: '--ref <ref>', description: 'a branch, tag or commit' },
      ],
      examples: ['ltc gates status --rc rc-2026-03-01', 'ltc gates status', 'ltc gates status --rc rc-2026-03-01 --json'],
      handler: async ({ options }, ctx) => (await import('../src/gates/run.js')).gatesStatus(options, ctx),
    }),
  ],
};
export default group;
