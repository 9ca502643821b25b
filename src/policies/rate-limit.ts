/**
 * Rate limits shared by every stage of a run that uses the same policy and dependency key, over
 * bottleneck. `minTime = 1000 / per_second` spaces call starts evenly; bottleneck schedules queued
 * jobs at absolute offsets (`nextRequest += minTime`), so timer lateness does not accumulate and the
 * achieved rate stays on target. A reservoir would let bursts of `per_second` calls through at once.
 */
import Bottleneck from 'bottleneck';
import type { RateLimitSettings } from './policy.ts';

/** What a scheduled call returned, and how long it queued before it could start. */
export interface Scheduled<T> {
  value: T;
  waitedMs: number;
}

export interface RateLimiterRegistryDeps {
  /** Monotonic ms for measuring waits. Default: performance.now. */
  now?: () => number;
}

export class RateLimiterRegistry {
  readonly #limiters = new Map<string, Bottleneck>();
  readonly #now: () => number;

  constructor(deps: RateLimiterRegistryDeps = {}) {
    this.#now = deps.now ?? (() => performance.now());
  }

  /**
   * Runs `fn` once the limit for `key` allows. Settings are part of the identity: an inline override
   * with other limits gets its own limiter under the same visible key. A call whose `signal` aborted
   * while it queued rejects with the signal's reason instead of starting.
   */
  async schedule<T>(key: string, settings: RateLimitSettings, fn: () => Promise<T>, signal?: AbortSignal): Promise<Scheduled<T>> {
    const limiter = this.#limiterFor(key, settings);
    const queuedAt = this.#now();
    let waitedMs = 0;
    const value = await limiter.schedule(() => {
      waitedMs = Math.max(0, this.#now() - queuedAt);
      signal?.throwIfAborted();
      return fn();
    });
    return { value, waitedMs };
  }

  /** Drops queued calls and releases timers; call when the run ends. */
  async stop(): Promise<void> {
    const limiters = [...this.#limiters.values()];
    this.#limiters.clear();
    await Promise.all(limiters.map((limiter) => limiter.stop({ dropWaitingJobs: true })));
  }

  #limiterFor(key: string, settings: RateLimitSettings): Bottleneck {
    const id = `${key}\u0000${JSON.stringify(settings)}`;
    let limiter = this.#limiters.get(id);
    if (!limiter) {
      limiter = new Bottleneck({
        minTime: settings.perSecond === null ? 0 : 1000 / settings.perSecond,
        maxConcurrent: settings.maxConcurrent,
      });
      this.#limiters.set(id, limiter);
    }
    return limiter;
  }
}
