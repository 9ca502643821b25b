/**
 * Circuit breakers: closed → open after `failures` failures within `window` → half_open after
 * `half_open_after` (one probe call let through) → closed when the probe succeeds, open again when
 * it fails. The clock is injected, so every transition is tested without waiting.
 */
import { CircuitOpenError, WeirError } from '../model/errors.ts';
import { formatDuration } from '../model/duration.ts';
import { HttpStatusError } from './errors.ts';
import type { BreakerSettings } from './policy.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';
export type BreakerChangeListener = (key: string, from: BreakerState, to: BreakerState) => void;

/** What a failed call says about the dependency behind a breaker. */
export type FailureVerdict = 'unhealthy' | 'healthy' | 'unknown';

/**
 * A 4xx other than 408/429 is the caller's mistake: the dependency answered, so it is healthy.
 * A cancelled run or aborted call says nothing about it. Everything else counts as a failure.
 */
export function judgeFailure(error: unknown): FailureVerdict {
  if (error instanceof HttpStatusError) {
    return error.status >= 500 || error.status === 408 || error.status === 429 ? 'unhealthy' : 'healthy';
  }
  if (error instanceof WeirError && (error.code === 'cancelled' || error.code === 'run_timeout')) return 'unknown';
  if (error instanceof Error && error.name === 'AbortError') return 'unknown';
  return 'unhealthy';
}

export class CircuitBreaker {
  readonly key: string;
  readonly settings: BreakerSettings;
  #state: BreakerState = 'closed';
  #failures: number[] = [];
  #openedAt = 0;
  #probing = false;
  readonly #now: () => number;
  readonly #onChange: BreakerChangeListener;

  constructor(key: string, settings: BreakerSettings, now: () => number, onChange: BreakerChangeListener = () => {}) {
    this.key = key;
    this.settings = settings;
    this.#now = now;
    this.#onChange = onChange;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Admits a call or throws CircuitOpenError. Moves open → half_open once `half_open_after` has passed. */
  assertCallAllowed(): void {
    if (this.#state === 'open' && this.#now() >= this.#probeAt()) this.#moveTo('half_open');
    if (this.#state === 'closed') return;
    if (this.#state === 'half_open' && !this.#probing) {
      this.#probing = true;
      return;
    }
    throw this.#openError();
  }

  recordSuccess(): void {
    if (this.#state === 'half_open') {
      this.#probing = false;
      this.#failures = [];
      this.#moveTo('closed');
    }
  }

  /** The admitted call ended without telling anything (cancelled): a probe slot is freed, state kept. */
  recordUnknown(): void {
    this.#probing = false;
  }

  recordFailure(): void {
    const now = this.#now();
    if (this.#state === 'half_open') {
      this.#probing = false;
      this.#open(now);
      return;
    }
    if (this.#state !== 'closed') return;
    this.#failures = [...this.#failures.filter((at) => now - at < this.settings.windowMs), now];
    if (this.#failures.length >= this.settings.failures) this.#open(now);
  }

  #open(now: number): void {
    this.#openedAt = now;
    this.#failures = [];
    this.#moveTo('open');
  }

  #probeAt(): number {
    return this.#openedAt + this.settings.halfOpenAfterMs;
  }

  #moveTo(to: BreakerState): void {
    const from = this.#state;
    this.#state = to;
    if (from !== to) this.#onChange(this.key, from, to);
  }

  #openError(): CircuitOpenError {
    const { failures, windowMs } = this.settings;
    const when = this.#state === 'half_open'
      ? 'a probe call is in flight; calls fail fast until it succeeds'
      : `calls fail fast until a probe in ${formatDuration(Math.max(0, this.#probeAt() - this.#now()))} (at ${new Date(this.#probeAt()).toISOString()})`;
    return new CircuitOpenError(
      `circuit '${this.key}' is open after ${failures} failures within ${formatDuration(windowMs)}: ${when}. ` +
        'Check that the dependency is healthy, or raise breaker.failures in weir.yml if it is just flaky.',
    );
  }
}

export interface BreakerRegistryDeps {
  /** Epoch ms. */
  now(): number;
  /** Emit `breaker.changed` here. */
  onChange?: BreakerChangeListener;
}

/**
 * One breaker per `policy:dependency` key for a run. Settings are part of the identity, so an
 * inline override with other breaker settings gets its own breaker under the same visible key.
 */
export class BreakerRegistry {
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #deps: BreakerRegistryDeps;

  constructor(deps: BreakerRegistryDeps) {
    this.#deps = deps;
  }

  get(key: string, settings: BreakerSettings): CircuitBreaker {
    const id = `${key}\u0000${JSON.stringify(settings)}`;
    let breaker = this.#breakers.get(id);
    if (!breaker) {
      breaker = new CircuitBreaker(key, settings, this.#deps.now, (k, from, to) => this.#deps.onChange?.(k, from, to));
      this.#breakers.set(id, breaker);
    }
    return breaker;
  }

  /** Runs `fn` through the breaker for `key`; throws CircuitOpenError without calling it while open. */
  async guard<T>(key: string, settings: BreakerSettings, fn: () => Promise<T>): Promise<T> {
    const breaker = this.get(key, settings);
    breaker.assertCallAllowed();
    try {
      const value = await fn();
      breaker.recordSuccess();
      return value;
    } catch (error) {
      const verdict = judgeFailure(error);
      if (verdict === 'unhealthy') breaker.recordFailure();
      else if (verdict === 'healthy') breaker.recordSuccess();
      else breaker.recordUnknown();
      throw error;
    }
  }
}
