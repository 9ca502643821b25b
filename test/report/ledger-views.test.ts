import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/ledger/run-record.ts';
import { renderHistoryTable, renderStatusTable, summarizeErrors, summarizeStages } from '../../src/report/ledger-views.ts';

function record(overrides: Partial<RunRecord>): RunRecord {
  return {
    runId: '20261122T061700Z-3fa2',
    pipeline: 'daily',
    status: 'succeeded',
    trigger: 'manual',
    params: {},
    interval: { start: '2026-11-21T00:00:00.000Z', end: '2026-11-22T00:00:00.000Z' },
    startedAt: '2026-11-22T06:17:00.000Z',
    stages: {},
    ...overrides,
  };
}

describe('ledger views', () => {
  it('renders cancelled and abandoned runs with their status and cancelled stages', () => {
    const cancelled = record({
      status: 'cancelled',
      error: { code: 'cancelled', name: 'CancelledError', message: 'SIGINT' },
      stages: { a: { status: 'succeeded', attempts: [] }, b: { status: 'cancelled', attempts: [] } },
    });
    const abandoned = record({ runId: '20261122T051700Z-0000', status: 'abandoned', error: { code: 'abandoned', name: 'AbandonedError', message: 'pid 42 is gone' } });
    const table = renderHistoryTable([cancelled, abandoned]);
    expect(table).toMatch(/20261122T061700Z-3fa2\s+daily\s+cancelled.*1✔ 0✖ 0○ 1■\s+manual\s+cancelled$/m);
    expect(table).toMatch(/20261122T051700Z-0000\s+daily\s+abandoned.*abandoned$/m);
    expect(summarizeStages(cancelled)).toBe('1✔ 0✖ 0○ 1■');
  });

  it("names each failed stage's error code", () => {
    const failed = record({
      status: 'failed',
      stages: { b: { status: 'failed', attempts: [], error: { code: 'check_failed', name: 'CheckFailedError', message: 'x' } }, c: { status: 'skipped', attempts: [] } },
    });
    expect(summarizeErrors(failed)).toBe('b: check_failed');
  });

  it('shows the time zone beside the cron, and manual for an unscheduled pipeline', () => {
    const text = renderStatusTable([
      { pipeline: 'nightly', schedule: '30 2 * * *', timezone: 'Asia/Tokyo', nextTick: '2026-11-22T17:30:00.000Z' },
      { pipeline: 'adhoc' },
    ]);
    expect(text).toMatch(/nightly\s+30 2 \* \* \* \(Asia\/Tokyo\)\s+never run\s+2026-11-22 17:30/);
    expect(text).toMatch(/adhoc\s+manual\s+never run/);
  });
});
