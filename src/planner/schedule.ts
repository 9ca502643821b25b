/** Schedule arithmetic: the ticks of a (validated) cron expression in a time zone. */
import { Cron } from 'croner';

/** The next `count` ticks strictly after `from`. */
export function nextTicks(expr: string, timezone: string, from: Date, count: number): Date[] {
  return createCron(expr, timezone).nextRuns(count, from);
}

/** The latest tick at or before `before`, or undefined when the schedule never ran before it. */
export function previousTick(expr: string, timezone: string, before: Date): Date | undefined {
  // croner includes a tick earlier in the reference's second, so +1 ms makes `before` inclusive.
  return createCron(expr, timezone).previousRuns(1, new Date(before.getTime() + 1))[0];
}

function createCron(expr: string, timezone: string): Cron {
  return new Cron(expr.trim(), { timezone, mode: '5-part', paused: true });
}
