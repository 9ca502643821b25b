import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/model/diagnostic.ts';
import { parseWeirConfig } from '../../src/definitions/weir-config.ts';
import { loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import { buildMessage } from '../../src/notify/message.ts';
import { slackPayload } from '../../src/notify/slack.ts';
import { signBody } from '../../src/notify/webhook.ts';
import type { RunRecord } from '../../src/ledger/run-record.ts';
import { decideEvents, plannedNotifications } from '../../src/use-cases/notify-run.ts';
import { fakeStageKinds } from '../definitions/fake-kinds.ts';

const lines = (...rows: string[]) => `${rows.join('\n')}\n`;
const diagnosticsOf = (text: string) => parseWeirConfig(text, 'weir.yml').diagnostics.map(formatDiagnostic);

describe('weir.yml channels', () => {
  it('reads email, slack and webhook channels with their defaults', () => {
    const { channels, diagnostics } = parseWeirConfig(
      lines('channels:', '  team:', '    type: email', '    from: weir@example.com', '    to: [a@example.com]', '    smtp: { host_env: SMTP_HOST }', '  chat: { type: slack, webhook_url_env: SLACK_URL }', '  hook: { type: webhook, url_env: HOOK_URL, secret_env: HOOK_SECRET, policy: polite-api }'),
      'weir.yml',
    );
    expect(diagnostics).toEqual([]);
    expect(channels.team).toMatchObject({ type: 'email', smtp: { host_env: 'SMTP_HOST', port: 587, tls: 'starttls' } });
    expect(Object.keys(channels)).toEqual(['team', 'chat', 'hook']);
  });

  it('refuses a literal password, webhook URL or secret at its key, naming the _env field to use', () => {
    expect(diagnosticsOf(lines('channels:', '  chat:', '    type: slack', '    webhook_url: https://hooks.slack.com/services/T/B/X', '  team:', '    type: email', '    from: w@x.io', '    to: [a@x.io]', '    smtp: { host_env: H, password: hunter22 }'))).toEqual([
      "weir.yml:4:5: error WEIR611: channel 'chat': webhook_url is not read from weir.yml, which is committed to git; write webhook_url_env: NAME and set NAME in the environment (an Actions secret in CI)",
      "weir.yml:9:26: error WEIR611: channel 'team': password is not read from weir.yml, which is committed to git; write password_env: NAME and set NAME in the environment (an Actions secret in CI)",
    ]);
  });

  it('reports an unknown channel type, a bad env name and an unknown policy with file:line:col', () => {
    const found = diagnosticsOf(lines('channels:', '  a: { type: pager }', '  b: { type: slack, webhook_url_env: "not a name" }', '  c: { type: slack, webhook_url_env: OK, policy: nope }'));
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^weir\.yml:2:\d+: error WEIR610: .*type/);
    expect(found[1]).toMatch(/^weir\.yml:3:\d+: error WEIR610: .*environment variable name/);
    expect(found[2]).toMatch(/^weir\.yml:4:\d+: error WEIR602: policy 'nope' is not defined/);
  });
});

