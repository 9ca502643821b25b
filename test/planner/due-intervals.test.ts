import { describe, expect, it } from 'vitest';
import type { RunStatus } from '../../src/model/events.ts';
import { DEFAULT_MAX_CATCHUP, dueIntervals, dueWindow, nextTick, ticksBetween, type DueSchedule, type RunOfInterval } from '../../src/planner/due-intervals.ts';

const iso = (text: string) => new Date(text).toISOString();
const ticks = (cron: string, timezone: string, from: string, to: string) => ticksBetween({ cron, timezone }, new Date(from), new Date(to)).map((d) => d.toISOString());
const daily: DueSchedule = { cron: '17 6 * * *', timezone: 'UTC', catchup: 'all' };
const day = (d: number) => iso(`2026-06-${String(d).padStart(2, '0')}T06:17:00Z`);
const run = (from: number, status: RunStatus): RunOfInterval => ({ interval: { start: day(from), end: day(from + 1) }, status });
const starts = (result: ReturnType<typeof dueIntervals>) => result.due.map((d) => d.interval.start);

describe('schedule ticks across daylight-saving changes', () => {
  it('shifts ticks inside the Paris spring-forward gap forward by the gap instead of dropping them', () => {
    // 2026-03-29 02:00 CET → 03:00 CEST: 02:00, 02:20, 02:40 do not exist on the wall clock.
    expect(ticks('*/20 2 * * *', 'Europe/Paris', '2026-03-28T12:00Z', '2026-03-29T12:00Z')).toEqual([iso('2026-03-29T01:00Z'), iso('2026-03-29T01:20Z'), iso('2026-03-29T01:40Z')]);
  });

  it('shifts the New York spring-forward 02:30 tick to 03:30 EDT', () => {
    expect(ticks('30 2 * * *', 'America/New_York', '2026-03-07T12:00Z', '2026-03-09T12:00Z')).toEqual([iso('2026-03-08T07:30Z'), iso('2026-03-09T06:30Z')]);
  });

  it('fires the New York fall-back hour once, at its first pass', () => {
    // 2026-11-01 01:00-02:00 happens twice (EDT, then EST).
    expect(ticks('*/30 1 * * *', 'America/New_York', '2026-10-31T12:00Z', '2026-11-01T12:00Z')).toEqual([iso('2026-11-01T05:00Z'), iso('2026-11-01T05:30Z')]);
  });

  it('fires the Paris fall-back 02:30 once, in summer time', () => {
    expect(ticks('30 2 * * *', 'Europe/Paris', '2026-10-24T12:00Z', '2026-10-26T12:00Z')).toEqual([iso('2026-10-25T00:30Z'), iso('2026-10-26T01:30Z')]);
  });

  it('gives a 23-hour interval on the Paris spring-forward day and a 25-hour one on the fall-back day', () => {
    const schedule: DueSchedule = { cron: '17 6 * * *', timezone: 'Europe/Paris', catchup: 'last' };
    const spring = dueIntervals(schedule, [], new Date('2026-03-29T12:00Z')).due[0].interval;
    expect(spring).toEqual({ start: iso('2026-03-28T05:17Z'), end: iso('2026-03-29T04:17Z') });
    const autumn = dueIntervals(schedule, [], new Date('2026-10-25T12:00Z')).due[0].interval;
    expect(autumn).toEqual({ start: iso('2026-10-24T04:17Z'), end: iso('2026-10-25T05:17Z') });
  });

  it('names the next tick after now in the schedule time zone', () => {
    expect(nextTick({ cron: '30 2 * * *', timezone: 'America/New_York' }, new Date('2026-03-08T00:00Z'))?.toISOString()).toBe(iso('2026-03-08T07:30Z'));
  });
});

