/** The job summary's SLA and notification sections (sla branch): what was sent or failed, and every breach. */
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/ledger/run-record.ts';
import type { PipelineSpec } from '../../src/model/pipeline.ts';
import { createPlan } from '../../src/planner/plan.ts';
import { renderRunSummary } from '../../src/report/run-summary.ts';

const SPEC = { name: 'rates', stages: { load: { uses: 'sql', with: { query: 'select 1' } } } } as unknown as PipelineSpec;
const PLAN = createPlan(SPEC, {});

const RECORD: RunRecord = {
  runId: 'r1',
  pipeline: 'rates',
  status: 'succeeded',
  trigger: 'schedule',
  params: {},
  interval: { start: '2026-11-30T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z' },
  startedAt: '2026-12-01T06:00:00.000Z',
  durationMs: 700_000,
  stages: { load: { status: 'succeeded', attempts: [{ attempt: 1, startedAt: '2026-12-01T06:00:00.000Z' }], durationMs: 700_000 } },
  slaBreaches: [
    { scope: 'stage', stage: 'load', at: '2026-12-01T06:06:00.000Z', slaMs: 300_000, elapsedMs: 360_000 },
    { scope: 'run', at: '2026-12-01T06:11:00.000Z', slaMs: 600_000, elapsedMs: 660_000 },
  ],
  notifications: [
    { channel: 'audit', event: 'sla_breach', status: 'sent', at: '2026-12-01T06:06:00.000Z', attempts: 1, stage: 'load' },
    { channel: 'team', event: 'sla_breach', status: 'failed', at: '2026-12-01T06:11:01.000Z', attempts: 3, error: { code: 'internal', name: 'NotificationFailedError', message: "sla_breach notification to channel 'team' (email) failed after 3 attempts: connect ECONNREFUSED | port 25" } as never },
    { channel: 'chat', event: 'success', status: 'skipped', at: '2026-12-01T06:11:40.000Z', reason: 'SLACK_URL is not set' },
  ],
};

describe('run summary: SLA breaches and notifications', () => {
  it('lists each breach and each notification with its channel, event, outcome and error', () => {
    const { markdown, detail } = renderRunSummary({ record: RECORD, plan: PLAN });
    expect(detail).toBe('full');
    expect(markdown).toContain(['### SLA breaches', '', '| SLA of | SLA | Took | Over by | Detected (UTC) |', '| --- | --- | --- | --- | --- |', '| stage load | 5m | 6m | 1m | 2026-12-01T06:06:00.000Z |', '| run | 10m | 11m | 1m | 2026-12-01T06:11:00.000Z |'].join('\n'));
    expect(markdown).toContain('### Notifications');
    expect(markdown).toContain('| audit | sla_breach (stage load) | ✅ sent | 1 |  |');
    expect(markdown).toContain("| team | sla_breach | ❌ failed | 3 | sla_breach notification to channel 'team' (email) failed after 3 attempts: connect ECONNREFUSED \\| port 25 |");
    expect(markdown).toContain('| chat | success | ⏭️ skipped |  | SLACK_URL is not set |');
  });

  it('keeps one line of totals for each when only totals fit', () => {
    const full = renderRunSummary({ record: RECORD, plan: PLAN }).markdown;
    const { markdown, detail } = renderRunSummary({ record: RECORD, plan: PLAN }, 600);
    expect(full.length).toBeGreaterThan(600);
    expect(detail).toBe('totals');
    expect(markdown).toContain('2 SLA breaches');
    expect(markdown).toContain('notifications: 1 sent, 1 failed, 1 skipped');
  });

  it('adds neither section to a run without breaches or notifications', () => {
    const { markdown } = renderRunSummary({ record: { ...RECORD, slaBreaches: undefined, notifications: undefined }, plan: PLAN });
    expect(markdown).not.toContain('### SLA breaches');
    expect(markdown).not.toContain('### Notifications');
  });
});
