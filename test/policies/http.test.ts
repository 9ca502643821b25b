import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CircuitOpenError } from '../../src/model/errors.ts';
import { BreakerRegistry } from '../../src/policies/circuit-breaker.ts';
import { HttpStatusError, NetworkError } from '../../src/policies/errors.ts';
import { fetchWithPolicy, type HttpPolicyDeps } from '../../src/policies/http.ts';
import { EMPTY_POLICY_CONFIG, resolvePolicy } from '../../src/policies/policy.ts';
import { RateLimiterRegistry } from '../../src/policies/rate-limit.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

let server: Server;
let base: string;
let handler: Handler;
let hits = 0;

beforeEach(async () => {
  hits = 0;
  server = createServer((req, res) => handler(req, res, ++hits));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function deps(overrides: Partial<HttpPolicyDeps> = {}) {
  const slept: number[] = [];
  const value: HttpPolicyDeps = {
    stage: 'fetch_orders',
    sleep: async (ms) => void slept.push(ms),
    random: () => 0.5,
    signal: new AbortController().signal,
    onRetry: () => {},
    ...overrides,
  };
  return { deps: value, slept };
}

const policy = (ref: Record<string, unknown>) => resolvePolicy(ref, EMPTY_POLICY_CONFIG);

describe('fetchWithPolicy against a local HTTP server', () => {
  it('retries 500s with backoff and returns the 200', async () => {
    handler = (_req, res, hit) => (hit <= 2 ? res.writeHead(500).end('oops') : res.writeHead(200).end('{"ok":true}'));
    const { deps: d, slept } = deps();
    const response = await fetchWithPolicy(`${base}/orders`, {}, policy({ jitter: 'none', initial_delay: '200ms' }), d);
    await expect(response.json()).resolves.toEqual({ ok: true });
    expect(hits).toBe(3);
    expect(slept).toEqual([200, 400]);
  });

  it('honours Retry-After on 429 (seconds) and 503 (HTTP-date), capped at max_delay', async () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    handler = (_req, res, hit) => {
      if (hit === 1) return res.writeHead(429, { 'retry-after': '2' }).end();
      if (hit === 2) return res.writeHead(503, { 'retry-after': 'Wed, 01 Jan 2025 00:10:00 GMT' }).end();
      res.writeHead(200).end('done');
    };
    const { deps: d, slept } = deps({ now: () => now });
    const response = await fetchWithPolicy(`${base}/x`, {}, policy({ max_delay: '1m' }), d);
    await expect(response.text()).resolves.toBe('done');
    expect(slept).toEqual([2000, 60_000]);
  });

  it('fails at once on a 404 with an HttpStatusError naming the URL, the body and what to do', async () => {
    handler = (_req, res) => res.writeHead(404).end();
    const { deps: d, slept } = deps();
    const request = fetchWithPolicy(`${base}/missing`, { method: 'POST' }, policy({}), d);
    await expect(request).rejects.toBeInstanceOf(HttpStatusError);
    await expect(request).rejects.toThrow(`POST ${base}/missing answered HTTP 404 Not Found: (empty body). Check with.url.`);
    expect(hits).toBe(1);
    expect(slept).toEqual([]);
  });

  it('quotes the error body and hints at credentials on 401, redacting secrets in the URL', async () => {
    handler = (_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":\n  "token expired"}');
    const request = fetchWithPolicy(`${base}/me?access_token=s3cret`, {}, policy({}), deps().deps);
    await expect(request).rejects.toMatchObject({
      status: 401,
      url: `${base}/me?access_token=***`,
      message: `GET ${base}/me?access_token=*** answered HTTP 401 Unauthorized: {"message": "token expired"}. Check the credentials sent in with.headers (e.g. {{ env.TOKEN }}).`,
    });
  });

  it('reads only the start of a huge or never-ending error body', async () => {
    handler = (req, res, hit) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      // The first answer is 8 MiB; the second sends 1 KiB and then stalls forever.
      if (hit === 1) return res.end('x'.repeat(8 * 1024 * 1024));
      res.write('y'.repeat(1024));
      req.on('close', () => res.destroy());
    };
    const first = fetchWithPolicy(`${base}/big`, {}, policy({ retries: 0 }), deps().deps);
    await expect(first).rejects.toThrow(`answered HTTP 500 Internal Server Error: ${'x'.repeat(200)}…. The server failed`);
    const started = Date.now();
    const second = fetchWithPolicy(`${base}/stalled`, {}, policy({ retries: 0 }), deps().deps);
    await expect(second).rejects.toThrow(`answered HTTP 500 Internal Server Error: ${'y'.repeat(200)}…. The server failed`);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('turns a reset connection into a retriable NetworkError', async () => {
    handler = (req, res, hit) => (hit === 1 ? req.socket.destroy() : res.writeHead(200).end('back'));
    const { deps: d, slept } = deps();
    const response = await fetchWithPolicy(`${base}/flaky`, {}, policy({ jitter: 'none' }), d);
    await expect(response.text()).resolves.toBe('back');
    expect(slept).toEqual([1000]);
  });

  it('rejects with NetworkError once retries are spent on a dead connection', async () => {
    handler = (req) => req.socket.destroy();
    const request = fetchWithPolicy(`${base}/dead`, {}, policy({ retries: 1 }), deps().deps);
    await expect(request).rejects.toBeInstanceOf(NetworkError);
    expect(hits).toBe(2);
  });

  it('opens the breaker for the host after repeated failures and then fails fast', async () => {
    handler = (_req, res) => res.writeHead(503).end();
    const changes: string[] = [];
    const breakers = new BreakerRegistry({ now: () => 0, onChange: (key, from, to) => void changes.push(`${key} ${from}→${to}`) });
    const p = policy({ retries: 0, breaker: { failures: 2, key: 'host' } });
    const { deps: d } = deps({ breakers });
    await expect(fetchWithPolicy(`${base}/a`, {}, p, d)).rejects.toBeInstanceOf(HttpStatusError);
    await expect(fetchWithPolicy(`${base}/b`, {}, p, d)).rejects.toBeInstanceOf(HttpStatusError);
    await expect(fetchWithPolicy(`${base}/c`, {}, p, d)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(hits).toBe(2);
    expect(changes).toEqual([`default:${new URL(base).host} closed→open`]);
  });

  it('queues requests behind the rate limit and reports the waits', async () => {
    handler = (_req, res) => res.writeHead(200).end();
    const limiters = new RateLimiterRegistry();
    const waits: [string, number][] = [];
    const { deps: d } = deps({ limiters, onRateLimitWait: (key, ms) => void waits.push([key, ms]) });
    const p = policy({ extends: 'polite-api', rate_limit: { per_second: 20 } });
    await Promise.all([1, 2, 3].map((n) => fetchWithPolicy(`${base}/${n}`, {}, p, d)));
    await limiters.stop();
    // Lower bounds only: a loaded machine can make any wait longer, never shorter than the spacing.
    const throttled = waits.filter(([, ms]) => ms >= 40);
    expect(throttled.length).toBeGreaterThanOrEqual(2);
    expect(new Set(throttled.map(([key]) => key))).toEqual(new Set([`polite-api:${new URL(base).host}`]));
    expect(Math.max(...throttled.map(([, ms]) => ms))).toBeGreaterThanOrEqual(90);
  });
});
