import { defineCommand, type CommandGroup } from '../src/cli/define.js';
import type { HealthOptions } from '../src/health/run.js';

const group: CommandGroup = {
  name: 'health',
  description: 'probe the health endpoints of an environment (conditions, retries, exit 1 when one fails)',
  commands: [
    defineCommand<Record<string, never>, { url?: string[] }>({
      path: ['health'],
      description:
        'probe every health endpoint of the environment concurrently and check its conditions ' +
        '(status == 200, response_time < 500, body.status == "ok", body contains "…", certificate_expiration > 14d)',
      options: [
        {
          flags: '--url <url>',
          description: 'probe this URL instead of the configured endpoints, condition status == 200 (repeatable; no config needed)',
          repeatable: true,
        },
      ],
      examples: [
        'ltc health --env staging',
        'ltc health --env prod --json',
        'ltc health --url https://staging.example/api/health --url https://staging.example/',
      ],
      handler: async ({ options }, ctx) => {
        const opts: HealthOptions = options.url ? { urls: options.url } : {};
        return (await import('../src/health/run.js')).runHealth(opts, ctx);
      },
    }),
  ],
};
export default group;
