import { defineCommand, type CommandGroup } from '../src/cli/define.js';
import type { WatchCliOptions } from '../src/watch/cli.js';

const group: CommandGroup = {
  name: 'watch',
  description: 'watch an environment after a switch (own probes and Prometheus) against thresholds: exit 0 pass, 1 fail or inconclusive, 3 rolled back, 4 rollback failed',
  commands: [
    defineCommand<Record<string, never>, WatchCliOptions>({
      path: ['watch'],
      description:
        "watch the environment after a switch against its thresholds. Every interval, ltc's own probes (error rate, p50/p95/p99 over a sliding window) and the environment's Prometheus queries, each against its threshold; " +
        'failure_limit bad intervals in a row fail the watch (alert to the webhook, and with --auto-rollback the rollback runs); ' +
        'no data, NaN, an empty result or too few requests are inconclusive and never roll back; prints the worst case from a broken release to the rollback first',
      options: [
        { flags: '--for <duration>', description: 'how long to watch (default environments.<env>.watch.for, 3h)' },
        { flags: '--interval <duration>', description: 'time between samples (default environments.<env>.watch.interval, 30s)' },
        { flags: '--failure-limit <n>', description: 'bad intervals in a row that fail the watch (default watch.failure_limit, 3)' },
        { flags: '--report <file>', description: 'write a Markdown summary there, with an SVG chart (same name, .svg) of error rate and p95, thresholds and the rollback marked' },
        { flags: '--auto-rollback', description: 'on fail, run the rollback (runbooks/rollback.yaml) at once' },
      ],
      examples: [
        'ltc watch --env staging --for 3h --interval 30s',
        'ltc watch --env prod --for 1h --interval 10s --auto-rollback',
        'ltc watch --env staging --for 2m --interval 1s --json',
        'ltc watch --env staging --for 30m --report watch-staging.md',
        'ltc watch --env prod --dry-run',
      ],
      handler: async ({ options }, ctx) => (await import('../src/watch/cli.js')).watchCommand(options, ctx),
    }),
  ],
};
export default group;
