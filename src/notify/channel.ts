/** The one interface every notification channel implements, and the HTTP post Slack and webhooks share. */
import { HttpStatusError } from '../policies/errors.ts';
import type { NotificationMessage } from './message.ts';

export interface ChannelSender {
  readonly name: string;
  readonly type: 'email' | 'slack' | 'webhook';
  /** Sends once (the caller retries). Rejects on any failure; gives up when `signal` aborts. */
  send(message: NotificationMessage, signal: AbortSignal): Promise<void>;
}

/** POSTs `body`; a non-2xx answer rejects with HttpStatusError (429/5xx are retried by the policy). */
export async function postJson(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<void> {
  const response = await fetch(url, { method: 'POST', body, headers, signal });
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const snippet = (await response.text().catch(() => '')).slice(0, 200);
  const retryAfter = Number(response.headers.get('retry-after'));
  throw new HttpStatusError({
    status: response.status,
    url,
    method: 'POST',
    statusText: response.statusText,
    retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    detail: snippet || undefined,
  });
}
