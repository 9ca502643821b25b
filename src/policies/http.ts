/**
 * One HTTP request under a policy: rate limit, then circuit breaker, then fetch, retried with the
 * policy's backoff; `downloadWithPolicy` also streams the body to a file inside the retried request. Non-2xx answers become HttpStatusError (with Retry-After on 429/503) and broken
 * connections NetworkError, so retry_on can tell them apart. The error message quotes the start of
 * the answer's body (what the API says went wrong) and a hint. `fetch` is injected for tests and
 * adapters; the default is the global one.
 */
import { formatDuration } from '../model/duration.ts';
import { writeBody } from './http-body.ts';
import { retryAfterMs } from './backoff.ts';
import type { BreakerRegistry } from './circuit-breaker.ts';
import { HttpStatusError, NetworkError, redactUrl, RequestTimeoutError, statusHint } from './errors.ts';
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

/** How much of an error answer's body goes into the message: enough for an API's error text. */
export const SNIPPET_CHARS = 200;
/**
 * Longest wait for that snippet: a server that sends its headers and then stalls must not hold
 * the retry loop (a real timer, but tests never reach it; the snippet is only for the message).
 */
const SNIPPET_WAIT_MS = 2000;

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
  return executeWithPolicy(() => fetchOnce(String(url), init, policy, deps, async (response) => response), policy, deps);
}

/** What a download got: the answer's status and headers (its body is in the file). */
export interface Downloaded {
  status: number;
  headers: Headers;
  /** The URL as requested (not redacted: the caller builds the next page's URL from it). */
  url: string;
  bytes: number;
}

/**
 * One request whose 2xx body is streamed into `file` (never held in memory), under the policy:
 * the policy `timeout` bounds the wait for the answer to start, `body_timeout` each silence while
 * the body streams in, so a slow but live body is never cut. A body that stalls, breaks off or is
 * shorter than its content-length fails this request, and the request (not the stage) is retried,
 * writing the file afresh.
 */
export function downloadWithPolicy(url: string, init: RequestInit, file: string, policy: ResolvedPolicy, deps: HttpPolicyDeps): Promise<Downloaded> {
  const consume = async (response: Response, signal: AbortSignal): Promise<Downloaded> => {
    const bytes = await writeBody(response, file, { url, idleMs: policy.bodyTimeoutMs, signal, stage: deps.stage });
    return { status: response.status, headers: response.headers, url, bytes };
  };
  return executeWithPolicy(() => fetchOnce(url, init, policy, deps, consume), policy, deps);
}

type Consume<T> = (response: Response, signal: AbortSignal) => Promise<T>;

async function fetchOnce<T>(url: string, init: RequestInit, policy: ResolvedPolicy, deps: HttpPolicyDeps, consume: Consume<T>): Promise<T> {
  const request = async () => {
    const { response, signal } = await requestOnce(url, init, deps, policy.timeoutMs);
    return consume(response, signal);
  };
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

/**
 * One request, answered within the policy's timeout: for HTTP work the policy timeout bounds each
 * request until its answer starts (status and headers), so a server that does not answer is
 * retried like a 503 instead of eating the whole retry budget. The timer is cleared once the
 * headers are in: reading the body is bounded by body_timeout (writeBody), not by this. A
 * `timeout:` on the stage still bounds the stage as a whole. Resolves with the response and the
 * signal that aborts its body (cancel, stage timeout).
 */
async function requestOnce(url: string, init: RequestInit, deps: HttpPolicyDeps, timeoutMs: number): Promise<{ response: Response; signal: AbortSignal }> {
  const outer = init.signal ? AbortSignal.any([deps.signal, init.signal]) : deps.signal;
  const headersTimeout = new AbortController();
  const timer = timeoutMs > 0 ? setTimeout(() => headersTimeout.abort(), timeoutMs) : undefined;
  let response: Response;
  try {
    response = await (deps.fetch ?? fetch)(url, { ...init, signal: AbortSignal.any([outer, headersTimeout.signal]) });
  } catch (error) {
    outer.throwIfAborted();
    if (headersTimeout.signal.aborted) {
      const where = redactUrl(url);
      const message = `${init.method ?? 'GET'} ${where} did not answer within ${formatDuration(timeoutMs)} (the policy timeout of each request)`;
      throw new RequestTimeoutError(where, message, { stage: deps.stage, cause: error, phase: 'connect' });
    }
    throw new NetworkError(url, { cause: (error as { cause?: unknown }).cause ?? error, stage: deps.stage });
  } finally {
    clearTimeout(timer);
  }
  if (response.ok) return { response, signal: outer };
  throw await toHttpStatusError(response, { url, method: init.method }, { signal: outer, now: deps.now, stage: deps.stage });
}

/**
 * The HttpStatusError for a non-2xx answer: status, Retry-After (on 429/503), the first
 * SNIPPET_CHARS of the body and a hint. Reads at most that much of the body, then frees the connection.
 */
export async function toHttpStatusError(
  response: Response,
  request: { url: string; method?: string },
  options: { signal: AbortSignal; now?: () => number; stage?: string },
): Promise<HttpStatusError> {
  const header = RETRY_AFTER_STATUSES.has(response.status) ? response.headers.get('retry-after') : null;
  const retryAfter = retryAfterMs(header, (options.now ?? Date.now)());
  const snippet = await readSnippet(response, options.signal);
  const detail = `${snippet || '(empty body)'}. ${statusHint(response.status)}`;
  const details = { status: response.status, statusText: response.statusText, url: request.url, method: request.method, retryAfterMs: retryAfter, detail };
  return new HttpStatusError(details, { stage: options.stage });
}

/** The start of the body, whitespace collapsed; '' when there is none or it does not come in time. */
async function readSnippet(response: Response, signal: AbortSignal): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(SNIPPET_WAIT_MS)]);
  const expired = new Promise<undefined>((resolve) => {
    if (deadline.aborted) resolve(undefined);
    deadline.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  const decoder = new TextDecoder();
  let text = '';
  try {
    // Bytes, not characters, bound the read: a multi-byte body still stops after a few chunks.
    for (let bytes = 0; bytes < SNIPPET_CHARS * 4; ) {
      const chunk = await Promise.race([reader.read(), expired]);
      if (chunk === undefined || chunk.done) break;
      bytes += chunk.value.byteLength;
      text += decoder.decode(chunk.value, { stream: true });
      if (text.length >= SNIPPET_CHARS) break;
    }
  } catch {
    // A body that breaks off is no reason to lose the status: keep what came.
  } finally {
    await reader.cancel().catch(() => {});
  }
  const collapsed = text.replaceAll(/\s+/g, ' ').trim();
  return collapsed.length > SNIPPET_CHARS ? `${collapsed.slice(0, SNIPPET_CHARS)}…` : collapsed;
}
