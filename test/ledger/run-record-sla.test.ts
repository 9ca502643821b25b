/** SLA breaches and stage notifications in the run record's fold (sla branch): a killed run's event log rebuilds them. */
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/model/events.ts';
import { foldEvents } from '../../src/ledger/run-record.ts';
import { formatEventLine, PLAIN } from '../../src/report/terminal.ts';

const base = { runId: 'r1' };
const events: RunEvent[] = [
  { ...base, type: 'run.started', at: '2026-12-01T06:00:00.000Z', pipeline: 'p', params: {}, interval: { start: '2026-11-30T06:00:00.000Z', end: '2026-12-01T06:00:00.000Z' }, trigger: 'schedule', stages: ['load'], tick: '2026-12-01T05:00:00.000Z', latenessMs: 3_600_000 },
  { ...base, type: 'sla.breached', at: '2026-12-01T06:00:00.000Z', scope: 'start', slaMs: 1_800_000, elapsedMs: 3_600_000 },
  { ...base, type: 'stage.started', at: '2026-12-01T06:00:01.000Z', stage: 'load', attempt: 1 },
  { ...base, type: 'sla.breached', at: '2026-12-01T06:05:01.000Z', scope: 'stage', stage: 'load', slaMs: 240_000, elapsedMs: 300_000 },
  { ...base, type: 'notify.sent', at: '2026-12-01T06:05:02.000Z', channel: 'audit', event: 'sla_breach', attempts: 1, stage: 'load' },
];

describe('run record fold: SLA breaches', () => {
  it('keeps each breach in order and the stage of a notification, while the run is still running', () => {
    const record = foldEvents(events)!;
    expect(record.status).toBe('running');
    expect(record.stages.load!.status).toBe('running');
    expect(record.slaBreaches).toEqual([
      { scope: 'start', at: '2026-12-01T06:00:00.000Z', slaMs: 1_800_000, elapsedMs: 3_600_000 },
      { scope: 'stage', stage: 'load', at: '2026-12-01T06:05:01.000Z', slaMs: 240_000, elapsedMs: 300_000 },
    ]);
    expect(record.notifications).toEqual([{ channel: 'audit', event: 'sla_breach', status: 'sent', at: '2026-12-01T06:05:02.000Z', attempts: 1, stage: 'load' }]);
  });

  it('prints a breach and a stage notification as one line each', () => {
    expect(formatEventLine(events[1]!, PLAIN)).toBe('  ⏱ SLA breached: the run started 1h after its tick, 30m over its SLA of 30m');
    expect(formatEventLine(events[3]!, PLAIN)).toBe('  ⏱ SLA breached: stage load ran 5m, 1m over its SLA of 4m');
    expect(formatEventLine(events[4]!, PLAIN)).toBe('  ✉ sla_breach (stage load) notification sent to audit');
  });
});
