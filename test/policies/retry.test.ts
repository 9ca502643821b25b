import { describe, expect, it } from 'vitest';
import {
  CancelledError, CheckFailedError, CircuitOpenError, ConfigError, ResourceUnavailableError, StageFailedError, StageTimeoutError,
} from '../../src/model/errors.ts';
import { ExitCodeError, HttpStatusError, NetworkError, PermanentStageError } from '../../src/policies/errors.ts';
import { EMPTY_POLICY_CONFIG, resolvePolicy, type ResolvedPolicy } from '../../src/policies/policy.ts';
import { executeWithPolicy, isRetriableError, nextDelay, type RetryDeps } from '../../src/policies/retry.ts';

const policy = (ref: Record<string, unknown> = {}) => resolvePolicy(ref, EMPTY_POLICY_CONFIG);
const http = (status: number, retryAfterMs?: number) => new HttpStatusError({ status, url: 'http://x/', retryAfterMs });

/** Fake sleep recording each wait; resolves at once. */
function fakeDeps(overrides: Partial<RetryDeps> = {}) {
  const slept: number[] = [];
  const retries: { attempt: number; message: string; delayMs: number }[] = [];
  const deps: RetryDeps = {
    sleep: async (ms) => void slept.push(ms),
    random: () => 0.5,
    signal: new AbortController().signal,
    onRetry: (attempt, error, delayMs) => void retries.push({ attempt, message: error.message, delayMs }),
    ...overrides,
  };
  return { deps, slept, retries };
}

function failingTimes(times: number, error: (attempt: number) => Error) {
  const attempts: number[] = [];
  const work = async (attempt: number) => {
    attempts.push(attempt);
    if (attempt <= times) throw error(attempt);
    return `ok after ${attempt}`;
  };
  return { work, attempts };
}

describe('isRetriableError', () => {
  const base = policy();

  it('retries stage failures, timeouts and plain errors by default', () => {
    expect(isRetriableError(new StageFailedError('x'), base)).toBe(true);
    expect(isRetriableError(new StageTimeoutError('x'), base)).toBe(true);
    expect(isRetriableError(new Error('x'), base)).toBe(true);
    expect(isRetriableError(new NetworkError('http://x/', { cause: { code: 'ECONNRESET' } }), base)).toBe(true);
  });

  it('never retries missing resources or config errors, even when listed in retry_on', () => {
    const eager = policy({ retry_on: { errors: ['resource_unavailable', 'config_error'] } });
    expect(isRetriableError(new ResourceUnavailableError('no gpu'), eager)).toBe(false);
    expect(isRetriableError(new ConfigError('bad'), eager)).toBe(false);
  });

  it('retries failed checks and open circuits only when retry_on lists them', () => {
    expect(isRetriableError(new CheckFailedError('x'), base)).toBe(false);
    expect(isRetriableError(new CircuitOpenError('x'), base)).toBe(false);
    const opted = policy({ retry_on: { errors: ['check_failed', 'circuit_open'] } });
    expect(isRetriableError(new CheckFailedError('x'), opted)).toBe(true);
    expect(isRetriableError(new CircuitOpenError('x'), opted)).toBe(true);
  });

  it('judges HTTP failures by status: 429 and 503 yes, 404 no; retry_on and no_retry_on change that', () => {
    expect([429, 503, 500, 404, 400].map((s) => isRetriableError(http(s), base))).toEqual([true, true, true, false, false]);
    expect(isRetriableError(http(404), policy({ retry_on: { http_status: [404] } }))).toBe(true);
    expect(isRetriableError(http(503), policy({ no_retry_on: { http_status: [503] } }))).toBe(false);
    expect(isRetriableError(http(418), policy({ retry_on: { http_status: 'any' } }))).toBe(true);
  });

  it('judges exit codes: any by default, only the listed ones when given, never those in no_retry_on', () => {
    expect(isRetriableError(new ExitCodeError(1, 'x'), base)).toBe(true);
    const listed = policy({ retry_on: { exit_codes: [75] } });
    expect(isRetriableError(new ExitCodeError(75, 'x'), listed)).toBe(true);
    expect(isRetriableError(new ExitCodeError(1, 'x'), listed)).toBe(false);
    expect(isRetriableError(new ExitCodeError(2, 'x'), policy({ no_retry_on: { exit_codes: [2] } }))).toBe(false);
  });

  it('lets no_retry_on.errors exclude a code and the stage kind decide where the policy is silent', () => {
    expect(isRetriableError(new StageTimeoutError('x'), policy({ no_retry_on: { errors: ['stage_timeout'] } }))).toBe(false);
    expect(isRetriableError(new StageFailedError('x'), base, () => false)).toBe(false);
    expect(isRetriableError(new ResourceUnavailableError('x'), base, () => true)).toBe(false);
  });
});

