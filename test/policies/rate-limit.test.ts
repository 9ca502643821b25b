import { afterEach, describe, expect, it, vi } from 'vitest';
import { RateLimiterRegistry } from '../../src/policies/rate-limit.ts';

let registry: RateLimiterRegistry;
afterEach(async () => {
  await registry?.stop();
  vi.useRealTimers();
});

describe('RateLimiterRegistry', () => {
  // The achieved rate against a real server (±5 %) is measured in bench/resilience.ts: wall-clock
  // figures are benchmarks, not assertions. Here bottleneck runs on fake timers (it reads Date.now
  // and sets timeouts), so every start time is exact; its zero-delay yields count as 1 ms on fake
  // timers, hence a gap of 19–20 ms at 50/s rather than exactly 20.
  it('starts calls 1000 / per_second ms apart, on the clock', async () => {
    vi.useFakeTimers({ now: 0 });
    registry = new RateLimiterRegistry({ now: () => Date.now() });
    const starts: number[] = [];
    const settings = { perSecond: 50, maxConcurrent: null, key: 'host' as const };
    const calls = Promise.all(Array.from({ length: 10 }, () => registry.schedule('p:h', settings, async () => void starts.push(Date.now()))));
    await vi.advanceTimersByTimeAsync(1_000);
    await calls;
    const gaps = starts.slice(1).map((start, i) => start - starts[i]);
    expect(gaps).toHaveLength(9);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(19);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(20);
    expect(starts[9] - starts[0]).toBeGreaterThanOrEqual(179);
  });

  it('shares one limit per key and reports how long each call waited', async () => {
    vi.useFakeTimers({ now: 0 });
    registry = new RateLimiterRegistry({ now: () => Date.now() });
    const settings = { perSecond: 20, maxConcurrent: null, key: 'host' as const };
    const calls = Promise.all([1, 2, 3].map((n) => registry.schedule('p:h', settings, async () => n)));
    const other = registry.schedule('p:other', settings, async () => 'free');
    await vi.advanceTimersByTimeAsync(1_000);
    const results = await calls;
    expect(results.map((r) => r.value)).toEqual([1, 2, 3]);
    const [first, second, third] = results.map((r) => r.waitedMs);
    expect(first).toBeLessThanOrEqual(2);
    expect(second - first).toBeGreaterThanOrEqual(49);
    expect(second - first).toBeLessThanOrEqual(50);
    expect(third - second).toBe(50);
    // Another key has its own limiter: it waits no more than the first call of 'p:h'.
    expect((await other).waitedMs).toBeLessThanOrEqual(first);
  });

  it('never runs more than max_concurrent calls at once', async () => {
    registry = new RateLimiterRegistry();
    const settings = { perSecond: null, maxConcurrent: 2, key: 'stage' as const };
    let running = 0;
    let peak = 0;
    const call = () => registry.schedule('p:s', settings, async () => {
      peak = Math.max(peak, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
    });
    await Promise.all(Array.from({ length: 6 }, call));
    expect(peak).toBe(2);
  });

  it('rejects a queued call with the abort reason instead of starting it', async () => {
    registry = new RateLimiterRegistry();
    const settings = { perSecond: 10, maxConcurrent: null, key: 'host' as const };
    const controller = new AbortController();
    const first = registry.schedule('p:h', settings, async () => 'first');
    const second = registry.schedule('p:h', settings, async () => 'second', controller.signal);
    controller.abort(new Error('stage timed out'));
    await expect(first).resolves.toMatchObject({ value: 'first' });
    await expect(second).rejects.toThrow('stage timed out');
  });
});
