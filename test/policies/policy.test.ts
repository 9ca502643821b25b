import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/model/errors.ts';
import { dependencyKey, EMPTY_POLICY_CONFIG, resolvePolicy, type PolicyConfig } from '../../src/policies/policy.ts';

describe('resolvePolicy', () => {
  it('resolves the built-in default: 3 retries, exponential backoff with full jitter, 30 s timeout', () => {
    expect(resolvePolicy(undefined, EMPTY_POLICY_CONFIG)).toEqual({
      name: 'default',
      retries: 3,
      backoff: { kind: 'exponential', initialDelayMs: 1000, factor: 2, maxDelayMs: 30_000, jitter: 'full' },
      retryOn: { errors: ['stage_failed', 'stage_timeout'], httpStatus: [408, 425, 429, 500, 502, 503, 504], exitCodes: 'any' },
      noRetryOn: { errors: [], httpStatus: [], exitCodes: [] },
      timeoutMs: 30_000,
      bodyTimeoutMs: 30_000,
      breaker: null,
      rateLimit: null,
      maxDeadLetterRatio: 0,
    });
  });

  it('resolves gpu-bound: 1 retry without delay, 60 s timeout, breaker opening after 5 failures for 60 s', () => {
    const policy = resolvePolicy('gpu-bound', EMPTY_POLICY_CONFIG);
    expect(policy.retries).toBe(1);
    expect(policy.backoff).toMatchObject({ kind: 'fixed', initialDelayMs: 0 });
    expect(policy.timeoutMs).toBe(60_000);
    expect(policy.breaker).toEqual({ failures: 5, windowMs: 60_000, halfOpenAfterMs: 60_000, key: 'policy' });
    expect(policy.rateLimit).toBeNull();
  });

  it('resolves polite-api: 10 retries, linear backoff, 10 s timeout, 5 requests/s per host', () => {
    const policy = resolvePolicy('polite-api', EMPTY_POLICY_CONFIG);
    expect(policy).toMatchObject({ retries: 10, timeoutMs: 10_000, backoff: { kind: 'linear' } });
    expect(policy.rateLimit).toEqual({ perSecond: 5, maxConcurrent: null, key: 'host' });
  });

  it('keeps the base policy fields an inline override does not set, and names the result after the base', () => {
    const policy = resolvePolicy({ extends: 'polite-api', retries: 2, rate_limit: { max_concurrent: 2 } }, EMPTY_POLICY_CONFIG);
    expect(policy.name).toBe('polite-api');
    expect(policy.retries).toBe(2);
    expect(policy.backoff.kind).toBe('linear');
    expect(policy.rateLimit).toEqual({ perSecond: 5, maxConcurrent: 2, key: 'host' });
  });

  it('lets weir.yml override a built-in field by field, and makes other policies inherit an overridden default', () => {
    const config: PolicyConfig = {
      policies: { 'polite-api': { retries: 4 }, default: { timeout: '2m' }, mine: { jitter: 'none' } },
    };
    expect(resolvePolicy('polite-api', config)).toMatchObject({ retries: 4, timeoutMs: 10_000, rateLimit: { perSecond: 5 } });
    expect(resolvePolicy('mine', config)).toMatchObject({ timeoutMs: 120_000, backoff: { jitter: 'none', kind: 'exponential' } });
    expect(resolvePolicy({ retries: 0 }, config)).toMatchObject({ name: 'default', retries: 0, timeoutMs: 120_000 });
  });

  it('turns a breaker off with breaker: false', () => {
    expect(resolvePolicy({ extends: 'gpu-bound', breaker: false }, EMPTY_POLICY_CONFIG).breaker).toBeNull();
  });

  it('throws ConfigError for an unknown policy name, suggesting the closest one', () => {
    expect(() => resolvePolicy('polite-apy', EMPTY_POLICY_CONFIG)).toThrow(ConfigError);
    expect(() => resolvePolicy('polite-apy', EMPTY_POLICY_CONFIG)).toThrow(
      "policy 'polite-apy' is not defined (did you mean 'polite-api'?); known policies: default, gpu-bound, polite-api",
    );
  });

  it('throws ConfigError for invalid inline fields and for max_delay below initial_delay', () => {
    expect(() => resolvePolicy({ retries: 'x' }, EMPTY_POLICY_CONFIG)).toThrow(/inline policy is invalid: retries/);
    expect(() => resolvePolicy({ max_delay: '100ms' }, EMPTY_POLICY_CONFIG)).toThrow("policy 'default': max_delay must be ≥ initial_delay");
  });

  it('throws ConfigError on an extends cycle', () => {
    const config: PolicyConfig = { policies: { a: { extends: 'b' }, b: { extends: 'a' } } };
    expect(() => resolvePolicy('a', config)).toThrow("policy 'a' extends itself through a → b → a; remove one of the extends");
  });
});

describe('dependencyKey', () => {
  it('keys by host, stage or policy, falling back to the stage when there is no URL', () => {
    expect(dependencyKey('polite-api', 'host', { stage: 'fetch', url: 'https://api.example.com:8443/x?y=1' })).toBe('polite-api:api.example.com:8443');
    expect(dependencyKey('polite-api', 'host', { stage: 'fetch' })).toBe('polite-api:fetch');
    expect(dependencyKey('polite-api', 'stage', { stage: 'fetch', url: 'https://a/' })).toBe('polite-api:fetch');
    expect(dependencyKey('gpu-bound', 'policy', { stage: 'train' })).toBe('gpu-bound');
  });
});
