/**
 * A pipeline's cron, read in its own time zone, as GitHub Actions crons (which GitHub reads in
 * UTC). A zone with one whole-hour offset all year converts exactly; a zone that moves between
 * offsets (DST) gets every UTC hour the local time can fall on, so a tick is never missed, and weir
 * runs only the interval that is due. Anything that a shift cannot express (fractional offsets,
 * restricted days crossing midnight) falls back to an hourly heartbeat on the same minutes.
 *
 * Hand-written: croner reads crons in a time zone but cannot rewrite one, and enumerating a year of
 * ticks with it to derive one takes seconds per pipeline.
 */

/** What to put under `on.schedule`, and the comment that explains a conversion. */
export interface UtcSchedule {
  crons: string[];
  /** false when the crons tick more often than the pipeline's (the DST cover or the heartbeat). */
  exact: boolean;
  /** Why the cron differs from the pipeline's; absent when it is the pipeline's cron as written. */
  note?: string;
}

const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Z', 'Universal', 'Zulu']);
const HOURS_PER_DAY = 24;
/** Offsets are sampled this often over the year: DST rules change offsets at most a few times a year. */
const SAMPLE_EVERY_HOURS = 6;

export function toUtcSchedule(cron: string, timezone: string, now: Date): UtcSchedule {
  const written = cron.trim().split(/\s+/).join(' ');
  if (UTC_ZONES.has(timezone)) return { crons: [written], exact: true };
  const offsets = zoneOffsets(timezone, now.getUTCFullYear());
  if (offsets.length === 1 && offsets[0] === 0) return { crons: [written], exact: true };
  const fields = written.split(' ');
  const shifted = fields.length === 5 && offsets.every((o) => o % 60 === 0) ? shiftHours(fields, offsets) : undefined;
  const zone = `${timezone} (${offsets.map(formatOffset).join(' and ')})`;
  // Every hour of every day ('*/15 * * * *') ticks the same in any whole-hour zone.
  if (shifted === written && fields.slice(1).every((field) => field === '*')) return { crons: [written], exact: true };
  if (shifted) {
    const exact = offsets.length === 1;
    const note = exact
      ? `'${written}' in ${zone} is '${shifted}' in UTC, the zone GitHub reads crons in.`
      : `'${written}' in ${zone}: GitHub reads crons in UTC, so this ticks at the UTC hours of every offset; weir runs only the interval that is due.`;
    return { crons: [shifted], exact, note };
  }
  const heartbeat = `${heartbeatMinutes(fields[0], offsets)} * * * *`;
  return {
    crons: [heartbeat],
    exact: false,
    note: `'${written}' in ${zone} has no exact UTC form: an hourly heartbeat ticks instead, and weir runs only the interval that is due.`,
  };
}

/** The cron with its hour (and day of week) moved to UTC, or undefined when a shift cannot say it. */
function shiftHours(fields: string[], offsets: number[]): string | undefined {
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields;
  const hours = parseField(hour, 0, HOURS_PER_DAY - 1);
  if (!hours) return undefined;
  const utcHours = new Set<number>();
  const dayShifts = new Set<number>();
  for (const offset of offsets) {
    for (const h of hours) {
      const utc = h - offset / 60;
      utcHours.add(mod(utc, HOURS_PER_DAY));
      dayShifts.add(Math.floor(utc / HOURS_PER_DAY));
    }
  }
  const hourField = formatSet(utcHours, 0, HOURS_PER_DAY - 1);
  const everyDay = dayOfMonth === '*' && month === '*' && dayOfWeek === '*';
  if (everyDay || (dayShifts.size === 1 && dayShifts.has(0))) return [minute, hourField, dayOfMonth, month, dayOfWeek].join(' ');
  // Crossing midnight moves the day: only a day of week (cyclic) can follow it, and only one way.
  if (dayShifts.size !== 1 || dayOfMonth !== '*' || month !== '*') return undefined;
  const days = parseField(dayOfWeek.replaceAll('7', '0'), 0, 6);
  if (!days) return undefined;
  const [shift] = dayShifts;
  const utcDays = new Set([...days].map((d) => mod(d + shift, 7)));
  return [minute, hourField, '*', '*', formatSet(utcDays, 0, 6)].join(' ');
}

function heartbeatMinutes(minuteField: string | undefined, offsets: number[]): string {
  const minutes = minuteField === undefined ? undefined : parseField(minuteField, 0, 59);
  if (!minutes) return '*/5';
  const utc = new Set<number>();
  for (const offset of offsets) for (const m of minutes) utc.add(mod(m - offset, 60));
  return formatSet(utc, 0, 59);
}

/** Every UTC offset (minutes east) the zone uses in `year`, ascending. */
export function zoneOffsets(timezone: string, year: number): number[] {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' });
  const offsets = new Set<number>();
  const start = Date.UTC(year, 0, 1);
  const end = Date.UTC(year + 1, 0, 1);
  for (let t = start; t < end; t += SAMPLE_EVERY_HOURS * 3_600_000) {
    const name = format.formatToParts(t).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
    offsets.add(parseGmtOffset(name));
  }
  return [...offsets].sort((a, b) => a - b);
}

function parseGmtOffset(name: string): number {
  const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `UTC${sign}${Math.floor(abs / 60)}${abs % 60 ? `:${String(abs % 60).padStart(2, '0')}` : ''}`;
}

/** A numeric cron field (`*`, `5`, `1-5`, `*\/15`, `0-30/10`, lists) as its values; undefined for names. */
export function parseField(field: string, min: number, max: number): Set<number> | undefined {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) return undefined;
    const from = match[1] === '*' ? min : Number(match[2]);
    const to = match[1] === '*' || (match[4] && match[3] === undefined) ? max : Number(match[3] ?? match[2]);
    const step = Number(match[4] ?? 1);
    if (from < min || to > max || from > to || step < 1) return undefined;
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function formatSet(values: Set<number>, min: number, max: number): string {
  if (values.size === max - min + 1) return '*';
  return [...values].sort((a, b) => a - b).join(',');
}

function mod(value: number, base: number): number {
  return ((value % base) + base) % base;
}
