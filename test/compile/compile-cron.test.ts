import { describe, expect, it } from 'vitest';
import { parseField, toUtcSchedule, zoneOffsets } from '../../src/use-cases/compile-cron.ts';
import { NOW } from './helpers.ts';

describe('toUtcSchedule', () => {
  it('keeps a UTC cron as written, without a note', () => {
    expect(toUtcSchedule('17  6 * * *', 'UTC', NOW)).toEqual({ crons: ['17 6 * * *'], exact: true });
  });

  it('converts a zone with one whole-hour offset exactly, and says so', () => {
    const schedule = toUtcSchedule('0 9 * * *', 'Asia/Tokyo', NOW);
    expect(schedule).toMatchObject({ crons: ['0 0 * * *'], exact: true });
    expect(schedule.note).toContain("'0 9 * * *' in Asia/Tokyo (UTC+9) is '0 0 * * *' in UTC");
  });

  it('moves the day of week when the UTC time falls on the day before', () => {
    expect(toUtcSchedule('30 3 * * 1', 'Asia/Tokyo', NOW).crons).toEqual(['30 18 * * 0']);
    expect(toUtcSchedule('0 22 * * 1-5', 'America/New_York', NOW)).toMatchObject({ crons: ['0 2,3 * * 2,3,4,5,6'], exact: false });
  });

  it('ticks at the UTC hours of both offsets of a zone with daylight saving time', () => {
    const schedule = toUtcSchedule('23 7 * * 1', 'Europe/Berlin', NOW);
    expect(schedule).toMatchObject({ crons: ['23 5,6 * * 1'], exact: false });
    expect(schedule.note).toContain('UTC+1 and UTC+2');
    expect(schedule.note).toContain('weir runs only the interval that is due');
  });

  it('keeps an every-hour cron when the offsets are whole hours', () => {
    expect(toUtcSchedule('*/15 * * * *', 'Europe/Lisbon', NOW)).toEqual({ crons: ['*/15 * * * *'], exact: true });
    expect(toUtcSchedule('41 * * * *', 'Asia/Tokyo', NOW)).toEqual({ crons: ['41 * * * *'], exact: true });
  });

  it('falls back to an hourly heartbeat on the shifted minutes for a half-hour offset', () => {
    const schedule = toUtcSchedule('45 2 * * *', 'Asia/Kolkata', NOW);
    expect(schedule).toMatchObject({ crons: ['15 * * * *'], exact: false });
    expect(schedule.note).toContain('hourly heartbeat');
  });

  it('falls back to the heartbeat when a restricted day of month would cross midnight', () => {
    expect(toUtcSchedule('0 5 1 * *', 'Asia/Tokyo', NOW).crons).toEqual(['0 * * * *']);
  });
});

describe('zoneOffsets and parseField', () => {
  it('lists both offsets of a DST zone and one of a zone without DST', () => {
    expect(zoneOffsets('Europe/Berlin', 2026)).toEqual([60, 120]);
    expect(zoneOffsets('Asia/Tokyo', 2026)).toEqual([540]);
  });

  it('expands numeric fields and refuses names', () => {
    expect([...(parseField('1-5,*/20', 0, 59) ?? [])].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 20, 40]);
    expect(parseField('MON-FRI', 0, 6)).toBeUndefined();
    expect(parseField('10/20', 0, 59)).toEqual(new Set([10, 30, 50]));
  });
});
