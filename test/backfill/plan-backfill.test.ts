/** Which intervals a backfill proposes, from a ledger with gaps, failures and successes (injected "now"). */
import { describe, expect, it } from 'vitest';
import { MemoryLedgerStore } from '../../src/ledger/memory-ledger-store.ts';
import type { RunRecord } from '../../src/ledger/run-record.ts';
import type { RunStatus } from '../../src/model/events.ts';
import type { PipelineSpec } from '../../src/model/pipeline.ts';
import { backfillIntervals, BackfillRangeError, planBackfill } from '../../src/use-cases/backfill.ts';

const NOW = Date.parse('2026-03-01T00:00:00Z');
const unscheduled = { name: 'rates', stages: {} } as unknown as PipelineSpec;
const day = (d: string) => ({ start: `2026-01-${d}T00:00:00.000Z`, end: `${d === '31' ? '2026-02-01' : `2026-01-${String(Number(d) + 1).padStart(2, '0')}`}T00:00:00.000Z` });

function record(runId: string, status: RunStatus, interval: { start: string; end: string }): RunRecord {
  return { runId, pipeline: 'rates', status, trigger: 'schedule', params: {}, interval, startedAt: '2026-02-01T00:00:00.000Z', stages: {} };
}

async function ledgerWith(records: RunRecord[]): Promise<MemoryLedgerStore> {
  const ledger = new MemoryLedgerStore();
  for (const r of records) await ledger.finishRun(r);
  return ledger;
}

// Jan 1 succeeded; Jan 2 failed then succeeded; Jan 3 missing; Jan 4 failed; Jan 5 cancelled then abandoned; Jan 6 missing.
const LEDGER = [
  record('20260201T000001.000Z-000001', 'succeeded', day('01')),
  record('20260201T000002.000Z-000002', 'failed', day('02')),
  record('20260201T000003.000Z-000003', 'succeeded', day('02')),
  record('20260201T000004.000Z-000004', 'failed', day('04')),
  record('20260201T000005.000Z-000005', 'cancelled', day('05')),
  record('20260201T000006.000Z-000006', 'abandoned', day('05')),
];
const RANGE = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-07T00:00:00Z') };

describe('planBackfill', () => {
  it('with --reprocess failed proposes exactly the intervals that never ran or never succeeded', async () => {
    const plan = await planBackfill({ spec: unscheduled, range: RANGE, reprocess: 'failed' }, { ledger: await ledgerWith(LEDGER), now: NOW });
    expect(plan.intervals.filter((d) => d.action === 'run').map((d) => d.interval.start.slice(0, 10))).toEqual(['2026-01-03', '2026-01-04', '2026-01-05', '2026-01-06']);
    expect(plan.intervals[0]).toMatchObject({ action: 'skip', reason: 'succeeded', runId: '20260201T000001.000Z-000001' });
    expect(plan.intervals[1]).toMatchObject({ action: 'skip', reason: 'succeeded', runId: '20260201T000003.000Z-000003' });
  });

  it('with --reprocess missing proposes only the intervals with no run at all', async () => {
    const plan = await planBackfill({ spec: unscheduled, range: RANGE, reprocess: 'missing' }, { ledger: await ledgerWith(LEDGER), now: NOW });
    expect(plan.intervals.filter((d) => d.action === 'run').map((d) => d.interval.start.slice(0, 10))).toEqual(['2026-01-03', '2026-01-06']);
  });

  it('with --reprocess all proposes every interval, newest first when asked', async () => {
    const plan = await planBackfill({ spec: unscheduled, range: RANGE, reprocess: 'all', newestFirst: true }, { ledger: await ledgerWith(LEDGER), now: NOW });
    expect(plan.intervals.map((d) => [d.interval.start.slice(0, 10), d.action])).toEqual(['06', '05', '04', '03', '02', '01'].map((d) => [`2026-01-${d}`, 'run']));
  });

  it('skips an interval that is not over yet at the injected now', async () => {
    const plan = await planBackfill({ spec: unscheduled, range: RANGE, reprocess: 'all' }, { ledger: await ledgerWith([]), now: Date.parse('2026-01-06T12:00:00Z') });
    expect(plan.intervals.at(-1)).toMatchObject({ action: 'skip', reason: 'not_complete' });
  });

  it('bounds --max-parallel by max_active_runs and says so', async () => {
    const plan = await planBackfill({ spec: { ...unscheduled, max_active_runs: 2 }, range: RANGE, reprocess: 'all', maxParallel: 4 }, { ledger: await ledgerWith([]), now: NOW });
    expect(plan.parallel).toBe(2);
    expect(plan.note).toMatch(/max_active_runs: 2/);
  });
});

describe('backfillIntervals', () => {
  it('uses the schedule ticks of a scheduled pipeline, in its time zone', () => {
    const spec = { ...unscheduled, schedule: { cron: '0 6 * * *', timezone: 'Europe/Paris' } } as PipelineSpec;
    const intervals = backfillIntervals(spec, { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-03T00:00:00Z') });
    expect(intervals).toEqual([
      { start: '2026-01-01T05:00:00.000Z', end: '2026-01-02T05:00:00.000Z' },
      { start: '2026-01-02T05:00:00.000Z', end: '2026-01-03T05:00:00.000Z' },
    ]);
  });

  it('refuses a range that ends before it starts', () => {
    expect(() => backfillIntervals(unscheduled, { from: RANGE.to, to: RANGE.from })).toThrow(BackfillRangeError);
  });
});
