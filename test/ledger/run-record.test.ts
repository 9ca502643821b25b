import { describe, expect, it } from 'vitest';
import { foldEvents } from '../../src/ledger/run-record.ts';
import type { RunEvent } from '../../src/model/events.ts';

const base = { runId: 'r' };
const error = { code: 'stage_failed' as const, name: 'StageFailedError', message: 'boom' };

describe('the run record fold', () => {
  it('drops the attempt a retry planned when the stage is cancelled during the backoff wait', () => {
    const events: RunEvent[] = [
      { ...base, at: '2026-12-01T00:00:00.000Z', type: 'run.started', pipeline: 'p', params: {}, interval: { start: 'a', end: 'b' }, trigger: 'manual', stages: ['s'] },
      { ...base, at: '2026-12-01T00:00:00.000Z', type: 'stage.started', stage: 's', attempt: 1 },
      { ...base, at: '2026-12-01T00:00:01.000Z', type: 'stage.retrying', stage: 's', attempt: 1, error, delayMs: 10_000 },
      { ...base, at: '2026-12-01T00:00:02.000Z', type: 'stage.cancelled', stage: 's', attempt: 2, durationMs: 2000, detail: 'the run was cancelled' },
    ];
    const record = foldEvents(events)!;
    expect(record.stages.s.status).toBe('cancelled');
    expect(record.stages.s.attempts).toEqual([{ attempt: 1, startedAt: '2026-12-01T00:00:00.000Z', finishedAt: '2026-12-01T00:00:01.000Z', error, delayMs: 10_000 }]);
  });

  it('closes the running attempt of a stage cancelled while it ran', () => {
    const events: RunEvent[] = [
      { ...base, at: '2026-12-01T00:00:00.000Z', type: 'run.started', pipeline: 'p', params: {}, interval: { start: 'a', end: 'b' }, trigger: 'manual', stages: ['s'] },
      { ...base, at: '2026-12-01T00:00:00.000Z', type: 'stage.started', stage: 's', attempt: 1 },
      { ...base, at: '2026-12-01T00:00:03.000Z', type: 'stage.cancelled', stage: 's', attempt: 1, durationMs: 3000, detail: 'the run was cancelled' },
    ];
    expect(foldEvents(events)!.stages.s.attempts).toEqual([{ attempt: 1, startedAt: '2026-12-01T00:00:00.000Z', finishedAt: '2026-12-01T00:00:03.000Z' }]);
  });
});
