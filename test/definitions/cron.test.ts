import { describe, expect, it } from 'vitest';
import { checkCron } from '../../src/definitions/cron.ts';
import { nextTicks, previousTick } from '../../src/planner/schedule.ts';

const codes = (expr: string, timezone = 'UTC') => checkCron(expr, timezone).map((p) => p.code);

describe('checkCron', () => {
  it('accepts a 5-field cron at a quiet minute', () => {
    expect(checkCron('17 6 * * *', 'UTC')).toEqual([]);
    expect(checkCron('*/15 8-18 * * MON-FRI', 'America/New_York')).toEqual([]);
  });

  it('accepts every 5 minutes, the fastest GitHub Actions allows', () => {
    expect(codes('*/5 * * * *')).toEqual([]);
  });

  it('rejects */4 as running every 4 minutes', () => {
    expect(checkCron('*/4 * * * *', 'UTC')[0].message).toBe(
      "cron '*/4 * * * *' runs every 4 minutes; GitHub Actions runs schedules at most every 5 minutes: space the minutes at least 5 apart (e.g. '*/5 * * * *')",
    );
  });

  it('rejects */2 and * as too frequent', () => {
    expect(checkCron('*/2 * * * *', 'UTC')[0].message).toContain('runs every 2 minutes');
    expect(checkCron('* * * * *', 'UTC')[0].message).toContain('runs every minute');
  });

  it('rejects minutes 0 and 3 as 3 minutes apart, and warns about minute 0', () => {
    expect(codes('0,3 * * * *')).toEqual(['WEIR402', 'WEIR404']);
  });

  it('counts the gap across the hour only when consecutive hours are scheduled', () => {
    expect(codes('58,1 * * * *')).toEqual(['WEIR402']);
    expect(codes('58,1 3 * * *')).toEqual([]);
  });

  it('rejects macros and suggests the 5-field form', () => {
    expect(checkCron('@daily', 'UTC')).toEqual([
      { code: 'WEIR401', severity: 'error', field: 'cron', message: "GitHub Actions does not accept '@daily': write the 5-field form '0 0 * * *' (better with a minute other than 0)" },
    ]);
    expect(checkCron('@hourly', 'UTC')[0].message).toContain("'0 * * * *'");
  });

  it('rejects 6 fields (seconds or years) and 4 fields', () => {
    expect(checkCron('0 17 6 * * *', 'UTC')[0].message).toBe(
      "cron '0 17 6 * * *' has 6 fields; GitHub Actions reads exactly 5 (no seconds, no years): remove the seconds or year field",
    );
    expect(checkCron('17 6 * *', 'UTC')[0].message).toContain('has 4 fields; write exactly 5');
  });

  it('rejects values out of range with croner’s reason', () => {
    expect(checkCron('61 6 * * *', 'UTC')[0].message).toContain('invalid value for minute: 61');
    expect(codes('17 25 * * *')).toEqual(['WEIR401']);
  });

  it('rejects extensions GitHub does not support and dates that never occur', () => {
    expect(checkCron('17 6 L * *', 'UTC')[0].message).toContain("uses 'L'");
    expect(checkCron('17 6 30 2 *', 'UTC')[0].message).toContain('never runs');
  });

  it('rejects an unknown time zone with a suggestion', () => {
    expect(checkCron('17 6 * * *', 'Europe/Pariss')).toEqual([
      { code: 'WEIR403', severity: 'error', field: 'timezone', message: "unknown time zone 'Europe/Pariss': did you mean 'Europe/Paris'?" },
    ]);
    expect(checkCron('17 6 * * *', 'new york')[0].message).toBe("unknown time zone 'new york': did you mean 'America/New_York'?");
  });

  it('warns about minute 0 with a suggested minute', () => {
    expect(checkCron('0 6 * * *', 'UTC')).toEqual([
      {
        code: 'WEIR404',
        severity: 'warning',
        field: 'cron',
        message: "cron '0 6 * * *' runs at minute 0, GitHub's busiest minute, when scheduled runs are often delayed or dropped: pick another minute, e.g. '17 6 * * *'",
      },
    ]);
  });
});

describe('nextTicks and previousTick', () => {
  it('lists the next ticks strictly after the start, in the schedule’s time zone', () => {
    expect(nextTicks('17 6 * * *', 'Europe/Paris', new Date('2024-01-02T05:17:00Z'), 2).map((d) => d.toISOString())).toEqual([
      '2024-01-03T05:17:00.000Z',
      '2024-01-04T05:17:00.000Z',
    ]);
  });

  it('gives the latest tick at or before a moment', () => {
    expect(previousTick('17 6 * * *', 'UTC', new Date('2024-01-02T06:17:00Z'))?.toISOString()).toBe('2024-01-02T06:17:00.000Z');
    expect(previousTick('17 6 * * *', 'UTC', new Date('2024-01-02T06:16:59Z'))?.toISOString()).toBe('2024-01-01T06:17:00.000Z');
  });
});
