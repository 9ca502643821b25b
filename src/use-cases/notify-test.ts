/**
 * `weir notify test <channel>`: sends one test message through a channel of weir.yml, under its
 * retry policy, so a team can check SMTP settings, a Slack webhook or a receiver's signature check
 * before a real run needs them. The result is data; the CLI renders it.
 */
import type { RunRecord } from '../ledger/run-record.ts';
import type { ChannelConfigs } from '../notify/channel-config.ts';
import { createSender } from '../notify/create-sender.ts';
import { buildMessage } from '../notify/message.ts';
import { createRedactor, redactValue } from '../model/redact.ts';
import { EMPTY_POLICY_CONFIG, resolvePolicy, type PolicyConfig } from '../policies/policy.ts';
import { sendUnderPolicy } from '../notify/send-under-policy.ts';
import type { Clock } from './run-deps.ts';

export type NotifyTestResult =
  | { kind: 'sent'; channel: string; type: string; attempts: number }
  | { kind: 'failed'; channel: string; type: string; attempts: number; message: string }
  | { kind: 'skipped'; channel: string; reason: string }
  | { kind: 'unknown'; channel: string; known: string[] };

export interface NotifyTestRequest {
  channel: string;
  channels: ChannelConfigs;
  policies?: PolicyConfig;
}

export async function sendTestNotification(request: NotifyTestRequest, deps: { env: Readonly<Record<string, string | undefined>>; clock: Clock }): Promise<NotifyTestResult> {
  const { channel } = request;
  const config = request.channels[channel];
  if (!config) return { kind: 'unknown', channel, known: Object.keys(request.channels) };
  const policy = resolvePolicy(config.policy, request.policies ?? EMPTY_POLICY_CONFIG);
  const built = createSender(channel, config, { env: deps.env, now: deps.clock.now, timeoutMs: policy.timeoutMs });
  if (!built.ok) return { kind: 'skipped', channel, reason: built.reason };
  const redact = createRedactor(built.secrets);
  const now = new Date(deps.clock.now()).toISOString();
  const record: RunRecord = { runId: `test-${now.replace(/[-:.]/g, '')}`, pipeline: 'weir-notify-test', status: 'succeeded', trigger: 'manual', params: {}, interval: { start: now, end: now }, startedAt: now, durationMs: 0, stages: {} };
  const message = buildMessage(record, 'test');
  const outcome = await sendUnderPolicy(built.sender, message, policy, { sleep: deps.clock.sleep, random: deps.clock.random, signal: new AbortController().signal });
  if (outcome.ok) return { kind: 'sent', channel, type: config.type, attempts: outcome.attempts };
  return { kind: 'failed', channel, type: config.type, attempts: outcome.attempts, message: redactValue((outcome.error as Error)?.message ?? String(outcome.error), redact) };
}
