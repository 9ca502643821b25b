import { afterEach, describe, expect, it } from 'vitest';
import { RateLimiterRegistry } from '../../src/policies/rate-limit.ts';

let registry: RateLimiterRegistry;
afterEach(async () => registry?.stop());

describe('RateLimiterRegistry', () => {
  it('achieves 50 calls/s within ±5 % over 200 calls (measured from call start times)', async () => {
    registry = new RateLimiterRegistry();
    const starts: number[] = [];
    const settings = { perSecond: 50, maxConcurrent: null, key: 'host' as const };
    await Promise.all(Array.from({ length: 200 }, () => registry.schedule('p:h', settings, async () => void starts.push(performance.now()))));
    const achieved = (starts.length - 1) / ((starts[starts.length - 1] - starts[0]) / 1000);
    expect(achieved).toBeGreaterThan(50 * 0.95);
    expect(achieved).toBeLessThan(50 * 1.05);
  }, 15_000);

  it('shares one limit per key and reports how long each call waited', async () => {
    registry = new RateLimiterRegistry();
    const settings = { perSecond: 20, maxConcurrent: null, key: 'host' as const };
    const results = await Promise.all([1, 2, 3].map((n) => registry.schedule('p:h', settings, async () => n)));
    expect(results.map((r) => r.value)).toEqual([1, 2, 3]);
    expect(results[0].waitedMs).toBeLessThan(40);
    expect(results[2].waitedMs).toBeGreaterThanOrEqual(90);
    const other = await registry.schedule('p:other', settings, async () => 'free');
    expect(other.waitedMs).toBeLessThan(40);
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
