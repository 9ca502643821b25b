/**
 * Resilience policies as data: the schema of a policy in `weir.yml` or inline on a stage, the
 * built-in policies, and `resolvePolicy`, which follows `extends` and fills defaults once so the
 * engine never defaults anything again.
 *
 * The schema has no zod `.default()`s on purpose: an override such as
 * `{ extends: polite-api, retries: 2 }` must keep polite-api's backoff, so "not written" has to
 * stay distinguishable from "written with the default value". Defaults live in POLICY_DEFAULTS.
 */
import { z } from 'zod';
import { ConfigError, type ErrorCode } from '../model/errors.ts';
import { parseDuration, tryParseDuration } from '../model/duration.ts';
import { Duration, NAME_PATTERN } from '../model/pipeline.ts';
import { didYouMean } from '../model/did-you-mean.ts';
import { BACKOFF_KINDS, JITTER_KINDS, type BackoffSettings } from './backoff.ts';

export const ERROR_CODES = [
  'config_error', 'stage_failed', 'stage_timeout', 'run_timeout', 'check_failed',
  'resource_unavailable', 'gate_not_met', 'gate_timeout', 'circuit_open', 'cancelled', 'abandoned', 'run_conflict', 'internal_error',
] as const satisfies readonly ErrorCode[];
// Fails to compile when errors.ts gains a code that is missing above.
const allCodesListed: Exclude<ErrorCode, (typeof ERROR_CODES)[number]> extends never ? true : never = true;
void allCodesListed;

/** What a breaker or rate limiter is shared by: the URL's host, the stage, or the whole policy. */
export const DEPENDENCY_SCOPES = ['host', 'stage', 'policy'] as const;
export type DependencyScope = (typeof DEPENDENCY_SCOPES)[number];

// A value that is no duration at all is reported by Duration itself, not again here.
const PositiveDuration = Duration.refine((value) => (tryParseDuration(value) ?? 1) > 0, 'must be greater than 0');

const ErrorMatcherInput = z.strictObject({
  errors: z.array(z.enum(ERROR_CODES)).optional().describe('Error codes, e.g. stage_failed, stage_timeout.'),
  http_status: z.union([z.literal('any'), z.array(z.number().int().min(100).max(599))]).optional()
    .describe("HTTP statuses of HttpStatusError, or 'any'."),
  exit_codes: z.union([z.literal('any'), z.array(z.number().int())]).optional()
    .describe("Exit codes of ExitCodeError, or 'any'."),
});

const BreakerInput = z.strictObject({
  failures: z.number().int().positive().optional().describe('Failures within `window` that open the circuit. Default: 5.'),
  window: PositiveDuration.optional().describe('Sliding window failures are counted in. Default: 60s.'),
  half_open_after: PositiveDuration.optional().describe('Time open before one probe call is let through. Default: 60s.'),
  key: z.enum(DEPENDENCY_SCOPES).optional().describe('One circuit per host, stage or policy. Default: host.'),
});

const RateLimitInput = z.strictObject({
  per_second: z.number().positive().optional().describe('Most calls started per second. Default: unlimited.'),
  max_concurrent: z.number().int().positive().optional().describe('Most calls in flight at once. Default: unlimited.'),
  key: z.enum(DEPENDENCY_SCOPES).optional().describe('One limit per host, stage or policy. Default: host.'),
}).refine((r) => r.per_second !== undefined || r.max_concurrent !== undefined, 'needs per_second, max_concurrent or both');

export const PolicyInput = z.strictObject({
  extends: z.string().regex(NAME_PATTERN, 'policy names use letters, digits, _ and -').optional()
    .describe("Policy whose fields this one starts from. Default: 'default' (which starts from the defaults below)."),
  retries: z.number().int().min(0).max(100).optional().describe('Retries after the first attempt. Default: 3.'),
  backoff: z.enum(BACKOFF_KINDS).optional().describe('How the delay grows: fixed, linear, exponential. Default: exponential.'),
  initial_delay: Duration.optional().describe('Delay after the first failure. Default: 1s.'),
  factor: z.number().min(1).optional().describe('Growth factor of exponential backoff. Default: 2.'),
  max_delay: Duration.optional().describe('Cap on any delay, Retry-After included. Default: 30s.'),
  jitter: z.enum(JITTER_KINDS).optional().describe('Randomisation: none, full (0..d), equal (d/2..d). Default: full.'),
  retry_on: ErrorMatcherInput.optional().describe('Failures that are retried. Default: see docs/policies.md.'),
  no_retry_on: ErrorMatcherInput.optional().describe('Failures never retried; wins over retry_on. Default: none.'),
  timeout: PositiveDuration.optional().describe('Time limit of one stage attempt; for HTTP, of each request until its answer starts. Default: 30s.'),
  body_timeout: PositiveDuration.optional()
    .describe('HTTP: longest wait for the next bytes of an answer body; a slow but live body is never cut. Default: 30s.'),
  breaker: z.union([z.literal(false), BreakerInput]).optional().describe('Circuit breaker; false turns it off. Default: off.'),
  rate_limit: z.union([z.literal(false), RateLimitInput]).optional().describe('Rate limit; false turns it off. Default: off.'),
  max_dead_letter_ratio: z.number().min(0).max(1).optional()
    .describe('Share of records that may go to dead letters before the stage fails. Default: 0.'),
});
export type PolicyInput = z.infer<typeof PolicyInput>;

