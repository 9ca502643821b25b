/**
 * Notifications through the whole run use case: a real pipeline on DuckDB with a report stage, and
 * real servers on loopback (SMTP, HTTP for Slack and the webhook). Sleep is injected: retries are
 * counted, not waited for.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RunEvent } from '../../src/model/events.ts';
import { loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import { createLocalRunDeps } from '../../src/entrypoints/local-run-deps.ts';
import { readChannels } from '../../src/notify/channel-config.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { runPipeline } from '../../src/use-cases/run-pipeline.ts';
import { startHookServer, startSmtpServer } from './servers.ts';

/** Secret values that must never reach a message. */
const CANARY = { api: 'canary-api-token-7f3a', smtp: 'canary-smtp-pass-91bd', hook: 'canary-hook-secret-c2e8', slack: 'canary-slack-path-55aa' };

function channels(raw: Record<string, unknown>) {
  const read = readChannels(raw);
  expect(read.issues).toEqual([]);
  return read.channels;
}

const REPORT_PIPELINE = (notify: string, query = 'select * from range(1, 6) t(n)') => `
name: weekly
stages:
  numbers:
    uses: sql
    with: { query: "${query}" }
  report:
    uses: report
    needs: [numbers]
    with:
      title: Weekly numbers
      text: "Token used: {{ env.API_TOKEN }}"
      path: out/report
      sections:
        - { title: Numbers, table: numbers, chart: { type: bar, x: n, y: n } }
notify: ${notify}
`;

async function run(yaml: string, options: { env: Record<string, string>; channels: ReturnType<typeof channels>; root?: string }) {
  const root = options.root ?? mkdtempSync(join(tmpdir(), 'weir-notify-'));
  if (!options.root) onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  const { pipeline, diagnostics } = loadPipelineSource(yaml, 'pipelines/weekly.yml', { kinds: defaultStageKinds(), fileExists: () => true, channels: Object.keys(options.channels) });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const events: RunEvent[] = [];
  const sleeps: number[] = [];
  const deps = createLocalRunDeps({ root, env: { API_TOKEN: CANARY.api, ...options.env } }, { clock: { now: Date.now, sleep: async (ms: number) => void sleeps.push(ms), random: () => 0.5 } });
  const summary = await runPipeline({ pipeline: pipeline!, root, kinds: defaultStageKinds(), channels: options.channels, listeners: [(e) => events.push(e)] }, deps);
  return { ...summary, root, events, sleeps, ledger: deps.ledger };
}

function assertNoCanary(text: string): void {
  for (const value of Object.values(CANARY)) expect(text).not.toContain(value);
}

