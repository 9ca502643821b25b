/**
 * The data interval a run covers (`{{ interval.start }}`/`end`), Airflow-style: a scheduled
 * pipeline processes the last complete interval between two ticks; an unscheduled one the last
 * complete UTC day. `--interval` or `--date` override both.
 */
import { ConfigError } from '../model/errors.ts';
import type { Interval } from '../model/events.ts';
import type { PipelineSpec } from '../model/pipeline.ts';
import { previousTick } from './schedule.ts';

const DAY_MS = 86_400_000;

function parseInstant(text: string, flag: string): Date {
  const value = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new ConfigError(`${flag} '${text}' is not a date (YYYY-MM-DD) or an ISO 8601 instant`);
  return date;
}

/** Parses `START..END` (dates or instants) or a single date meaning that whole UTC day. */
export function parseIntervalOption(text: string): Interval {
  const [startText, endText] = text.split('..');
  const start = parseInstant(startText.trim(), '--interval');
  const end = endText === undefined ? new Date(start.getTime() + DAY_MS) : parseInstant(endText.trim(), '--interval');
  if (end <= start) throw new ConfigError(`--interval '${text}' ends before it starts; write START..END with START < END`);
  return { start: start.toISOString(), end: end.toISOString() };
}

export function defaultInterval(spec: PipelineSpec, now: Date): Interval {
  if (spec.schedule) {
    const end = previousTick(spec.schedule.cron, spec.schedule.timezone, now);
    const start = end ? previousTick(spec.schedule.cron, spec.schedule.timezone, new Date(end.getTime() - 1)) : undefined;
    if (start && end) return { start: start.toISOString(), end: end.toISOString() };
  }
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return { start: new Date(today - DAY_MS).toISOString(), end: new Date(today).toISOString() };
}
