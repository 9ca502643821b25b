/**
 * Slack incoming webhooks: one Block Kit message with the status, pipeline, interval, duration, the
 * failed stage with its error and the fix, and a button to the run on GitHub. The webhook URL is a
 * credential: it comes from an environment variable and never appears in a message or a record.
 */
import type { ChannelSender } from './channel.ts';
import { postJson } from './channel.ts';
import { formatSeconds, type NotificationMessage } from './message.ts';

/** Slack's limits: a header's text ≤ 150 characters, a section's ≤ 3000. */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;

const EMOJI: Record<NotificationMessage['event'], string> = {
  failure: ':x:',
  success: ':white_check_mark:',
  recovery: ':large_green_circle:',
  check_warning: ':warning:',
  dead_letters: ':warning:',
  sla_breach: ':hourglass:',
  test: ':wave:',
};

/** The Block Kit payload of a message (pure). `text` is the fallback shown in notifications. */
export function slackPayload(message: NotificationMessage): { text: string; blocks: Record<string, unknown>[] } {
  const mrkdwn = (text: string) => ({ type: 'mrkdwn', text: cut(text, SECTION_MAX) });
  const fields = [
    mrkdwn(`*Status*\n${message.status}`),
    mrkdwn(`*Pipeline*\n${message.pipeline}`),
    mrkdwn(`*Interval*\n${message.interval.start} → ${message.interval.end}`),
    mrkdwn(`*Duration*\n${message.durationMs === undefined ? '–' : formatSeconds(message.durationMs)}`),
  ];
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(`${message.headline}`, HEADER_MAX), emoji: true } },
    { type: 'section', fields },
  ];
  const failed = message.failedStage;
  if (failed) {
    blocks.push({ type: 'section', text: mrkdwn(`*Failed stage* \`${failed.name}\`\n\`\`\`${failed.error.message}\`\`\`\n*Fix:* ${failed.fix}`) });
  }
  if (message.details.length > 0) blocks.push({ type: 'section', text: mrkdwn(message.details.map((line) => `• ${line}`).join('\n')) });
  if (message.report) blocks.push({ type: 'section', text: mrkdwn(`*Report:* ${message.report.title}${message.report.attachments.length ? ` (${message.report.attachments.length} CSV file${message.report.attachments.length === 1 ? '' : 's'} in the run's artifacts)` : ''}`) });
  if (message.runUrl) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the run on GitHub' }, url: message.runUrl }] });
  }
  blocks.push({ type: 'context', elements: [mrkdwn(`${EMOJI[message.event]} weir · run \`${message.runId}\``)] });
  return { text: `${message.headline} (run ${message.runId})`, blocks };
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function createSlackSender(name: string, webhookUrl: string): ChannelSender {
  return {
    name,
    type: 'slack',
    send: (message, signal) => postJson(webhookUrl, JSON.stringify(slackPayload(message)), { 'content-type': 'application/json' }, signal),
  };
}
