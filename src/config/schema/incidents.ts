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
    status_page_title: z.string().min(1).default('Service status').describe('the heading of the page `ltc status-page build` writes'),
  })
  .default({ webhooks: [], retries: 3, retry_backoff: '500ms', post_timeout: '5s', update_interval: '30m', lookback: '2h', status_page_title: 'Service status' })
  .describe('ltc incident: status webhooks, retries, the status page and the post-mortem timeline');

export type IncidentsConfig = z.output<typeof incidentsSchema>;
