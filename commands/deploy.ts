import { defineCommand, type CommandGroup } from '../src/cli/define.js';
import type { DeployCliOptions, StopCliOptions } from '../src/deploy/cli.js';

const group: CommandGroup = {
  name: 'deploy',
  description: 'deploy a release candidate to an environment (runbooks/deploy.yaml): exit 3 when it was rolled back, 4 when the rollback failed too, 5 when locked',
  commands: [
    defineCommand<Record<string, never>, DeployCliOptions>({
      path: ['deploy'],
      description:
        'check the tag, lock the environment, export the tag into a new release, build it, render shared/.env from the secret backend, ' +
        'run the pre-switch hooks, switch current atomically, restart, health checks, smoke tests and a log scan; ' +
        'anything failing after the switch rolls back to the release that was live before',
      options: [
        { flags: '--rc <tag>', description: 'release candidate tag (must match app.tag_pattern and exist in the app repo)' },
        { flags: '--skip-gates', description: 'protected environments: deploy without green gates (audited)' },
        { flags: '--lock-wait <duration>', description: 'wait this long for another deploy or rollback (e.g. 5m; default: exit 5 at once)' },
        { flags: '--hosts <names>', description: 'ssh targets: deploy to these hosts only (comma-separated names)' },
        { flags: '--roles <roles>', description: 'ssh targets: deploy to the hosts with one of these roles only (comma-separated, e.g. api,web)' },
        { flags: '--incident <id>', description: 'when the deploy rolls itself back (exit 3): add the rollback, with its duration, to this incident\'s timeline' },
        { flags: '--no-incident', description: 'no incident for an automatic rollback (no question, no hint)' },
      ],
      examples: [
        'ltc deploy --rc rc-2026-03-01 --env staging',
        'ltc deploy --rc rc-2026-03-01.1 --env staging --incident INC-20260301-1',
        'ltc deploy --rc rc-2026-03-01 --env staging --dry-run',
        'ltc deploy --rc rc-2026-03-01 --env prod --yes --lock-wait 10m',
        'ltc deploy --rc rc-2026-03-01 --env staging --json',
      ],
      handler: async ({ options }, ctx) => (await import('../src/deploy/cli.js')).deployCommand(options, ctx),
    }),
    defineCommand<Record<string, never>, StopCliOptions>({
      path: ['stop'],
      description: 'stop the app ltc runs for an environment (SIGTERM, SIGKILL after stop_grace; locked, recorded, audited); current stays',
      options: [
        { flags: '--lock-wait <duration>', description: 'wait this long for a deploy or rollback in progress (default: exit 5 at once)' },
        { flags: '--hosts <names>', description: 'ssh targets: stop the app on these hosts only (comma-separated names)' },
      ],
      examples: [
        'ltc stop --env staging',
        'ltc stop --env staging --dry-run',
        'ltc rollback --env staging --to <current release>   # start it again (restart + health check)',
      ],
      handler: async ({ options }, ctx) => (await import('../src/deploy/cli.js')).stopCommand(options, ctx),
    }),
  ],
};
export default group;
