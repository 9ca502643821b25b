/**
 * Which intervals a schedule trigger runs: the pipeline's cron read in its time zone, the runs the
 * ledger holds, and "now" → the intervals that are due and not yet succeeded, oldest first. The
 * heartbeat that calls it (GitHub's cron, `weir run --trigger schedule`) may be late, doubled or
 * dropped: the answer depends on the ledger, not on when or how often it fires.
 *
 * An interval runs from one tick to the next; its nominal tick is its end (the moment its data is
 * complete), Airflow-style. Ticks are computed on the wall clock of the time zone, then placed on
 * the time line with these DST rules (Airflow/pendulum's, not croner's, which drops gap ticks):
 * - spring forward: a wall time inside the gap (02:30 in Paris on the last Sunday of March) is
 *   shifted forward by the gap's length (03:30 CEST), so no tick is lost; a shifted tick that lands
 *   on another tick's instant merges with it (the intervals stay contiguous: no time is lost either);
 * - fall back: a wall time that occurs twice (01:30 in New York on the first Sunday of November)
 *   fires once, at its first occurrence.
 */
import { Cron } from 'croner';
import type { Interval, RunStatus } from '../model/events.ts';

/** Intervals one trigger runs at most when `max_catchup` is not set: keeps a heartbeat job well within a runner's time limit; the next trigger goes on. */
export const DEFAULT_MAX_CATCHUP = 10;

/** How far back `last` looks for the two latest ticks (a yearly cron on Feb 29 needs 8 years). */
const MAX_LOOKBACK_MS = 8 * 366 * 86_400_000;
const DAY_MS = 86_400_000;

export interface DueSchedule {
  cron: string;
  timezone: string;
  catchup: 'all' | 'last' | 'none';
  /** Most intervals per trigger. Default DEFAULT_MAX_CATCHUP. */
  max_catchup?: number;
  /** ISO date or instant: `all` never goes back before it. */
  start_date?: string;
}

/** What the ledger knows of a run, enough to tell whether an interval is done. */
export interface RunOfInterval {
  interval: Interval;
  status: RunStatus;
}

export interface DueInterval {
  interval: Interval;
  /** The nominal tick (the interval's end), ISO 8601. */
  tick: string;
}

export interface DueIntervals {
  /** Oldest first, at most `max_catchup`. */
  due: DueInterval[];
  /** Due intervals left for the next trigger by `max_catchup`. */
  deferred: number;
}

/** The intervals a schedule trigger at `now` runs, oldest first (see the module comment for the rules). */
export function dueIntervals(schedule: DueSchedule, runs: readonly RunOfInterval[], now: Date): DueIntervals {
  const candidates = candidateIntervals(schedule, runs, now);
  const open = candidates.filter((candidate) => !isHandled(candidate.interval, runs, schedule.catchup));
  const limit = schedule.max_catchup ?? DEFAULT_MAX_CATCHUP;
  return { due: open.slice(0, limit), deferred: Math.max(0, open.length - limit) };
}

/**
 * The runs `dueIntervals` needs to see: those overlapping this window. `last` and `none` look at
 * the latest interval only, `all` from its start date; only `all` without a start date needs the
 * whole history (it starts from the oldest run): undefined then.
 */
export function dueWindow(schedule: DueSchedule, now: Date): Interval | undefined {
  if (schedule.catchup === 'all') return schedule.start_date ? { start: parseStart(schedule.start_date).toISOString(), end: now.toISOString() } : undefined;
  const latest = latestTicks(schedule, now, 2);
  return latest.length < 2 ? { start: now.toISOString(), end: now.toISOString() } : toDue(latest[0], latest[1]).interval;
}

/** The next tick strictly after `after` (for `weir status`), or undefined when the cron never fires again. */
export function nextTick(schedule: Pick<DueSchedule, 'cron' | 'timezone'>, after: Date): Date | undefined {
  return ticksBetween(schedule, after, new Date(after.getTime() + MAX_LOOKBACK_MS), 1)[0];
}

function candidateIntervals(schedule: DueSchedule, runs: readonly RunOfInterval[], now: Date): DueInterval[] {
  const latest = latestTicks(schedule, now, 2);
  if (latest.length < 2) return [];
  const from = lowerBound(schedule, runs);
  if (from && from > latest[0]) return [];
  if (schedule.catchup !== 'all' || from === undefined) return [toDue(latest[0], latest[1])];
  // `all` starts at the first tick at or after its bound: the start date, else the oldest run's interval.
  const ticks = ticksBetween(schedule, new Date(from.getTime() - 1), now);
  const intervals: DueInterval[] = [];
  for (let i = 1; i < ticks.length; i++) intervals.push(toDue(ticks[i - 1], ticks[i]));
  return intervals;
}

