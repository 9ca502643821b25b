/**
 * Stage failures that carry what a retry policy matches on: an HTTP status, an exit code, a broken
 * connection. They are `StageFailedError`s (ledger code `stage_failed`, CLI exit 1), so everything
 * that only knows the base taxonomy keeps working; `retry_on.http_status` / `retry_on.exit_codes`
 * look at the extra fields.
 */
import { StageFailedError, type ErrorContext } from '../model/errors.ts';
import { formatDuration } from '../model/duration.ts';

export interface HttpStatusDetails {
  status: number;
  url: string;
  /** e.g. 'GET'; shown in the message. Default: GET. */
  method?: string;
  /** From a `Retry-After` header on 429/503, in ms from when the answer came. */
  retryAfterMs?: number;
}

/** The server answered with a non-2xx status. */
export class HttpStatusError extends StageFailedError {
  readonly status: number;
  readonly url: string;
  readonly retryAfterMs?: number;
  constructor(details: HttpStatusDetails, options: ErrorOptions & ErrorContext = {}) {
    const wait = details.retryAfterMs === undefined ? '' : ` (server asks to retry after ${formatDuration(details.retryAfterMs)})`;
    super(`${details.method ?? 'GET'} ${details.url} answered HTTP ${details.status}${wait}`, options);
    this.status = details.status;
    this.url = details.url;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** A command exited with a non-zero status. */
export class ExitCodeError extends StageFailedError {
  readonly exitCode: number;
  constructor(exitCode: number, command: string, options: ErrorOptions & ErrorContext = {}) {
    super(`command '${command}' exited with code ${exitCode}`, options);
    this.exitCode = exitCode;
  }
}

/** The connection failed before an HTTP answer came (refused, reset, DNS): retried like a 5xx. */
export class NetworkError extends StageFailedError {
  readonly url: string;
  constructor(url: string, options: ErrorOptions & ErrorContext = {}) {
    const cause = options.cause as { code?: unknown; message?: unknown } | undefined;
    const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : 'connection failed';
    super(`could not reach ${url}: ${why}; check that the host is up and reachable from the runner`, options);
    this.url = url;
  }
}
