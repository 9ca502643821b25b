import { describe, expect, it } from 'vitest';
import { CircuitOpenError, StageFailedError } from '../../src/model/errors.ts';
import { BreakerRegistry, judgeFailure, type BreakerState } from '../../src/policies/circuit-breaker.ts';
import { HttpStatusError } from '../../src/policies/errors.ts';
import type { BreakerSettings } from '../../src/policies/policy.ts';

const settings: BreakerSettings = { failures: 3, windowMs: 10_000, halfOpenAfterMs: 60_000, key: 'host' };
const KEY = 'polite-api:api.example.com';

function setup() {
  let now = Date.parse('2025-01-01T00:00:00Z');
  const changes: [string, BreakerState, BreakerState][] = [];
  const registry = new BreakerRegistry({ now: () => now, onChange: (key, from, to) => void changes.push([key, from, to]) });
  const fail = () => registry.guard(KEY, settings, async () => { throw new StageFailedError('upstream down'); });
  const succeed = () => registry.guard(KEY, settings, async () => 'ok');
  return { registry, changes, fail, succeed, advance: (ms: number) => void (now += ms) };
}

describe('BreakerRegistry', () => {
  it('opens after N failures within the window and then fails fast without calling the work', async () => {
    const { registry, changes, fail } = setup();
    for (let i = 0; i < 3; i++) await expect(fail()).rejects.toThrow('upstream down');
    expect(changes).toEqual([[KEY, 'closed', 'open']]);
    let called = false;
    const blocked = registry.guard(KEY, settings, async () => void (called = true));
    await expect(blocked).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(blocked).rejects.toThrow(
      `circuit '${KEY}' is open after 3 failures within 10.0s: calls fail fast until a probe in 1m (at 2025-01-01T00:01:00.000Z). ` +
        'Check that the dependency is healthy, or raise breaker.failures in weir.yml if it is just flaky.',
    );
    expect(called).toBe(false);
  });

  it('does not open when the failures are spread wider than the window', async () => {
    const { registry, fail, advance } = setup();
    for (let i = 0; i < 5; i++) {
      await expect(fail()).rejects.toThrow('upstream down');
      advance(6000);
    }
    expect(registry.get(KEY, settings).state).toBe('closed');
  });

  it('goes closed → open → half_open → closed when the probe succeeds', async () => {
    const { changes, fail, succeed, advance } = setup();
    for (let i = 0; i < 3; i++) await expect(fail()).rejects.toThrow();
    advance(59_999);
    await expect(succeed()).rejects.toBeInstanceOf(CircuitOpenError);
    advance(1);
    await expect(succeed()).resolves.toBe('ok');
    expect(changes.map(([, from, to]) => `${from}→${to}`)).toEqual(['closed→open', 'open→half_open', 'half_open→closed']);
  });

  it('opens again when the probe fails, and waits a full half_open_after before the next probe', async () => {
    const { changes, fail, succeed, advance } = setup();
    for (let i = 0; i < 3; i++) await expect(fail()).rejects.toThrow();
    advance(60_000);
    await expect(fail()).rejects.toThrow('upstream down');
    expect(changes.map(([, from, to]) => `${from}→${to}`)).toEqual(['closed→open', 'open→half_open', 'half_open→open']);
    advance(59_000);
    await expect(succeed()).rejects.toBeInstanceOf(CircuitOpenError);
    advance(1000);
    await expect(succeed()).resolves.toBe('ok');
  });

  it('lets one probe through at a time while half open', async () => {
    const { registry, fail, advance } = setup();
    for (let i = 0; i < 3; i++) await expect(fail()).rejects.toThrow();
    advance(60_000);
    let release!: () => void;
    const probe = registry.guard(KEY, settings, () => new Promise<string>((resolve) => (release = () => resolve('probed'))));
    await expect(registry.guard(KEY, settings, async () => 'second')).rejects.toThrow('a probe call is in flight');
    release();
    await expect(probe).resolves.toBe('probed');
    expect(registry.get(KEY, settings).state).toBe('closed');
  });

  it('keeps separate circuits per key', async () => {
    const { registry, fail } = setup();
    for (let i = 0; i < 3; i++) await expect(fail()).rejects.toThrow();
    await expect(registry.guard('polite-api:other.example.com', settings, async () => 'ok')).resolves.toBe('ok');
  });
});

describe('judgeFailure', () => {
  it('counts 5xx, 408, 429 and other errors against the dependency but not 4xx client errors or cancellation', () => {
    const http = (status: number) => new HttpStatusError({ status, url: 'http://x/' });
    expect([500, 503, 408, 429, 404, 401].map((s) => judgeFailure(http(s)))).toEqual([
      'unhealthy', 'unhealthy', 'unhealthy', 'unhealthy', 'healthy', 'healthy',
    ]);
    expect(judgeFailure(new Error('ECONNRESET'))).toBe('unhealthy');
    expect(judgeFailure(new DOMException('aborted', 'AbortError'))).toBe('unknown');
  });
});
