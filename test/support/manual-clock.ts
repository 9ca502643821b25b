/**
 * A clock the test moves by hand: `sleep` resolves only when `advance` passes its deadline, so
 * timers on the injected clock (SLA watch, retry waits) fire at exact instants and never on wall time.
 */
import type { Clock } from '../../src/use-cases/run-deps.ts';

export interface ManualClock extends Clock {
  /** Moves time forward and wakes every sleeper whose deadline it passed; resolves once they ran. */
  advance(ms: number): Promise<void>;
  /** Sleepers waiting now (a test waits until the code under test is asleep before it advances). */
  readonly sleepers: number;
}

export function createManualClock(start: number): ManualClock {
  let now = start;
  const waiting = new Set<{ until: number; wake(): void }>();
  return {
    now: () => now,
    random: () => 0.5,
    get sleepers() {
      return waiting.size;
    },
    sleep(ms, signal) {
      if (signal.aborted) return Promise.reject(signal.reason);
      return new Promise<void>((resolve, reject) => {
        const sleeper = {
          until: now + ms,
          wake: () => {
            signal.removeEventListener('abort', onAbort);
            waiting.delete(sleeper);
            resolve();
          },
        };
        const onAbort = () => {
          waiting.delete(sleeper);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiting.add(sleeper);
      });
    },
    async advance(ms) {
      now += ms;
      for (const sleeper of [...waiting]) if (sleeper.until <= now) sleeper.wake();
      // Let the woken code run up to its next await.
      for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve));
    },
  };
}
