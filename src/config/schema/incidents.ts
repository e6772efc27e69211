import { z } from 'zod';
import { boundedDuration, duration } from './common.js';

export const incidentsSchema = z
  .strictObject({
    webhooks: z
      .array(z.string().url())
      .default([])
      .describe('Slack-compatible incoming webhooks (JSON POST {"text": …}) that every incident update is posted to'),
    retries: z.number().int().min(0).max(10).default(3).describe('a failed webhook post is tried again this many times'),
    retry_backoff: boundedDuration(0, 60_000).default('500ms').describe('wait before the first retry; doubled before each further one'),
    post_timeout: boundedDuration(100, 60_000).default('5s').describe('one webhook post gives up after this'),
    update_interval: duration.default('30m').describe('"next update by" in each status entry: the time of the update plus this'),
    lookback: duration.default('2h').describe('the post-mortem timeline also shows deploys, rollbacks, gate runs and rotations this long before the incident opened (the trigger is often there)'),
    escalation: z
      .array(
        z.strictObject({
          severity: z
            .union([z.number().int().min(1).max(4), z.array(z.number().int().min(1).max(4)).min(1)])
            .describe('the severities this rule is for: 1 critical … 4 low'),
          page: z.array(z.string().min(1)).min(1).describe('contact roles (contacts[].role) to page'),
          after: duration.default('0m').describe('page them when the incident is still not resolved this long after it opened (0m: at once)'),
        }),
      )
      .default([])
      .describe('who `ltc incident open` and `ltc contacts` say to page, per severity; without rules: sev 1-2 every contact, sev 3-4 the on-call/SRE roles'),
    status_page_title: z.string().min(1).default('Service status').describe('the heading of the page `ltc status-page build` writes'),
  })
  .default({ webhooks: [], escalation: [], retries: 3, retry_backoff: '500ms', post_timeout: '5s', update_interval: '30m', lookback: '2h', status_page_title: 'Service status' })
  .describe('ltc incident: status webhooks, retries, the status page and the post-mortem timeline');

export type IncidentsConfig = z.output<typeof incidentsSchema>;
