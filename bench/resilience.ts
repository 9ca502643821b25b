/**
 * Resilience: (1) the rate a policy's rate limit actually achieves against a real HTTP server on
 * loopback, for 5/s and 50/s over 200+ requests each (target: within ±5 % of the configured rate);
 * (2) retry overhead: the time an attempt loop takes beyond the delays it was told to wait, per
 * attempt, measured with real sleeps.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BreakerRegistry } from '../src/policies/circuit-breaker.ts';
import { fetchWithPolicy } from '../src/policies/http.ts';
import { EMPTY_POLICY_CONFIG, resolvePolicy } from '../src/policies/policy.ts';
import { RateLimiterRegistry } from '../src/policies/rate-limit.ts';
import { executeWithPolicy, sleep } from '../src/policies/retry.ts';
import { markdownTable, round, type Suite } from './lib.ts';

async function achievedRate(base: string, perSecond: number, requests: number) {
  const policy = resolvePolicy({ retries: 0, rate_limit: { per_second: perSecond, key: 'host' } }, EMPTY_POLICY_CONFIG);
  const limiters = new RateLimiterRegistry();
  const signal = new AbortController().signal;
  const deps = { stage: 'bench', signal, sleep, random: Math.random, onRetry: () => {}, limiters, breakers: new BreakerRegistry({ now: Date.now }) };
  await Promise.all(
    Array.from({ length: requests }, async () => {
      const response = await fetchWithPolicy(`${base}/ok`, {}, policy, deps);
      await response.arrayBuffer();
    }),
  );
  await limiters.stop();
}

async function benchResilience() {
  const arrivals: number[] = [];
  const server = createServer((_req, res) => {
    arrivals.push(performance.now());
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rates: Record<string, { requests: number; achievedPerSecond: number; errorPct: number }> = {};
  try {
    for (const [perSecond, requests] of [
      [5, 201],
      [50, 401],
    ] as const) {
      arrivals.length = 0;
      await achievedRate(base, perSecond, requests);
      // Rate between the first and last arrival at the server: (n - 1) intervals.
      const achieved = ((arrivals.length - 1) * 1000) / (arrivals[arrivals.length - 1] - arrivals[0]);
      rates[`${perSecond}/s`] = { requests: arrivals.length, achievedPerSecond: round(achieved, 3), errorPct: round(((achieved - perSecond) / perSecond) * 100, 2) };
    }
  } finally {
    server.close();
  }

  // Retry overhead: 20 attempts of failing work, 10 ms fixed delay between them, real sleep.
  const policy = resolvePolicy({ retries: 19, backoff: 'fixed', initial_delay: '10ms', jitter: 'none' }, EMPTY_POLICY_CONFIG);
  const signal = new AbortController().signal;
  let attempts = 0;
  const scheduled: number[] = [];
  const started = performance.now();
  await executeWithPolicy(
    async () => {
      attempts++;
      if (attempts < 20) throw new Error('transient');
      return 'ok';
    },
    policy,
    { signal, sleep, random: Math.random, onRetry: (_n, _e, delayMs) => scheduled.push(delayMs) },
  ).catch(() => undefined);
  const total = performance.now() - started;
  const waited = scheduled.reduce((a, b) => a + b, 0);
  return { rates, retry: { attempts, scheduledDelayMs: waited, totalMs: round(total), overheadPerAttemptMs: round((total - waited) / attempts, 3) } };
}

type ResilienceResult = Awaited<ReturnType<typeof benchResilience>>;

function resilienceTable(r: ResilienceResult): string {
  const rate = (perSecond: number) => {
    const measured = r.rates[`${perSecond}/s`];
    const sign = measured.errorPct > 0 ? '+' : '';
    return [`${perSecond} requests/s over ${measured.requests} requests`, `**${measured.achievedPerSecond}/s** (${sign}${measured.errorPct.toFixed(2)} %)`, '±5 %'];
  };
  return markdownTable(
    ['Measure', 'Result', 'Target'],
    [rate(5), rate(50), ['retry overhead per attempt (beyond the scheduled delays)', `**${r.retry.overheadPerAttemptMs} ms**`, '']],
  );
}

export const resilience: Suite<ResilienceResult> = { run: () => benchResilience(), table: resilienceTable };