describe('nextDelay', () => {
  it('honours Retry-After capped at max_delay, and backs off otherwise', () => {
    const p = policy({ jitter: 'none', max_delay: '5s' });
    expect(nextDelay(http(429, 2000), 1, p, () => 0)).toBe(2000);
    expect(nextDelay(http(503, 120_000), 1, p, () => 0)).toBe(5000);
    expect(nextDelay(http(503), 2, p, () => 0)).toBe(2000);
  });
});

describe('executeWithPolicy', () => {
  it('waits the exact exponential schedule between attempts and returns the first success', async () => {
    const { deps, slept, retries } = fakeDeps();
    const { work, attempts } = failingTimes(3, (n) => new StageFailedError(`boom ${n}`));
    const p: ResolvedPolicy = policy({ retries: 3, jitter: 'equal', initial_delay: '100ms' });
    await expect(executeWithPolicy(work, p, deps)).resolves.toBe('ok after 4');
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(slept).toEqual([75, 150, 300]);
    expect(retries).toEqual([
      { attempt: 1, message: 'boom 1', delayMs: 75 },
      { attempt: 2, message: 'boom 2', delayMs: 150 },
      { attempt: 3, message: 'boom 3', delayMs: 300 },
    ]);
  });

  it('rejects with the last error after retries + 1 attempts', async () => {
    const { deps, slept } = fakeDeps();
    const { work, attempts } = failingTimes(99, (n) => new StageFailedError(`boom ${n}`));
    await expect(executeWithPolicy(work, policy({ retries: 2, backoff: 'linear', jitter: 'none' }), deps)).rejects.toThrow('boom 3');
    expect(attempts).toEqual([1, 2, 3]);
    expect(slept).toEqual([1000, 2000]);
  });

  it('fails fast with one attempt on ResourceUnavailableError', async () => {
    const { deps, slept, retries } = fakeDeps();
    const { work, attempts } = failingTimes(99, () => new ResourceUnavailableError('stage needs a GPU and this runner has none'));
    await expect(executeWithPolicy(work, policy({ retries: 5 }), deps)).rejects.toBeInstanceOf(ResourceUnavailableError);
    expect(attempts).toEqual([1]);
    expect(slept).toEqual([]);
    expect(retries).toEqual([]);
  });

  it('waits what Retry-After asks, capped by max_delay', async () => {
    const { deps, slept } = fakeDeps();
    const { work } = failingTimes(2, (n) => http(429, n === 1 ? 3000 : 60_000));
    await executeWithPolicy(work, policy({ max_delay: '10s' }), deps);
    expect(slept).toEqual([3000, 10_000]);
  });

  it('stops retrying with the abort reason when the run is cancelled during a wait', async () => {
    const controller = new AbortController();
    const { deps } = fakeDeps({
      signal: controller.signal,
      sleep: async (_ms, signal) => {
        controller.abort(new Error('run cancelled'));
        signal.throwIfAborted();
      },
    });
    const { work, attempts } = failingTimes(99, () => new StageFailedError('boom'));
    await expect(executeWithPolicy(work, policy(), deps)).rejects.toThrow('run cancelled');
    expect(attempts).toEqual([1]);
  });

  it('never retries a failure that comes after the run signal aborted, nor announces a retry', async () => {
    const controller = new AbortController();
    const { deps, retries, slept } = fakeDeps({ signal: controller.signal });
    // The work sees the cancel and fails its own way (a killed child's exit code), not with the reason.
    const work = async () => {
      controller.abort(new CancelledError('run cancelled'));
      throw new ExitCodeError(143, "command 'sleep 30'");
    };
    await expect(executeWithPolicy(work, policy({ retries: 3 }), deps)).rejects.toBeDefined();
    expect(retries).toEqual([]);
    expect(slept).toEqual([]);
  });

  it('never retries a CancelledError or a failure marked permanent, whatever retry_on says', async () => {
    const anything = policy({ retries: 3, retry_on: { errors: ['stage_failed', 'cancelled'] } });
    expect(isRetriableError(new CancelledError('stop'), anything)).toBe(false);
    expect(isRetriableError(new PermanentStageError('no such file'), anything)).toBe(false);
    expect(isRetriableError(Object.assign(new Error('x'), { permanent: true }), anything)).toBe(false);
    expect(isRetriableError(new StageFailedError('x'), anything)).toBe(true);
  });
});
