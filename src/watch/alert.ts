/**
 * The alert: a Slack-compatible incoming webhook (POST {"text": …} as JSON), retried with a
 * doubling backoff; a webhook that answers 5xx or times out is reported, never fatal.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface AlertResult {
  sent: boolean;
  attempts: number;
  status: number | null;
  error?: string;
}

export async function postWebhook(
  url: string,
  text: string,
  opts: { timeoutMs: number; retries: number; backoffMs?: number },
  signal: AbortSignal,
): Promise<AlertResult> {
  let delay = opts.backoffMs ?? 250;
  let last: AlertResult = { sent: false, attempts: 0, status: null };
  for (let attempt = 1; attempt <= opts.retries + 1; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'ltc-watch/1' },
        body: JSON.stringify({ text }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(opts.timeoutMs)]),
      });
      await res.text().catch(() => '');
      if (res.ok) return { sent: true, attempts: attempt, status: res.status };
      last = { sent: false, attempts: attempt, status: res.status, error: `the webhook answered ${res.status}` };
    } catch (err) {
      if (signal.aborted) throw err;
      const e = err as Error & { cause?: { code?: string } };
      last = { sent: false, attempts: attempt, status: null, error: e.name === 'TimeoutError' ? `the webhook did not answer within ${opts.timeoutMs}ms` : `the webhook is unreachable: ${e.cause?.code ?? e.message}` };
    }
    if (attempt <= opts.retries) {
      await sleep(delay, undefined, { signal });
      delay = Math.min(delay * 2, 10_000);
    }
  }
  return last;
}
