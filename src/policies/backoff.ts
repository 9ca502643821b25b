/**
 * Pure delay arithmetic for retries: no clock, no timers, randomness passed in. Every schedule a
 * policy can produce is a function of (settings, attempt, random), so tests pin exact numbers.
 */

export const BACKOFF_KINDS = ['fixed', 'linear', 'exponential'] as const;
export type BackoffKind = (typeof BACKOFF_KINDS)[number];
export const JITTER_KINDS = ['none', 'full', 'equal'] as const;
export type JitterKind = (typeof JITTER_KINDS)[number];

export interface BackoffSettings {
  kind: BackoffKind;
  /** Delay after the first failed attempt, before jitter. */
  initialDelayMs: number;
  /** Growth per attempt for `exponential`; unused by the others. */
  factor: number;
  /** Upper bound of every delay, applied before jitter (so jitter never exceeds it). */
  maxDelayMs: number;
  jitter: JitterKind;
}

function assertNever(value: never): never {
  throw new Error(`unhandled case: ${String(value)}`);
}

/** Delay before jitter after failed attempt number `attempt` (1-based), capped at maxDelayMs. */
export function baseDelay(settings: BackoffSettings, attempt: number): number {
  const initial = settings.initialDelayMs;
  if (initial <= 0) return 0;
  let delay: number;
  switch (settings.kind) {
    case 'fixed':
      delay = initial;
      break;
    case 'linear':
      delay = initial * attempt;
      break;
    case 'exponential':
      delay = initial * settings.factor ** (attempt - 1);
      break;
    default:
      return assertNever(settings.kind);
  }
  return Math.min(delay, settings.maxDelayMs);
}

/**
 * Wait in whole ms after failed attempt `attempt` (1-based). `random` returns [0, 1).
 * Jitter follows the AWS Architecture Blog's "Exponential Backoff And Jitter":
 * full = random(0, d), equal = d/2 + random(0, d/2).
 */
export function computeDelay(settings: BackoffSettings, attempt: number, random: () => number): number {
  const delay = baseDelay(settings, attempt);
  switch (settings.jitter) {
    case 'none':
      return Math.round(delay);
    case 'full':
      return Math.round(delay * random());
    case 'equal':
      return Math.round(delay / 2 + (delay / 2) * random());
    default:
      return assertNever(settings.jitter);
  }
}

const DELTA_SECONDS = /^\d+$/;
// All three HTTP-date formats (IMF-fixdate, RFC 850, asctime) start with the day name; Date.parse
// alone would also take '-5' or '2025' as dates.
const HTTP_DATE_START = /^[A-Za-z]{3}/;

/**
 * A `Retry-After` header value in ms from `now` (epoch ms): delta-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`). A date in the past gives 0; anything unparseable, undefined.
 */
export function retryAfterMs(headerValue: string | null | undefined, now: number): number | undefined {
  if (headerValue === null || headerValue === undefined) return undefined;
  const value = headerValue.trim();
  if (DELTA_SECONDS.test(value)) return Number(value) * 1000;
  const at = HTTP_DATE_START.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
