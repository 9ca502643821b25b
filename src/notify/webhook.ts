/**
 * A generic webhook: a CloudEvents 1.0 event in structured JSON mode
 * (`application/cloudevents+json`), signed with HMAC-SHA256 over the exact body when a secret is
 * configured, in the same form as GitHub's webhooks: `X-Weir-Signature-256: sha256=<hex>`.
 * docs/notifications.md shows how a receiver verifies it.
 */
import { createHmac } from 'node:crypto';
import type { ChannelSender } from './channel.ts';
import { postJson } from './channel.ts';
import type { NotificationMessage } from './message.ts';

export const SIGNATURE_HEADER = 'x-weir-signature-256';
/** The CloudEvents `type` prefix; the event name follows (dev.weir.run.failure). */
export const CLOUDEVENT_TYPE_PREFIX = 'dev.weir.run.';

/** The CloudEvent of a message (pure). `id` is stable per run, event, channel and stage: receivers can drop repeats. */
export function cloudEvent(message: NotificationMessage, channel: string, time: string): Record<string, unknown> {
  const { report, ...facts } = message;
  return {
    specversion: '1.0',
    id: `${message.runId}:${message.event}:${channel}${message.stage === undefined ? '' : `:${message.stage}`}`,
    source: `weir:pipeline/${message.pipeline}`,
    type: `${CLOUDEVENT_TYPE_PREFIX}${message.event}`,
    subject: message.runId,
    time,
    datacontenttype: 'application/json',
    data: { ...facts, report: report ? { title: report.title, markdown: report.markdown } : undefined },
  };
}

/** `sha256=<hex>` of HMAC-SHA256(secret, body). */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function createWebhookSender(name: string, url: string, secret: string | undefined, now: () => number): ChannelSender {
  return {
    name,
    type: 'webhook',
    send(message, signal) {
      const body = JSON.stringify(cloudEvent(message, name, new Date(now()).toISOString()));
      const headers: Record<string, string> = { 'content-type': 'application/cloudevents+json' };
      if (secret) headers[SIGNATURE_HEADER] = signBody(body, secret);
      return postJson(url, body, headers, signal);
    },
  };
}