export interface ErrorMatcher {
  errors: readonly ErrorCode[];
  httpStatus: readonly number[] | 'any';
  exitCodes: readonly number[] | 'any';
}
export interface BreakerSettings { failures: number; windowMs: number; halfOpenAfterMs: number; key: DependencyScope }
export interface RateLimitSettings { perSecond: number | null; maxConcurrent: number | null; key: DependencyScope }

/** A policy with `extends` followed, defaults filled and durations in ms. */
export interface ResolvedPolicy {
  /** Name of the named policy, or of the policy an inline override extends. */
  name: string;
  retries: number;
  backoff: BackoffSettings;
  retryOn: ErrorMatcher;
  noRetryOn: ErrorMatcher;
  timeoutMs: number;
  /** HTTP: longest silence while an answer body streams in. */
  bodyTimeoutMs: number;
  breaker: BreakerSettings | null;
  rateLimit: RateLimitSettings | null;
  maxDeadLetterRatio: number;
}

/** Policies defined in weir.yml (validated, not yet merged with the built-ins). */
export interface PolicyConfig {
  policies: Readonly<Record<string, PolicyInput>>;
}
export const EMPTY_POLICY_CONFIG: PolicyConfig = { policies: {} };

/** HTTP statuses worth another try: timeouts, throttling and server-side failures. */
export const RETRIABLE_HTTP_STATUSES = [408, 425, 429, 500, 502, 503, 504] as const;

export const POLICY_DEFAULTS = {
  retries: 3,
  backoff: 'exponential',
  initial_delay: '1s',
  factor: 2,
  max_delay: '30s',
  jitter: 'full',
  retry_on: { errors: ['stage_failed', 'stage_timeout'], http_status: [...RETRIABLE_HTTP_STATUSES], exit_codes: 'any' },
  no_retry_on: { errors: [], http_status: [], exit_codes: [] },
  timeout: '30s',
  body_timeout: '30s',
  breaker: false,
  rate_limit: false,
  max_dead_letter_ratio: 0,
} as const satisfies Required<Omit<PolicyInput, 'extends'>>;

const BREAKER_DEFAULTS = { failures: 5, window: '60s', half_open_after: '60s', key: 'host' } as const;
const RATE_LIMIT_DEFAULTS = { key: 'host' } as const;

/** Built in, and overridable field by field in weir.yml under the same name. */
export const BUILTIN_POLICIES: Readonly<Record<string, PolicyInput>> = {
  default: {},
  'gpu-bound': {
    retries: 1,
    backoff: 'fixed',
    initial_delay: 0,
    timeout: '60s',
    breaker: { failures: 5, window: '60s', half_open_after: '60s', key: 'policy' },
  },
  'polite-api': { retries: 10, backoff: 'linear', timeout: '10s', rate_limit: { per_second: 5, key: 'host' } },
};

/** The definition under `name`: the user's fields over the built-in's, or undefined. */
export function findPolicyDefinition(name: string, config: PolicyConfig): PolicyInput | undefined {
  const builtin = Object.hasOwn(BUILTIN_POLICIES, name) ? BUILTIN_POLICIES[name] : undefined;
  const user = Object.hasOwn(config.policies, name) ? config.policies[name] : undefined;
  if (!builtin && !user) return undefined;
  return mergePolicyInputs(builtin ?? {}, user ?? {});
}

export function policyNames(config: PolicyConfig): string[] {
  return [...new Set([...Object.keys(BUILTIN_POLICIES), ...Object.keys(config.policies)])].sort();
}

