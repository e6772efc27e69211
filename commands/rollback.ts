import { defineCommand, type CommandGroup } from '../src/cli/define.js';
import type { RollbackCliOptions } from '../src/deploy/cli.js';

const group: CommandGroup = {
  name: 'rollback',
  description: 'return an environment to its previous (or a named) release (runbooks/rollback.yaml): exit 4 when it fails, with the state and what to try next',
  commands: [
    defineCommand<Record<string, never>, RollbackCliOptions>({
      path: ['rollback'],
      description:
        'switch current back to the previous release (or --to), restart the app, health-check it and record it; ' +
        'works while the current release is crashed or does not answer; prints how long it took',
      options: [
        { flags: '--to <release|rc>', description: 'a release folder name (see `ltc releases`) or an rc tag (its newest release)' },
        { flags: '--lock-wait <duration>', description: 'wait this long for another deploy or rollback (default: exit 5 at once)' },
        { flags: '--hosts <names>', description: 'ssh targets: roll back these hosts only (comma-separated names)' },
        { flags: '--roles <roles>', description: 'ssh targets: roll back the hosts with one of these roles only (comma-separated, e.g. api,web)' },
        { flags: '--incident <id>', description: 'add the rollback, with its duration, to this incident\'s timeline' },
        { flags: '--no-incident', description: 'no incident for this rollback (no question, no hint)' },
      ],
      examples: ['ltc rollback --env staging', 'ltc rollback --env staging --incident INC-20260301-1', 'ltc rollback --env staging --to rc-2026-02-15', 'ltc rollback --env staging --dry-run'],
      handler: async ({ options }, ctx) => (await import('../src/deploy/cli.js')).rollbackCommand(options, ctx),
    }),
  ],
};
export default group;
