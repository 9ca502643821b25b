/**
 * One HTTP request under a policy: rate limit, then circuit breaker, then fetch, retried with the
 * policy's backoff. Non-2xx answers become HttpStatusError (with Retry-After on 429/503) and broken
 * connections NetworkError, so retry_on can tell them apart. `fetch` is injected for tests and
 * adapters; the default is the global one.
 */
import { retryAfterMs } from './backoff.ts';
import type { BreakerRegistry } from './circuit-breaker.ts';
import { HttpStatusError, NetworkError } from './errors.ts';
import { dependencyKey, type ResolvedPolicy } from './policy.ts';
import type { RateLimiterRegistry } from './rate-limit.ts';
import { executeWithPolicy, type RetryDeps } from './retry.ts';

/**
 * Queueing shorter than this is bottleneck's own bookkeeping (a few ms even when the limit is not
 * reached), not throttling; reporting it would emit a `ratelimit.waited` event for every request.
 */
export const REPORTED_WAIT_MS = 10;

/** Statuses whose Retry-After header is honoured (RFC 9110 §10.2.3). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

export interface HttpPolicyDeps extends RetryDeps {
  /** Stage making the request: used in errors and as the key when a policy's key is `stage`. */
  stage: string;
  fetch?: typeof fetch;
  /** Epoch ms, to read Retry-After dates. Default: Date.now. */
  now?: () => number;
  /** The run's breakers; without it the policy's breaker is not applied. */
  breakers?: BreakerRegistry;
  /** The run's rate limiters; without it the policy's rate limit is not applied. */
  limiters?: RateLimiterRegistry;
  /** Called when a request queued behind the rate limit; emit `ratelimit.waited` here. */
  onRateLimitWait?(key: string, waitedMs: number): void;
}

/** Resolves with the first 2xx response (body unread), or rejects with the last error once retries are spent. */
export function fetchWithPolicy(url: string | URL, init: RequestInit, policy: ResolvedPolicy, deps: HttpPolicyDeps): Promise<Response> {
  return executeWithPolicy(() => fetchOnce(String(url), init, policy, deps), policy, deps);
}

async function fetchOnce(url: string, init: RequestInit, policy: ResolvedPolicy, deps: HttpPolicyDeps): Promise<Response> {
  const request = () => requestOnce(url, init, deps);
  const limited = async () => {
    const { rateLimit } = policy;
    if (!rateLimit || !deps.limiters) return request();
    const key = dependencyKey(policy.name, rateLimit.key, { stage: deps.stage, url });
    const { value, waitedMs } = await deps.limiters.schedule(key, rateLimit, request, deps.signal);
    if (waitedMs >= REPORTED_WAIT_MS) deps.onRateLimitWait?.(key, waitedMs);
    return value;
  };
  const { breaker } = policy;
  if (!breaker || !deps.breakers) return limited();
  return deps.breakers.guard(dependencyKey(policy.name, breaker.key, { stage: deps.stage, url }), breaker, limited);
}

async function requestOnce(url: string, init: RequestInit, deps: HttpPolicyDeps): Promise<Response> {
  const signal = init.signal ? AbortSignal.any([deps.signal, init.signal]) : deps.signal;
  let response: Response;
  try {
    response = await (deps.fetch ?? fetch)(url, { ...init, signal });
  } catch (error) {
    signal.throwIfAborted();
    throw new NetworkError(url, { cause: (error as { cause?: unknown }).cause ?? error, stage: deps.stage });
  }
  if (response.ok) return response;
  // Free the connection: the body of an error answer is not used.
  await response.body?.cancel().catch(() => {});
  const header = RETRY_AFTER_STATUSES.has(response.status) ? response.headers.get('retry-after') : null;
  throw new HttpStatusError(
    { status: response.status, url, method: init.method, retryAfterMs: retryAfterMs(header, (deps.now ?? Date.now)()) },
    { stage: deps.stage },
  );
}
