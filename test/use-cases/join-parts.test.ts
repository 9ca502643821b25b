import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/model/events.ts';
import { Pipeline } from '../../src/model/pipeline.ts';
import { foldEvents } from '../../src/ledger/run-record.ts';
import { createPlan } from '../../src/planner/plan.ts';
import { splitSegments } from '../../src/planner/segments.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { HANDOFF_FORMAT, type HandoffContext, type ReceivedPart } from '../../src/use-cases/handoff.ts';
import { joinParts, runSlaBreach } from '../../src/use-cases/join-parts.ts';

const spec = Pipeline.parse({
  name: 'p',
  stages: {
    a: { uses: 'sql', with: { query: 'select 1 as id' } },
    b: { uses: 'sql', needs: 'a', 'runs-on': 'gpu', shards: 2, with: { query: 'select * from a' } },
    c: { uses: 'sql', needs: 'b', with: { query: 'select * from b' } },
  },
});
const plan = createPlan(spec, { kinds: defaultStageKinds() });
const segments = splitSegments(plan);
const RUN = 'r1';
const context: HandoffContext = {
  format: HANDOFF_FORMAT, runId: RUN, pipeline: 'p', pipelineDigest: 'x', params: {}, interval: { start: '2026-11-30T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z' },
  trigger: 'schedule', startedAt: '2026-12-01T00:10:00.000Z', tick: '2026-12-01T00:00:00.000Z', state: { watermarks: {}, processedFiles: {} }, segments: [],
};
const at = (s: number) => new Date(Date.parse('2026-12-01T00:10:00.000Z') + s * 1000).toISOString();

function part(segment: string, events: RunEvent[], shard?: number, status: ReceivedPart['report']['status'] = 'succeeded'): ReceivedPart {
  return {
    report: { format: HANDOFF_FORMAT, runId: RUN, segment, ...(shard ? { shard, shards: 2 } : {}), status, runnerLabels: [], host: `host-${segment}-${shard ?? 0}`, startedAt: events[0]?.at ?? at(0), finishedAt: events.at(-1)?.at ?? at(0), tables: {} },
    events, commits: {}, tables: {},
  };
}
const ran = (stage: string, start: number, end: number, rows: number): RunEvent[] => [
  { type: 'stage.started', runId: RUN, at: at(start), stage, attempt: 1 },
  { type: 'stage.log', runId: RUN, at: at(start), stage, stream: 'stdout', line: 'working' },
  { type: 'stage.succeeded', runId: RUN, at: at(end), stage, attempt: 1, durationMs: (end - start) * 1000, rows, table: stage },
];