describe('due intervals by catch-up mode', () => {
  const now = new Date('2026-06-06T09:00Z');

  it('all: every missing and failed interval since start_date, oldest first, each with its nominal tick', () => {
    const ledger = [run(1, 'succeeded'), run(2, 'failed'), run(4, 'succeeded'), run(5, 'abandoned')];
    const result = dueIntervals({ ...daily, start_date: '2026-06-01' }, ledger, now);
    expect(starts(result)).toEqual([day(2), day(3), day(5)]);
    expect(result.due[0]).toEqual({ interval: { start: day(2), end: day(3) }, tick: day(3) });
    expect(result.deferred).toBe(0);
  });

  it('all: bounded by max_catchup per trigger, the rest deferred to the next one', () => {
    const result = dueIntervals({ ...daily, start_date: '2026-06-01', max_catchup: 2 }, [], now);
    expect(starts(result)).toEqual([day(1), day(2)]);
    expect(result.deferred).toBe(3);
  });

  it(`all: at most ${DEFAULT_MAX_CATCHUP} intervals when max_catchup is not set`, () => {
    expect(dueIntervals({ ...daily, start_date: '2026-01-01' }, [], now).due).toHaveLength(DEFAULT_MAX_CATCHUP);
  });

  it('all: never goes back before start_date, and a start date in the future makes nothing due', () => {
    expect(starts(dueIntervals({ ...daily, start_date: '2026-06-04T12:00Z' }, [], now))).toEqual([day(5)]);
    expect(dueIntervals({ ...daily, start_date: '2026-07-01' }, [], now).due).toEqual([]);
  });

  it('all: without start_date, starts from the oldest run in the ledger, or the latest interval when there is none', () => {
    expect(starts(dueIntervals(daily, [run(3, 'succeeded')], now))).toEqual([day(4), day(5)]);
    expect(starts(dueIntervals(daily, [], now))).toEqual([day(5)]);
  });

  it('last: only the latest interval, retried after a failure, skipping older gaps', () => {
    const last: DueSchedule = { ...daily, catchup: 'last' };
    expect(starts(dueIntervals(last, [run(1, 'succeeded')], now))).toEqual([day(5)]);
    expect(starts(dueIntervals(last, [run(5, 'failed')], now))).toEqual([day(5)]);
    expect(dueIntervals(last, [run(5, 'succeeded')], now).due).toEqual([]);
  });

  it('none: the latest interval once, never a retry of a failed one nor an older gap', () => {
    const none: DueSchedule = { ...daily, catchup: 'none' };
    expect(starts(dueIntervals(none, [run(1, 'succeeded')], now))).toEqual([day(5)]);
    expect(dueIntervals(none, [run(5, 'failed')], now).due).toEqual([]);
  });
});

describe('heartbeats that are dropped, late or doubled', () => {
  const schedule: DueSchedule = { ...daily, start_date: '2026-06-01' };

  it('catches up the intervals of dropped ticks at the next heartbeat', () => {
    // Heartbeats on the 2nd and 3rd were dropped: the one on the 4th runs both missing intervals.
    expect(starts(dueIntervals(schedule, [run(1, 'succeeded')], new Date('2026-06-04T06:20Z')))).toEqual([day(2), day(3)]);
  });

  it('decides the same for a heartbeat five hours late as for one on time', () => {
    const ledger = [run(1, 'succeeded')];
    expect(dueIntervals(schedule, ledger, new Date('2026-06-03T11:17Z'))).toEqual(dueIntervals(schedule, ledger, new Date('2026-06-03T06:17Z')));
  });

  it('finds nothing for a doubled heartbeat once the first one ran, nor while it is running', () => {
    const first = dueIntervals(schedule, [run(1, 'succeeded')], new Date('2026-06-03T06:18Z'));
    expect(starts(first)).toEqual([day(2)]);
    expect(dueIntervals(schedule, [run(1, 'succeeded'), run(2, 'running')], new Date('2026-06-03T06:19Z')).due).toEqual([]);
    expect(dueIntervals(schedule, [run(1, 'succeeded'), run(2, 'succeeded')], new Date('2026-06-03T06:19Z')).due).toEqual([]);
  });

  it('catches up across the New York spring-forward night without losing the gap tick', () => {
    const ny: DueSchedule = { cron: '30 2 * * *', timezone: 'America/New_York', catchup: 'all', start_date: '2026-03-07T07:30Z' };
    const due = dueIntervals(ny, [], new Date('2026-03-09T12:00Z')).due.map((d) => d.tick);
    expect(due).toEqual([iso('2026-03-08T07:30Z'), iso('2026-03-09T06:30Z')]);
  });
});

describe('dueWindow', () => {
  const now = new Date('2026-06-20T12:00Z');
  // A history with successes, failures, a running run and gaps, over three weeks.
  const history: RunOfInterval[] = [run(1, 'succeeded'), run(3, 'failed'), run(7, 'succeeded'), run(12, 'failed'), run(18, 'succeeded'), run(19, 'running')];
  const overlaps = (window: { start: string; end: string }) => (r: RunOfInterval) => r.interval.start < window.end && r.interval.end > window.start;

  it.each([
    ['last', {}],
    ['none', {}],
    ['all', { start_date: '2026-06-10' }],
  ] as const)('gives the same due intervals from the runs in its window as from the whole history (%s %o)', (catchup, extra) => {
    const schedule: DueSchedule = { ...daily, catchup, ...extra };
    const window = dueWindow(schedule, now)!;
    expect(window).toBeDefined();
    const inWindow = history.filter(overlaps(window));
    expect(inWindow.length).toBeLessThan(history.length);
    expect(dueIntervals(schedule, inWindow, now)).toEqual(dueIntervals(schedule, history, now));
  });

  it('asks for the whole history only for `all` without a start date', () => {
    expect(dueWindow(daily, now)).toBeUndefined();
    expect(dueWindow({ ...daily, catchup: 'last' }, now)).toEqual({ start: day(19), end: day(20) });
  });
});
