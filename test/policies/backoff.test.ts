import { describe, expect, it } from 'vitest';
import { computeDelay, retryAfterMs, type BackoffSettings } from '../../src/policies/backoff.ts';

const settings = (overrides: Partial<BackoffSettings>): BackoffSettings => ({
  kind: 'exponential',
  initialDelayMs: 1000,
  factor: 2,
  maxDelayMs: 10_000,
  jitter: 'none',
  ...overrides,
});

const schedule = (s: BackoffSettings, random: () => number, attempts = 6) =>
  Array.from({ length: attempts }, (_, i) => computeDelay(s, i + 1, random));

describe('computeDelay', () => {
  const half = () => 0.5;
  const cases: [BackoffSettings['kind'], BackoffSettings['jitter'], number[]][] = [
    ['fixed', 'none', [1000, 1000, 1000, 1000, 1000, 1000]],
    ['fixed', 'full', [500, 500, 500, 500, 500, 500]],
    ['fixed', 'equal', [750, 750, 750, 750, 750, 750]],
    ['linear', 'none', [1000, 2000, 3000, 4000, 5000, 6000]],
    ['linear', 'full', [500, 1000, 1500, 2000, 2500, 3000]],
    ['linear', 'equal', [750, 1500, 2250, 3000, 3750, 4500]],
    ['exponential', 'none', [1000, 2000, 4000, 8000, 10_000, 10_000]],
    ['exponential', 'full', [500, 1000, 2000, 4000, 5000, 5000]],
    ['exponential', 'equal', [750, 1500, 3000, 6000, 7500, 7500]],
  ];
  it.each(cases)('gives the exact schedule for %s backoff with %s jitter (random = 0.5)', (kind, jitter, expected) => {
    expect(schedule(settings({ kind, jitter }), half)).toEqual(expected);
  });

  it('spans [0, d) with full jitter and [d/2, d) with equal jitter at the extremes of random', () => {
    const s = settings({ kind: 'fixed' });
    expect(computeDelay({ ...s, jitter: 'full' }, 1, () => 0)).toBe(0);
    expect(computeDelay({ ...s, jitter: 'full' }, 1, () => 0.999)).toBe(999);
    expect(computeDelay({ ...s, jitter: 'equal' }, 1, () => 0)).toBe(500);
    expect(computeDelay({ ...s, jitter: 'equal' }, 1, () => 0.999)).toBe(1000);
  });

  it('uses the factor for exponential backoff and caps it at max delay even for huge attempt numbers', () => {
    expect(schedule(settings({ factor: 3, maxDelayMs: 100_000 }), half, 4)).toEqual([1000, 3000, 9000, 27_000]);
    expect(computeDelay(settings({}), 5000, half)).toBe(10_000);
  });

  it('never waits when the initial delay is zero (no backoff)', () => {
    expect(schedule(settings({ initialDelayMs: 0, maxDelayMs: 0 }), half, 3)).toEqual([0, 0, 0]);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delta-seconds', () => {
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP-date relative to now, and a past date as zero', () => {
    expect(retryAfterMs('Wed, 01 Jan 2025 00:00:07 GMT', now)).toBe(7000);
    expect(retryAfterMs('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });

  it('returns undefined for a missing or unparseable header', () => {
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-5', now)).toBeUndefined();
  });
});