/** `top` over `base`: nested objects merge one level deep, arrays and scalars replace. */
export function mergePolicyInputs(base: PolicyInput, top: PolicyInput): PolicyInput {
  const merged: Record<string, unknown> = { ...base };
  for (const [field, value] of Object.entries(top)) {
    if (value === undefined) continue;
    const below = merged[field];
    const bothObjects = isPlainObject(value) && isPlainObject(below);
    merged[field] = bothObjects ? { ...below, ...value } : value;
  }
  return merged as PolicyInput;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Where following `extends` from `name` leads: the chain, and what stopped it short if anything. */
export interface ExtendsChain {
  chain: string[];
  /** `unknown`: the last name is not defined. `cycle`: the last name already appears earlier. */
  problem?: 'unknown' | 'cycle';
}

export function followExtends(name: string, config: PolicyConfig): ExtendsChain {
  const chain: string[] = [];
  let current: string | undefined = name;
  while (current !== undefined) {
    if (chain.includes(current)) return { chain: [...chain, current], problem: 'cycle' };
    chain.push(current);
    const definition = findPolicyDefinition(current, config);
    if (!definition) return { chain, problem: 'unknown' };
    current = definition.extends ?? (current === 'default' ? undefined : 'default');
  }
  return { chain };
}

/** All fields of `name` after following `extends` (not defaulted). Throws ConfigError on unknown names and cycles. */
export function flattenPolicy(name: string, config: PolicyConfig): PolicyInput {
  const { chain, problem } = followExtends(name, config);
  if (problem === 'cycle') {
    throw new ConfigError(`policy '${name}' extends itself through ${chain.join(' → ')}; remove one of the extends`);
  }
  if (problem === 'unknown') {
    const missing = chain[chain.length - 1];
    const known = policyNames(config);
    const via = chain.length > 1 ? ` (extended by '${chain[chain.length - 2]}')` : '';
    throw new ConfigError(`policy '${missing}'${via} is not defined${didYouMean(missing, known)}; known policies: ${known.join(', ')}`);
  }
  return chain.reduceRight<PolicyInput>((merged, link) => mergePolicyInputs(merged, findPolicyDefinition(link, config)!), {});
}

/**
 * The policy a stage runs under. `ref` is the stage's `policy:` (a name, or inline fields that
 * extend `default` unless they say otherwise); undefined means `default`.
 */
export function resolvePolicy(ref: string | Record<string, unknown> | undefined, config: PolicyConfig): ResolvedPolicy {
  if (ref === undefined || typeof ref === 'string') {
    const name = ref ?? 'default';
    return toResolvedPolicy(name, flattenPolicy(name, config));
  }
  const parsed = PolicyInput.safeParse(ref);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'policy'}: ${i.message}`).join('; ');
    throw new ConfigError(`inline policy is invalid: ${detail}`);
  }
  const base = parsed.data.extends ?? 'default';
  return toResolvedPolicy(base, mergePolicyInputs(flattenPolicy(base, config), parsed.data));
}

/** Fills defaults and converts units. Throws ConfigError when max_delay < initial_delay. */
export function toResolvedPolicy(name: string, input: PolicyInput): ResolvedPolicy {
  const f = { ...POLICY_DEFAULTS, ...stripUndefined(input) };
  const backoff: BackoffSettings = {
    kind: f.backoff,
    initialDelayMs: parseDuration(f.initial_delay),
    factor: f.factor,
    maxDelayMs: parseDuration(f.max_delay),
    jitter: f.jitter,
  };
  if (backoff.maxDelayMs < backoff.initialDelayMs) throw new ConfigError(`policy '${name}': ${MAX_DELAY_MESSAGE}`);
  return {
    name,
    retries: f.retries,
    backoff,
    retryOn: toMatcher({ ...POLICY_DEFAULTS.retry_on, ...stripUndefined(f.retry_on) }),
    noRetryOn: toMatcher({ ...POLICY_DEFAULTS.no_retry_on, ...stripUndefined(f.no_retry_on) }),
    timeoutMs: parseDuration(f.timeout),
    bodyTimeoutMs: parseDuration(f.body_timeout),
    breaker: f.breaker === false ? null : toBreaker({ ...BREAKER_DEFAULTS, ...stripUndefined(f.breaker) }),
    rateLimit: f.rate_limit === false ? null : toRateLimit({ ...RATE_LIMIT_DEFAULTS, ...stripUndefined(f.rate_limit) }),
    maxDeadLetterRatio: f.max_dead_letter_ratio,
  };
}

export const MAX_DELAY_MESSAGE = 'max_delay must be ≥ initial_delay';

type Defined<T> = { [K in keyof T]: Exclude<T[K], undefined> };
function stripUndefined<T extends object>(value: T): Partial<Defined<T>> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<Defined<T>>;
}

function toMatcher(m: Required<z.infer<typeof ErrorMatcherInput>>): ErrorMatcher {
  return { errors: m.errors, httpStatus: m.http_status, exitCodes: m.exit_codes };
}

function toBreaker(b: Required<z.infer<typeof BreakerInput>>): BreakerSettings {
  return { failures: b.failures, windowMs: parseDuration(b.window), halfOpenAfterMs: parseDuration(b.half_open_after), key: b.key };
}

function toRateLimit(r: z.infer<typeof RateLimitInput>): RateLimitSettings {
  return { perSecond: r.per_second ?? null, maxConcurrent: r.max_concurrent ?? null, key: r.key ?? 'host' };
}

/**
 * The key breakers and rate limiters are shared by, e.g. `polite-api:api.example.com`. Without a
 * URL (non-HTTP stages), `host` falls back to the stage name.
 */
export function dependencyKey(policy: string, scope: DependencyScope, target: { stage: string; url?: string | URL }): string {
  switch (scope) {
    case 'host':
      return `${policy}:${target.url === undefined ? target.stage : new URL(target.url).host}`;
    case 'stage':
      return `${policy}:${target.stage}`;
    case 'policy':
      return policy;
    default: {
      const unhandled: never = scope;
      throw new Error(`unhandled scope ${String(unhandled)}`);
    }
  }
}
