/** The SLA watch on its own: what each SLA measures, once per scope, and the end checks that back up the timers. */
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/model/events.ts';
import type { PipelineSpec } from '../../src/model/pipeline.ts';
import type { RunRecord } from '../../src/ledger/run-record.ts';
import { runSlaOrigin, watchSla, type SlaBreachEvent } from '../../src/use-cases/sla-watch.ts';
import { createManualClock } from '../support/manual-clock.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-12-01T06:00:00Z');
const at = (ms: number) => new Date(ms).toISOString();

function spec(sla: string | undefined, stageSla?: string): PipelineSpec {
  return { version: 1, name: 'p', ...(sla ? { sla } : {}), stages: { a: { uses: 'sql', ...(stageSla ? { sla: stageSla } : {}) } } } as PipelineSpec;
}

function watch(options: { spec: PipelineSpec; tick?: string; clock: { now(): number; sleep(ms: number, signal: AbortSignal): Promise<void> }; startedAt?: number; onBreach?: (breach: SlaBreachEvent) => Promise<void> }) {
  const emitted: RunEvent[] = [];
  const record = { runId: 'r' } as RunRecord;
  const sla = watchSla({
    runId: 'r',
    spec: options.spec,
    startedAt: options.startedAt ?? options.clock.now(),
    tick: options.tick,
    clock: options.clock,
    emit: (event) => emitted.push(event),
    record: () => record,
    onBreach: options.onBreach && ((breach) => options.onBreach!(breach)),
  });
  // Like execute-run: the watch sees each event before it is applied, then it is emitted.
  const emit = (event: RunEvent) => {
    sla.observe(event);
    emitted.push(event);
  };
  return { sla, emitted, emit };
}

const started = (ms: number): RunEvent => ({ type: 'stage.started', runId: 'r', at: at(ms), stage: 'a', attempt: 1 });
const succeeded = (ms: number, durationMs: number): RunEvent => ({ type: 'stage.succeeded', runId: 'r', at: at(ms), stage: 'a', attempt: 1, durationMs });
const finished = (ms: number, durationMs: number): RunEvent => ({ type: 'run.finished', runId: 'r', at: at(ms), status: 'succeeded', durationMs });

describe('runSlaOrigin', () => {
  it('measures a scheduled run from its tick, a run without one from its start, and a run started before its tick from its start', () => {
    expect(runSlaOrigin(T0, undefined)).toBe(T0);
    expect(runSlaOrigin(T0, at(T0 - 5 * MIN))).toBe(T0 - 5 * MIN);
    expect(runSlaOrigin(T0, at(T0 + 5 * MIN))).toBe(T0);
  });
});

describe('watchSla', () => {
  it('breaches a stage that ends past its SLA before its end is applied, when no timer got to fire', () => {
    let now = T0;
    const never = { now: () => now, sleep: () => new Promise<void>(() => undefined) };
    const { emitted, emit } = watch({ spec: spec(undefined, '5m'), clock: never });
    emit(started(now));
    now += 7 * MIN;
    emit(succeeded(now, 7 * MIN));
    expect(emitted.map((e) => e.type)).toEqual(['stage.started', 'sla.breached', 'stage.succeeded']);
    expect(emitted[1]).toMatchObject({ scope: 'stage', stage: 'a', slaMs: 5 * MIN, elapsedMs: 7 * MIN, at: at(T0 + 7 * MIN) });
  });

  it('records a scheduled run that starts past tick + sla as a start breach at once, and no second run breach at its end', () => {
    let now = T0;
    const never = { now: () => now, sleep: () => new Promise<void>(() => undefined) };
    const { emitted, emit } = watch({ spec: spec('30m'), tick: at(T0 - 45 * MIN), clock: never });
    expect(emitted).toEqual([{ type: 'sla.breached', runId: 'r', at: at(T0), scope: 'start', slaMs: 30 * MIN, elapsedMs: 45 * MIN }]);
    now += 10 * MIN;
    emit(finished(now, 10 * MIN));
    expect(emitted.filter((e) => e.type === 'sla.breached')).toHaveLength(1);
  });

  it('breaches the run from its tick: started 20 minutes late, it is past a 30m SLA after 11 more minutes', async () => {
    const clock = createManualClock(T0);
    const { emitted, sla } = watch({ spec: spec('30m'), tick: at(T0 - 20 * MIN), clock });
    expect(emitted).toEqual([]);
    await clock.advance(10 * MIN);
    expect(emitted).toEqual([]);
    await clock.advance(MIN);
    expect(emitted).toEqual([{ type: 'sla.breached', runId: 'r', at: at(T0 + 11 * MIN), scope: 'run', slaMs: 30 * MIN, elapsedMs: 31 * MIN }]);
    await sla.stop();
  });

  it('neither spins nor breaches on a frozen clock whose sleep returns at once', async () => {
    const frozen = { now: () => T0, sleep: async () => undefined };
    const { emitted, emit, sla } = watch({ spec: spec('1m', '1m'), clock: frozen });
    emit(started(T0));
    await new Promise((resolve) => setImmediate(resolve));
    emit(succeeded(T0, 0));
    emit(finished(T0, 0));
    expect(emitted.filter((e) => e.type === 'sla.breached')).toEqual([]);
    await sla.stop();
  });

  it('stops its timers and waits for a breach notification still being sent', async () => {
    const clock = createManualClock(T0);
    let sent!: () => void;
    let done = false;
    const onBreach = () => new Promise<void>((resolve) => (sent = resolve)).then(() => void (done = true));
    const { sla } = watch({ spec: spec('1m', '2m'), clock, onBreach });
    await clock.advance(2 * MIN);
    expect(clock.sleepers).toBe(0);
    const stopping = sla.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    sent();
    await stopping;
    expect(done).toBe(true);
  });

  it('lets stop() end the timers of a run that ended within its SLA', async () => {
    const clock = createManualClock(T0);
    const { emit, sla, emitted } = watch({ spec: spec('10m', '5m'), clock });
    emit(started(T0));
    expect(clock.sleepers).toBe(2);
    emit(succeeded(T0 + MIN, MIN));
    emit(finished(T0 + MIN, MIN));
    await sla.stop();
    expect(clock.sleepers).toBe(0);
    await clock.advance(60 * MIN);
    expect(emitted.filter((e) => e.type === 'sla.breached')).toEqual([]);
  });
});