/** Without a start date or any run to start from, `all` runs only the latest interval. */
function lowerBound(schedule: DueSchedule, runs: readonly RunOfInterval[]): Date | undefined {
  if (schedule.start_date) return parseStart(schedule.start_date);
  if (schedule.catchup !== 'all') return undefined;
  const starts = runs.map((run) => Date.parse(run.interval.start));
  return starts.length === 0 ? undefined : new Date(Math.min(...starts));
}

function parseStart(text: string): Date {
  return new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
}

/**
 * Whether an interval needs no run: a succeeded run covers it, or one is running now (a doubled
 * trigger must not start it twice). With `none` any earlier attempt counts: failures are left to
 * `weir backfill`/`weir retry`.
 */
function isHandled(interval: Interval, runs: readonly RunOfInterval[], catchup: DueSchedule['catchup']): boolean {
  const start = Date.parse(interval.start);
  const end = Date.parse(interval.end);
  return runs.some((run) => {
    const covers = Date.parse(run.interval.start) <= start && Date.parse(run.interval.end) >= end;
    // gates: a parked (waiting) run holds its interval like a running one; the next trigger resumes it.
    return covers && (run.status === 'succeeded' || run.status === 'running' || run.status === 'waiting' || catchup === 'none');
  });
}

function toDue(start: Date, end: Date): DueInterval {
  return { interval: { start: start.toISOString(), end: end.toISOString() }, tick: end.toISOString() };
}

/** The `count` latest ticks at or before `now`, oldest first. */
function latestTicks(schedule: Pick<DueSchedule, 'cron' | 'timezone'>, now: Date, count: number): Date[] {
  for (let lookback = 2 * DAY_MS; ; lookback *= 4) {
    const ticks = ticksBetween(schedule, new Date(now.getTime() - lookback), now);
    if (ticks.length >= count || lookback >= MAX_LOOKBACK_MS) return ticks.slice(-count);
  }
}

/**
 * The ticks in (from, to], oldest first, at most `limit`. Hand-written on top of croner's pattern
 * matching because croner's own zone handling drops spring-forward ticks (see the module comment):
 * croner enumerates wall-clock times (read as UTC), and `wallTimeToInstant` places them.
 */
export function ticksBetween(schedule: Pick<DueSchedule, 'cron' | 'timezone'>, from: Date, to: Date, limit = Number.POSITIVE_INFINITY): Date[] {
  const wall = new Cron(schedule.cron.trim(), { timezone: 'UTC', mode: '5-part', paused: true });
  // Wall times within a day of the bounds cover every offset (|offset| < 24 h).
  const wallEnd = new Date(to.getTime() + DAY_MS);
  const ticks: Date[] = [];
  for (let cursor = wall.nextRun(new Date(from.getTime() - DAY_MS)); cursor && cursor <= wallEnd && ticks.length < limit; cursor = wall.nextRun(cursor)) {
    const instant = wallTimeToInstant(cursor, schedule.timezone);
    if (instant > from && instant <= to && ticks.at(-1)?.getTime() !== instant.getTime()) ticks.push(instant);
  }
  return ticks;
}

/**
 * The instant at which `timezone`'s clocks show `wall` (its UTC fields): the first one when the
 * wall time occurs twice (fall back), and the wall time read with the offset before the gap when
 * it does not occur (spring forward), which shifts it forward by the gap's length.
 */
export function wallTimeToInstant(wall: Date, timezone: string): Date {
  const wallMs = wall.getTime();
  const before = offsetMs(new Date(wallMs - DAY_MS), timezone);
  const after = offsetMs(new Date(wallMs + DAY_MS), timezone);
  const valid = [...new Set([before, after])].map((offset) => wallMs - offset).filter((instant) => offsetMs(new Date(instant), timezone) === wallMs - instant);
  return new Date(valid.length > 0 ? Math.min(...valid) : wallMs - before);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset at `instant`, in ms (local wall time − UTC). */
function offsetMs(instant: Date, timezone: string): number {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timezone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
  const local = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return local - Math.floor(instant.getTime() / 1000) * 1000;
}
