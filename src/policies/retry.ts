/**
 * Runs work under a policy's retries. Which failures are retried is a pure function of the error
 * and the policy (`isRetriableError`); how long to wait is `nextDelay` (Retry-After, else backoff).
 *
 * p-retry drives the attempt loop, but it sleeps with its own setTimeout and cannot be given a
 * sleep function. So it is told `minTimeout: 0` (its computed delay is then 0 and it sets no timer)
 * and our wait happens inside `shouldRetry`, through the injected `sleep`: tests run with zero real
 * delay and record the exact schedule.
 */
import pRetry from 'p-retry';
import { WeirError, type ErrorCode } from '../model/errors.ts';
import { computeDelay } from './backoff.ts';
import { ExitCodeError, HttpStatusError, isPermanentError } from './errors.ts';
import type { ErrorMatcher, ResolvedPolicy } from './policy.ts';

/**
 * Never retried, whatever the policy says: the config is wrong, the hardware or service is absent,
 * the run is over (timeout, cancel) or parked (gate). Another attempt cannot change the outcome.
 */
export const NEVER_RETRIED: readonly ErrorCode[] = ['config_error', 'resource_unavailable', 'run_timeout', 'gate_not_met', 'gate_timeout', 'cancelled'];

export interface RetryDeps {
  /** Resolves after `ms`, rejects with `signal.reason` if it aborts first. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** In [0, 1): drives jitter. */
  random(): number;
  /** The run's signal (cancellation, run timeout): aborting it stops retrying. */
  signal: AbortSignal;
  /** Called before each wait: `attempt` is the attempt that failed. Emit `stage.retrying` here. */
  onRetry(attempt: number, error: Error, delayMs: number): void;
  /** A stage kind's own say: true/false decides (except for NEVER_RETRIED), undefined defers to the policy. */
  isRetriable?(error: unknown): boolean | undefined;
}

/** The ledger code of any thrown value: non-weir errors count as `stage_failed`. */
export function errorCodeOf(error: unknown): ErrorCode {
  return error instanceof WeirError ? error.code : 'stage_failed';
}

function listed(list: readonly number[] | 'any', value: number): boolean {
  return list === 'any' || list.includes(value);
}

/** Does `matcher` name this error, by HTTP status, exit code or error code? */
export function matchesError(matcher: ErrorMatcher, error: unknown): boolean {
  if (error instanceof HttpStatusError && listed(matcher.httpStatus, error.status)) return true;
  if (error instanceof ExitCodeError && listed(matcher.exitCodes, error.exitCode)) return true;
  return matcher.errors.includes(errorCodeOf(error));
}

/**
 * Whether a failure deserves another attempt, ignoring how many are left.
 * Order: NEVER_RETRIED and errors marked permanent, then `no_retry_on`, then the stage kind's `isRetriable`, then `retry_on`.
 * HTTP and exit-code failures are judged by status / exit code alone, so `retry_on.errors:
 * [stage_failed]` does not make a 404 retriable. `check_failed` and `circuit_open` are retried
 * only when listed in `retry_on.errors` (not by default).
 */
export function isRetriableError(error: unknown, policy: ResolvedPolicy, stageSays?: (error: unknown) => boolean | undefined): boolean {
  if (NEVER_RETRIED.includes(errorCodeOf(error)) || isPermanentError(error)) return false;
  if (matchesError(policy.noRetryOn, error)) return false;
  const verdict = stageSays?.(error);
  if (verdict !== undefined) return verdict;
  const { retryOn } = policy;
  if (error instanceof HttpStatusError) return listed(retryOn.httpStatus, error.status);
  if (error instanceof ExitCodeError) return listed(retryOn.exitCodes, error.exitCode);
  return retryOn.errors.includes(errorCodeOf(error));
}

/** Wait after failed attempt `attempt`: the server's Retry-After when given (capped at max_delay), else the backoff. */
export function nextDelay(error: unknown, attempt: number, policy: ResolvedPolicy, random: () => number): number {
  if (error instanceof HttpStatusError && error.retryAfterMs !== undefined) {
    return Math.min(Math.max(0, error.retryAfterMs), policy.backoff.maxDelayMs);
  }
  return computeDelay(policy.backoff, attempt, random);
}

/**
 * Calls `work(attempt)` (1-based) until it succeeds, fails with a non-retriable error, or
 * `policy.retries` retries are spent; then rejects with the last error. Timeouts per attempt are
 * the caller's (it wraps `work`); aborting `deps.signal` rejects with its reason, and no failure
 * after the abort is retried (a CancelledError never is). A plain
 * `TypeError` that is not a network error is rethrown at once by p-retry: it is a bug, not bad luck.
 */
export function executeWithPolicy<T>(work: (attempt: number) => Promise<T>, policy: ResolvedPolicy, deps: RetryDeps): Promise<T> {
  return pRetry(work, {
    retries: policy.retries,
    minTimeout: 0,
    maxTimeout: 0,
    randomize: false,
    signal: deps.signal,
    shouldRetry: async ({ error, attemptNumber }) => {
      // Once the signal has aborted (cancel, run or stage timeout) the failure is the abort's doing:
      // another attempt could not run, so none is announced (the record keeps only real attempts).
      if (deps.signal.aborted || !isRetriableError(error, policy, deps.isRetriable)) return false;
      const delayMs = nextDelay(error, attemptNumber, policy, deps.random);
      deps.onRetry(attemptNumber, error, delayMs);
      await deps.sleep(delayMs, deps.signal);
      return true;
    },
  });
}

/** The real sleep: setTimeout that rejects with the signal's reason on abort. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
