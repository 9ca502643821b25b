/**
 * Cron rules of GitHub Actions schedules, checked before a pipeline is committed: GitHub reads
 * POSIX 5-field cron only, runs schedules at most every 5 minutes, and is busiest (ticks delayed
 * or dropped) at minute 0. Parsing is croner's; the GitHub-specific rules are ours.
 */
import { Cron, CronPattern } from 'croner';
import { suggest } from '../model/did-you-mean.ts';

export interface CronProblem {
  /** WEIR401 invalid cron, WEIR402 too frequent, WEIR403 time zone, WEIR404 minute 0. */
  code: 'WEIR401' | 'WEIR402' | 'WEIR403' | 'WEIR404';
  severity: 'error' | 'warning';
  /** Which schedule field the problem is about. */
  field: 'cron' | 'timezone';
  message: string;
}

/** GitHub Actions runs scheduled workflows at most this often. */
export const MIN_SCHEDULE_MINUTES = 5;

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const FIELDS_HELP = 'minute (0-59), hour (0-23), day of month (1-31), month (1-12 or JAN-DEC), day of week (0-6 or SUN-SAT)';

/** Every problem of `expr` read in `timezone`; an empty list means GitHub and weir accept it. */
export function checkCron(expr: string, timezone: string): CronProblem[] {
  const problems: CronProblem[] = [];
  const timezoneProblem = checkTimezone(timezone);
  if (timezoneProblem) problems.push(timezoneProblem);
  const shapeProblem = checkShape(expr.trim());
  if (shapeProblem) return [shapeProblem, ...problems];
  const fields = expr.trim().split(/\s+/);
  let pattern: CronPattern;
  try {
    pattern = new CronPattern(fields.join(' '), undefined, { mode: '5-part' });
  } catch (error) {
    const reason = (error as Error).message.replace(/^CronPattern:\s*/, '');
    return [error401(`cron '${expr}' is invalid: ${lowerFirst(reason)}; the fields are ${FIELDS_HELP}`), ...problems];
  }
  if (new Cron(fields.join(' '), { mode: '5-part', paused: true }).nextRun() === null) {
    problems.push(error401(`cron '${expr}' never runs (no such date): check the day of month and month`));
  }
  const gap = shortestGapMinutes(pattern);
  if (gap < MIN_SCHEDULE_MINUTES) {
    const every = gap === 1 ? 'every minute' : `every ${gap} minutes`;
    problems.push({
      code: 'WEIR402',
      severity: 'error',
      field: 'cron',
      message: `cron '${expr}' runs ${every}; GitHub Actions runs schedules at most every ${MIN_SCHEDULE_MINUTES} minutes: space the minutes at least ${MIN_SCHEDULE_MINUTES} apart (e.g. '*/${MIN_SCHEDULE_MINUTES} * * * *')`,
    });
  }
  if (fields[0].split(',').some((part) => /^0+$/.test(part))) {
    problems.push({
      code: 'WEIR404',
      severity: 'warning',
      field: 'cron',
      message: `cron '${expr}' runs at minute 0, GitHub's busiest minute, when scheduled runs are often delayed or dropped: pick another minute, e.g. '${['17', ...fields.slice(1)].join(' ')}'`,
    });
  }
  return problems;
}

function checkShape(expr: string): CronProblem | undefined {
  const macro = MACROS[expr.toLowerCase()];
  if (macro) return error401(`GitHub Actions does not accept '${expr}': write the 5-field form '${macro}' (better with a minute other than 0)`);
  if (expr.startsWith('@')) return error401(`GitHub Actions does not accept '${expr}': write a 5-field cron (${FIELDS_HELP})`);
  const count = expr === '' ? 0 : expr.split(/\s+/).length;
  if (count === 6 || count === 7) {
    return error401(`cron '${expr}' has ${count} fields; GitHub Actions reads exactly 5 (no seconds, no years): remove the ${count === 6 ? 'seconds or year field' : 'seconds and year fields'}`);
  }
  if (count !== 5) return error401(`cron '${expr}' has ${count} field${count === 1 ? '' : 's'}; write exactly 5: ${FIELDS_HELP}`);
  const unsupported = /[LW#?]/i.exec(expr.replace(/\b(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT)\b/gi, ''));
  if (unsupported) return error401(`cron '${expr}' uses '${unsupported[0]}', which GitHub Actions does not support: use only numbers, names, * , - and /`);
  return undefined;
}

/**
 * Shortest time between two consecutive ticks, in minutes, worked out from the minute and hour
 * sets: gaps inside an hour always occur; the gap across the hour boundary (e.g. 58 → 02) only
 * when two consecutive hours are scheduled. Exact for the 5-minute rule, whatever the date.
 */
function shortestGapMinutes(pattern: CronPattern): number {
  const minutes = flagsToValues(pattern.minute);
  const hours = flagsToValues(pattern.hour);
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < minutes.length; i++) gap = Math.min(gap, minutes[i] - minutes[i - 1]);
  const consecutiveHours = hours.some((hour) => hours.includes((hour + 1) % 24));
  if (consecutiveHours) gap = Math.min(gap, 60 - minutes[minutes.length - 1] + minutes[0]);
  return gap;
}

function flagsToValues(flags: readonly number[]): number[] {
  const values: number[] = [];
  flags.forEach((flag, value) => {
    if (flag) values.push(value);
  });
  return values;
}

/** A problem with `timezone`, with a suggestion, or undefined when the runtime knows the zone. */
export function checkTimezone(timezone: string): CronProblem | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return undefined;
  } catch {
    const zones = [...Intl.supportedValuesOf('timeZone'), 'UTC'];
    const guess = suggest(timezone, zones) ?? suggestByCity(timezone, zones);
    const hint = guess ? `did you mean '${guess}'?` : "use an IANA name such as 'UTC' or 'Europe/Paris'";
    return { code: 'WEIR403', severity: 'error', field: 'timezone', message: `unknown time zone '${timezone}': ${hint}` };
  }
}

// 'Paris' or 'new york' match the city part of 'Europe/Paris', 'America/New_York'.
function suggestByCity(timezone: string, zones: readonly string[]): string | undefined {
  const city = timezone.trim().toLowerCase().replace(/\s+/g, '_');
  return zones.find((zone) => zone.toLowerCase().split('/').pop() === city);
}

function error401(message: string): CronProblem {
  return { code: 'WEIR401', severity: 'error', field: 'cron', message };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