describe('pipeline notify', () => {
  const load = (notify: string, channels?: string[]) =>
    loadPipelineSource(lines('name: p', 'stages:', '  a: { uses: sql, with: { query: select 1 } }', `notify: ${notify}`), 'pipelines/p.yml', { kinds: fakeStageKinds(), fileExists: () => true, channels }).diagnostics.map(formatDiagnostic);

  it('is no longer a planned field: a valid rule gives no diagnostic', () => {
    expect(load('{ on: [failure, recovery, check_warning, dead_letters], to: [team] }', ['team'])).toEqual([]);
  });

  it('names an unknown channel at its position, with a suggestion', () => {
    expect(load('{ on: [failure], to: [teem] }', ['team', 'chat'])).toEqual([
      "pipelines/p.yml:4:31: error WEIR612: notify.to names channel 'teem', which is not defined (did you mean 'team'?); define it under channels: in weir.yml",
    ]);
  });

  it('accepts sla_breach without a warning now that SLAs are watched', () => {
    expect(load('[{ on: [sla_breach], to: [team] }]', ['team'])).toEqual([]);
  });

  it("names an unknown channel in a stage's notify rule at its position", () => {
    const diagnostics = loadPipelineSource(lines('name: p', 'stages:', '  a: { uses: sql, with: { query: select 1 }, notify: { on: [failure], to: [teem] } }'), 'pipelines/p.yml', { kinds: fakeStageKinds(), fileExists: () => true, channels: ['team'] }).diagnostics.map(formatDiagnostic);
    expect(diagnostics).toEqual([expect.stringMatching(/^pipelines\/p\.yml:3:\d+: error WEIR612: notify\.to names channel 'teem', which is not defined \(did you mean 'team'\?\)/)]);
  });

  it('refuses recovery in a stage rule (a stage has no recovery) and an sla of 0', () => {
    const load2 = (stage: string) => loadPipelineSource(lines('name: p', 'stages:', `  a: { uses: sql, with: { query: select 1 }, ${stage} }`), 'pipelines/p.yml', { kinds: fakeStageKinds(), fileExists: () => true, channels: ['team'] }).diagnostics.map(formatDiagnostic);
    expect(load2('notify: { on: [recovery], to: [team] }').join('\n')).toMatch(/error .*recovery/);
    expect(load2('sla: 0')).toEqual([expect.stringMatching(/error WEIR108: stage 'a' has an sla of 0, which every run breaches at once: remove sla or give the duration you expect, such as 10m/)]);
  });
});

const record = (overrides: Partial<RunRecord> = {}): RunRecord => ({
  runId: 'r1', pipeline: 'p', status: 'succeeded', trigger: 'manual', params: {}, interval: { start: '2026-11-30T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z' }, startedAt: '2026-12-01T06:00:00.000Z', durationMs: 1500,
  stages: { load: { status: 'succeeded', attempts: [], checks: [{ name: 'nn', kind: 'not_null', severity: 'warn', passed: false, failing: 2, message: '2 rows have NULL id' }], deadLetters: { count: 3, total: 10 } } },
  ...overrides,
});

describe('which events notify', () => {
  it('derives success, recovery, check_warning and dead_letters from the record and the run before it', () => {
    expect(decideEvents(record(), { ...record(), status: 'failed' })).toEqual(['success', 'recovery', 'check_warning', 'dead_letters']);
    expect(decideEvents(record({ status: 'failed', stages: {} }), undefined)).toEqual(['failure']);
    expect(decideEvents(record({ status: 'cancelled', stages: {} }), undefined)).toEqual([]);
  });

  it('deduplicates per event and channel and skips what the record already shows sent', () => {
    const rules = [{ on: ['success', 'check_warning'] as const, to: ['a', 'b'] }, { on: ['success'] as const, to: ['a'] }];
    const sent = record({ notifications: [{ channel: 'b', event: 'success', status: 'sent', at: 'x' }] });
    expect(plannedNotifications(rules as never, ['success', 'check_warning'], sent)).toEqual([
      { event: 'success', channel: 'a' },
      { event: 'check_warning', channel: 'a' },
      { event: 'check_warning', channel: 'b' },
    ]);
  });
});

describe('message payloads', () => {
  it('puts the failed stage, its error and the fix, and a button to the run into the Slack message', () => {
    const failed = record({ status: 'failed', stages: { load: { status: 'failed', attempts: [], error: { code: 'stage_failed', name: 'StageFailedError', message: 'SQL failed: no table x' } } } });
    const payload = slackPayload(buildMessage(failed, 'failure', { runUrl: 'https://github.com/o/r/actions/runs/1' }));
    const text = JSON.stringify(payload);
    expect(text).toContain('*Failed stage* `load`');
    expect(text).toContain('SQL failed: no table x');
    expect(text).toContain("weir run p --resume r1");
    expect(payload.blocks.find((b) => b.type === 'actions')).toMatchObject({ elements: [{ type: 'button', url: 'https://github.com/o/r/actions/runs/1' }] });
  });

  it('signs the exact body with HMAC-SHA256 as sha256=<hex>', () => {
    expect(signBody('{"a":1}', 'k3y!')).toBe(`sha256=${createHmac('sha256', 'k3y!').update('{"a":1}').digest('hex')}`);
  });
});