describe('joinParts', () => {
  it('splits the example as expected', () => {
    expect(segments.map((s) => [s.id, s.shards?.count])).toEqual([['a', undefined], ['b', 2], ['c', undefined]]);
  });

  it('folds the shards of a stage into one outcome: earliest start, latest end, rows summed, logs labelled', () => {
    const parts = new Map([
      ['a', [part('a', ran('a', 0, 1, 10))]],
      ['b', [part('b', ran('b', 2, 5, 4), 1), part('b', ran('b', 3, 9, 6), 2)]],
      ['c', [part('c', ran('c', 10, 11, 10))]],
    ]);
    const events = joinParts(context, plan, segments, parts, at(12));
    const record = foldEvents(events)!;
    expect(record.status).toBe('succeeded');
    expect(record.stages.b).toMatchObject({ status: 'succeeded', rows: 10, startedAt: at(2), finishedAt: at(9), durationMs: 7000, outputs: { shards: 2, rows_by_shard: [4, 6] }, runnerLabels: ['gpu'], segment: 'b' });
    expect(record.stages.b.attempts).toHaveLength(1);
    expect(events.filter((e) => e.type === 'stage.log' && e.stage === 'b').map((e) => (e as { line: string }).line)).toEqual(['[shard 1/2] working', '[shard 2/2] working']);
    // The run starts when it was planned, late by its tick, and ends when finalize ran.
    expect(record).toMatchObject({ startedAt: context.startedAt, tick: context.tick, latenessMs: 600_000, durationMs: 12_000, trigger: 'schedule' });
    expect(record.segments!.map((s) => [s.segment, s.shard, s.status, s.host])).toEqual([
      ['a', undefined, 'succeeded', 'host-a-0'], ['b', 1, 'succeeded', 'host-b-1'], ['b', 2, 'succeeded', 'host-b-2'], ['c', undefined, 'succeeded', 'host-c-0'],
    ]);
  });

  it('one failed shard fails the stage with its error, labelled, and skips what depends on it', () => {
    const failed: RunEvent[] = [
      { type: 'stage.started', runId: RUN, at: at(2), stage: 'b', attempt: 1 },
      { type: 'stage.failed', runId: RUN, at: at(4), stage: 'b', attempt: 1, durationMs: 2000, error: { code: 'stage_failed', name: 'StageFailedError', message: 'CUDA out of memory' } },
    ];
    const parts = new Map([
      ['a', [part('a', ran('a', 0, 1, 10))]],
      ['b', [part('b', ran('b', 2, 5, 4), 1), part('b', failed, 2, 'failed')]],
    ]);
    const record = foldEvents(joinParts(context, plan, segments, parts, at(12)))!;
    expect(record.status).toBe('failed');
    expect(record.stages.b.error).toMatchObject({ code: 'stage_failed', message: 'shard 2/2: CUDA out of memory' });
    expect(record.stages.c).toMatchObject({ status: 'skipped', skipReason: 'upstream_failed' });
    expect(record.segments!.find((s) => s.segment === 'c')!.status).toBe('missing');
  });

  it('a shard that never reported fails the stage as lost; a run where nothing reported is failed, not succeeded', () => {
    const half = foldEvents(joinParts(context, plan, segments, new Map([['a', [part('a', ran('a', 0, 1, 10))]], ['b', [part('b', ran('b', 2, 5, 4), 1), undefined]]]), at(12)))!;
    expect(half.stages.b.error).toMatchObject({ code: 'abandoned' });
    expect(half.stages.b.error!.message).toMatch(/shard 2\/2 of stage 'b' never reported/);
    const none = foldEvents(joinParts(context, plan, segments, new Map(), at(12)))!;
    expect(none.status).toBe('failed');
    expect(none.stages.a).toMatchObject({ status: 'failed', error: { code: 'abandoned' } });
    expect(none.stages.b).toMatchObject({ status: 'skipped', skipReason: 'upstream_failed' });
  });

  it('a cancelled shard (and none failed) cancels the stage and the run', () => {
    const cancelled: RunEvent[] = [
      { type: 'stage.started', runId: RUN, at: at(2), stage: 'b', attempt: 1 },
      { type: 'stage.cancelled', runId: RUN, at: at(3), stage: 'b', attempt: 1, durationMs: 1000, detail: 'SIGTERM' },
    ];
    const record = foldEvents(joinParts(context, plan, segments, new Map([['a', [part('a', ran('a', 0, 1, 10))]], ['b', [part('b', ran('b', 2, 5, 4), 1), part('b', cancelled, 2, 'cancelled')]]]), at(12)))!;
    expect(record.stages.b).toMatchObject({ status: 'cancelled', skipDetail: 'shard 2/2: SIGTERM' });
    expect(record.stages.c).toMatchObject({ status: 'cancelled', skipDetail: "upstream stage 'b' was cancelled" });
    expect(record.status).toBe('cancelled');
  });
});

describe('runSlaBreach', () => {
  const finished = (seconds: number): RunEvent => ({ type: 'run.finished', runId: RUN, at: at(seconds), status: 'succeeded', durationMs: seconds * 1000 });
  const manual = { ...context, tick: undefined, trigger: 'manual' };

  it('judges the whole run: from its start, or from the tick of a scheduled run', () => {
    expect(runSlaBreach(undefined, manual, finished(5000))).toBeUndefined();
    expect(runSlaBreach('30m', manual, finished(60))).toBeUndefined();
    expect(runSlaBreach('30m', manual, finished(1860))).toMatchObject({ type: 'sla.breached', scope: 'run', slaMs: 1_800_000, elapsedMs: 1_860_000 });
    // Planned 10 minutes after its tick: a 15-minute SLA is breached 5 minutes into the run.
    expect(runSlaBreach('15m', context, finished(240))).toBeUndefined();
    expect(runSlaBreach('15m', context, finished(360))).toMatchObject({ scope: 'run', elapsedMs: 960_000 });
    // Planned after its SLA had passed: a late start.
    expect(runSlaBreach('5m', context, finished(10))).toMatchObject({ scope: 'start', slaMs: 300_000 });
  });
});
