/**
 * Stage failures that carry what a retry policy matches on: an HTTP status, an exit code, a broken
 * connection. They are `StageFailedError`s (ledger code `stage_failed`, CLI exit 1), so everything
 * that only knows the base taxonomy keeps working; `retry_on.http_status` / `retry_on.exit_codes`
 * look at the extra fields. URLs in messages and fields are redacted: errors end up in logs,
 * reports and the ledger.
 */
import { StageFailedError, StageTimeoutError, type ErrorContext } from '../model/errors.ts';
import { formatDuration } from '../model/duration.ts';

/** Query parameters whose values never appear in logs or errors. */
const SECRET_PARAM = /key|token|secret|pass|sig|auth|credential|session/i;

/** The URL with secret-looking query values and user info replaced by `***`, for logs and errors. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.split('?')[0] ?? url;
  }
  if (parsed.username || parsed.password) [parsed.username, parsed.password] = ['***', ''];
  for (const key of new Set(parsed.searchParams.keys())) if (SECRET_PARAM.test(key)) parsed.searchParams.set(key, '***');
  return parsed.toString();
}

/** What to do about a non-2xx status, for the end of an HttpStatusError message. */
export function statusHint(status: number): string {
  if (status === 401 || status === 403) return 'Check the credentials sent in with.headers (e.g. {{ env.TOKEN }}).';
  if (status === 404) return 'Check with.url.';
  if (status === 429) return 'The API is rate-limiting: add a policy with retries and a rate limit.';
  if (status >= 500) return 'The server failed: retry later or add a policy with retries.';
  return 'Check with.url, with.method, with.headers and with.body.';
}

export interface HttpStatusDetails {
  status: number;
  url: string;
  /** e.g. 'GET'; shown in the message. Default: GET. */
  method?: string;
  /** e.g. 'Not Found'; shown after the status. Default: none. */
  statusText?: string;
  /** From a `Retry-After` header on 429/503, in ms from when the answer came. */
  retryAfterMs?: number;
  /** What the server said and what to do (a body snippet and a hint); ends the message. Default: none. */
  detail?: string;
}

/** The server answered with a non-2xx status. */
export class HttpStatusError extends StageFailedError {
  readonly status: number;
  /** Redacted (secret query values and user info replaced by `***`). */
  readonly url: string;
  readonly retryAfterMs?: number;
  constructor(details: HttpStatusDetails, options: ErrorOptions & ErrorContext = {}) {
    const url = redactUrl(details.url);
    const status = `HTTP ${details.status}${details.statusText ? ` ${details.statusText}` : ''}`;
    const wait = details.retryAfterMs === undefined ? '' : ` (server asks to retry after ${formatDuration(details.retryAfterMs)})`;
    super(`${details.method ?? 'GET'} ${url} answered ${status}${wait}${details.detail ? `: ${details.detail}` : ''}`, options);
    this.status = details.status;
    this.url = url;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** A command exited with a non-zero status; `retry_on.exit_codes` / `no_retry_on.exit_codes` match `exitCode`. */
export class ExitCodeError extends StageFailedError {
  readonly exitCode: number;
  /** `command` is how the command is named in the message (e.g. `command 'dbt run'`, `script x.sh`); `detail` ends it. */
  constructor(exitCode: number, command: string, options: ErrorOptions & ErrorContext & { detail?: string } = {}) {
    super(`${command} exited with code ${exitCode}${options.detail ?? ''}`, options);
    this.exitCode = exitCode;
  }
}

/** The connection failed before an HTTP answer came (refused, reset, DNS): retried like a 5xx. */
export class NetworkError extends StageFailedError {
  /** Redacted (secret query values and user info replaced by `***`). */
  readonly url: string;
  constructor(url: string, options: ErrorOptions & ErrorContext = {}) {
    const cause = options.cause as { code?: unknown; message?: unknown } | undefined;
    const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : 'connection failed';
    const redacted = redactUrl(url);
    super(`could not reach ${redacted}: ${why}; check that the host is up and reachable from the runner`, options);
    this.url = redacted;
  }
}

/**
 * Where an HTTP request timed out: `connect` — no answer (status and headers) within the policy
 * `timeout`; `body` — the answer's body stopped for longer than the policy `body_timeout`.
 */
export type RequestTimeoutPhase = 'connect' | 'body';

/** One HTTP request timed out (ledger code `stage_timeout`); retried per request, never the whole stage. */
export class RequestTimeoutError extends StageTimeoutError {
  /** Redacted (secret query values and user info replaced by `***`). */
  readonly url: string;
  readonly phase: RequestTimeoutPhase;
  constructor(url: string, message: string, options: ErrorOptions & ErrorContext & { phase?: RequestTimeoutPhase } = {}) {
    super(message, options);
    this.url = url;
    this.phase = options.phase ?? 'connect';
  }
}

/** The typed timeout of HTTP work, with its phase (an alias: the ledger keeps RequestTimeoutError). */
export { RequestTimeoutError as TimeoutError };

/**
 * A failure that cannot change on another attempt (a missing SQL file, a script without the exec
 * bit, a template that does not render, an empty answer without allow_empty): never retried, no
 * backoff. Any error with `permanent: true` counts the same (see isPermanentError).
 */
export class PermanentStageError extends StageFailedError {
  readonly permanent = true;
}

/** Whether retrying `error` is pointless whatever the policy says: it is marked `permanent: true`. */
export function isPermanentError(error: unknown): boolean {
  return error !== null && typeof error === 'object' && (error as { permanent?: unknown }).permanent === true;
}