describe('notifications after a run', () => {
  it('emails the report inline with its CSV, posts Block Kit to Slack and a signed CloudEvent, with no secret in any of them', async () => {
    const smtp = await startSmtpServer();
    const hooks = await startHookServer();
    const env = {
      API_TOKEN: CANARY.api,
      SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_USER: 'weir', SMTP_PASSWORD: CANARY.smtp,
      SLACK_URL: `${hooks.url}/slack/${CANARY.slack}`, HOOK_URL: `${hooks.url}/hook`, HOOK_SECRET: CANARY.hook,
    };
    const defined = channels({
      team: { type: 'email', from: 'weir@example.com', to: ['ana@example.com', 'bo@example.com'], smtp: { host_env: 'SMTP_HOST', port_env: 'SMTP_PORT', tls: 'none', user_env: 'SMTP_USER', password_env: 'SMTP_PASSWORD' } },
      chat: { type: 'slack', webhook_url_env: 'SLACK_URL' },
      audit: { type: 'webhook', url_env: 'HOOK_URL', secret_env: 'HOOK_SECRET' },
    });
    const result = await run(REPORT_PIPELINE('{ on: [success], to: [team, chat, audit] }'), { env, channels: defined });

    expect(result.record.status).toBe('succeeded');
    expect(result.record.notifications?.map((n) => [n.channel, n.event, n.status])).toEqual([['team', 'success', 'sent'], ['chat', 'success', 'sent'], ['audit', 'success', 'sent']]);

    const [mail] = smtp.mails;
    expect(smtp.mails).toHaveLength(1);
    expect(mail!.recipients).toEqual(['ana@example.com', 'bo@example.com']);
    expect(smtp.logins).toEqual([{ user: 'weir', password: CANARY.smtp }]);
    expect(mail!.parsed.subject).toMatch(/^\[weir\] Pipeline weekly succeeded · \d{4}-\d{2}-\d{2}$/);
    const html = String(mail!.parsed.html);
    expect(html).toContain('<h1>Weekly numbers</h1>');
    expect(html).toContain('<svg');
    expect(html).toContain('Token used: ***');
    const csv = readFileSync(join(result.root, 'out/report/report-1-numbers.csv'));
    expect(mail!.parsed.attachments.map((a) => [a.filename, a.contentType])).toEqual([['report-1-numbers.csv', 'text/csv']]);
    expect(mail!.parsed.attachments[0]!.content.equals(csv)).toBe(true);
    assertNoCanary(mail!.raw);

    const slack = hooks.posts.find((p) => p.path.startsWith('/slack/'))!;
    const blocks = JSON.parse(slack.body) as { text: string; blocks: { type: string; fields?: { text: string }[] }[] };
    expect(blocks.text).toContain('Pipeline weekly succeeded');
    expect(blocks.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context']);
    expect(blocks.blocks[1]!.fields!.map((f) => f.text.split('\n')[0])).toEqual(['*Status*', '*Pipeline*', '*Interval*', '*Duration*']);

    const hook = hooks.posts.find((p) => p.path === '/hook')!;
    expect(hook.headers['content-type']).toBe('application/cloudevents+json');
    const expected = `sha256=${createHmac('sha256', CANARY.hook).update(hook.body).digest('hex')}`;
    expect(hook.headers['x-weir-signature-256']).toBe(expected);
    const event = JSON.parse(hook.body);
    expect(event).toMatchObject({ specversion: '1.0', id: `${result.runId}:success:audit`, type: 'dev.weir.run.success', source: 'weir:pipeline/weekly', subject: result.runId, datacontenttype: 'application/json' });
    expect(event.data).toMatchObject({ pipeline: 'weekly', status: 'succeeded', event: 'success' });
    // The Slack URL's path is the credential: the server sees it in the request line, never in a body or header.
    for (const post of hooks.posts) assertNoCanary(JSON.stringify({ headers: post.headers, body: post.body }));
  });

  it('retries a webhook that answers 500, then records the failure without changing the failed run', async () => {
    const hooks = await startHookServer('error500');
    const defined = channels({ audit: { type: 'webhook', url_env: 'HOOK_URL', policy: { retries: 2 } } });
    const result = await run(REPORT_PIPELINE('{ on: [failure], to: [audit] }', 'select * from missing_table'), { env: { HOOK_URL: `${hooks.url}/hook` }, channels: defined });
    expect(result.record.status).toBe('failed');
    expect(hooks.hits).toBe(3);
    expect(result.sleeps).toHaveLength(2);
    const [failed] = result.record.notifications!;
    expect(failed).toMatchObject({ channel: 'audit', event: 'failure', status: 'failed', attempts: 3 });
    expect(failed!.error?.message).toMatch(/failure notification to channel 'audit' \(webhook\) failed after 3 attempts: POST .* answered HTTP 500/);
    expect(result.events.some((e) => e.type === 'notify.failed')).toBe(true);
    // Written once, with the outcome in it: the ledger's record is the one the use case returned.
    const stored = await result.ledger.getRun(result.runId);
    expect(stored?.status).toBe('failed');
    expect(stored?.notifications).toEqual(result.record.notifications);
  });

  it('records a notification as failed when the server resets the connection or hangs past the timeout; the run still succeeds', async () => {
    const reset = await startHookServer('reset');
    const hang = await startHookServer('hang');
    const defined = channels({
      resetting: { type: 'slack', webhook_url_env: 'RESET_URL', policy: { retries: 1 } },
      hanging: { type: 'webhook', url_env: 'HANG_URL', policy: { retries: 1, timeout: '300ms' } },
    });
    const result = await run(REPORT_PIPELINE('{ on: [success], to: [resetting, hanging] }'), { env: { RESET_URL: `${reset.url}/x`, HANG_URL: `${hang.url}/y` }, channels: defined });
    expect(result.record.status).toBe('succeeded');
    expect(result.record.notifications?.map((n) => [n.channel, n.status, n.attempts])).toEqual([['resetting', 'failed', 2], ['hanging', 'failed', 2]]);
    expect(reset.hits).toBe(2);
    expect(hang.hits).toBe(2);
  });

  it('records a failed email when no SMTP server listens, and keeps the run succeeded', async () => {
    const smtp = await startSmtpServer();
    const defined = channels({ team: { type: 'email', from: 'weir@example.com', to: ['ana@example.com'], smtp: { host_env: 'SMTP_HOST', port_env: 'SMTP_PORT', tls: 'none' }, policy: { retries: 1 } } });
    // A port that was just free: connection refused.
    const { createServer } = await import('node:net');
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)));
    await new Promise((resolve) => probe.close(resolve));
    const result = await run(REPORT_PIPELINE('{ on: [success], to: [team] }'), { env: { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port) }, channels: defined });
    expect(result.record.status).toBe('succeeded');
    expect(result.record.notifications).toMatchObject([{ channel: 'team', status: 'failed', attempts: 2 }]);
    expect(result.record.notifications![0]!.error?.message).toMatch(/ECONNREFUSED|connect/i);
    expect(smtp.mails).toEqual([]);
  });

  it('skips a channel whose environment is unset with the reason, and the run succeeds (offline demo)', async () => {
    const defined = channels({ team: { type: 'email', from: 'weir@example.com', to: ['ana@example.com'], smtp: { host_env: 'SMTP_HOST' } } });
    const result = await run(REPORT_PIPELINE('{ on: [success], to: [team] }'), { env: {}, channels: defined });
    expect(result.record.status).toBe('succeeded');
    expect(result.record.notifications).toMatchObject([{ channel: 'team', event: 'success', status: 'skipped', reason: expect.stringContaining('SMTP_HOST is not set') }]);
  });

  it('sends recovery on the first success after a failure, once per channel however many rules name it', async () => {
    const hooks = await startHookServer();
    const defined = channels({ audit: { type: 'webhook', url_env: 'HOOK_URL' } });
    const root = mkdtempSync(join(tmpdir(), 'weir-notify-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const notify = '[{ on: [failure, recovery], to: [audit] }, { on: [recovery], to: [audit, audit] }]';
    const env = { HOOK_URL: `${hooks.url}/hook` };
    const failed = await run(REPORT_PIPELINE(notify, 'select * from missing_table'), { env, channels: defined, root });
    expect(failed.record.status).toBe('failed');
    const recovered = await run(REPORT_PIPELINE(notify), { env, channels: defined, root });
    expect(recovered.record.status).toBe('succeeded');
    const again = await run(REPORT_PIPELINE(notify), { env, channels: defined, root });
    expect(again.record.notifications).toBeUndefined();
    expect(hooks.posts.map((p) => JSON.parse(p.body).type)).toEqual(['dev.weir.run.failure', 'dev.weir.run.recovery']);
  });
});
