/** Posting a status entry to Slack-compatible incoming webhooks, with retries and backoff. */
import type { WebhookPost } from './store.js';

export interface PostOptions {
  retries: number;
  backoffMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
  onRetry?: (origin: string, attempt: number, why: string, waitMs: number) => void;
}

/** The URL shown in output and records: its origin (a Slack webhook's path is its token). */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

async function once(url: string, text: string, timeoutMs: number, signal?: AbortSignal): Promise<{ ok: boolean; status?: number; error?: string }> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      redirect: 'error',
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? { ok: true, status: res.status } : { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, error: why };
  }
}

/** Posts `text` to one webhook: tries 1 + retries times, waiting backoff, 2×backoff, … between. */
export async function postWebhook(url: string, text: string, o: PostOptions): Promise<WebhookPost> {
  const origin = webhookOrigin(url);
  let attempts = 0;
  let last: { ok: boolean; status?: number; error?: string } = { ok: false, error: 'not tried' };
  for (let i = 0; i <= o.retries; i++) {
    attempts++;
    last = await once(url, text, o.timeoutMs, o.signal);
    if (last.ok || o.signal?.aborted) break;
    // A 4xx other than 408/429 will not get better by asking again.
    if (last.status !== undefined && last.status >= 400 && last.status < 500 && last.status !== 408 && last.status !== 429) break;
    if (i < o.retries) {
      const wait = o.backoffMs * 2 ** i;
      o.onRetry?.(origin, attempts, last.error ?? 'failed', wait);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
  return {
    webhook: origin,
    ok: last.ok,
    attempts,
    ...(last.status !== undefined ? { status: last.status } : {}),
    ...(last.ok ? {} : { error: last.error ?? 'failed' }),
  };
}
