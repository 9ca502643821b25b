/**
 * Downloads a pinned binding tarball to a file, hashing it as it streams, and checks the sha512
 * against the pin before anyone unpacks it. Retries what may pass on a second try (network errors,
 * timeouts, 5xx, 429); a 4xx or a hash mismatch is final.
 */
import { createHash } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import { BindingDownloadError, BindingDownloadTimeoutError, BindingIntegrityError } from './duckdb-binding-errors.ts';

export interface DownloadOptions {
  fetch: typeof globalThis.fetch;
  /** Whole download (headers and body), per attempt. Default 120 s: ~25 MB on a slow runner link. */
  timeoutMs?: number;
  /** Attempts in all. Default 3. */
  attempts?: number;
  /** Waits between attempts (injected: tests pass one that returns at once). */
  sleep?: (ms: number) => Promise<void>;
  /** Refuse bodies larger than this, so a wrong mirror cannot fill the disk. Default 256 MiB. */
  maxBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_ATTEMPTS = 3;
const RETRY_DELAY_MS = 2_000;
const DEFAULT_MAX_BYTES = 256 * 2 ** 20;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `sha512-<base64>` of some bytes, as npm writes integrity. */
export function sha512Integrity(bytes: Uint8Array): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

/** Throws BindingIntegrityError unless the file's sha512 is `integrity` (the file is then removed). */
export async function assertFileIntegrity(file: string, integrity: string, source: string): Promise<void> {
  const actual = sha512Integrity(await readFile(file));
  if (actual === integrity) return;
  await rm(file, { force: true });
  throw new BindingIntegrityError(source, integrity, actual);
}

/**
 * Downloads `url` into `file` and verifies it against `integrity`. On any failure the file is
 * removed: a caller never finds unverified bytes on disk.
 */
export async function downloadVerified(url: string, file: string, integrity: string, options: DownloadOptions): Promise<void> {
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  const sleep = options.sleep ?? realSleep;
  // Hand-written rather than p-retry: the wait is injected, and which failures retry is ours to say.
  for (let attempt = 1; ; attempt++) {
    try {
      const actual = await downloadOnce(url, file, options);
      if (actual !== integrity) throw new BindingIntegrityError(url, integrity, actual);
      return;
    } catch (error) {
      await rm(file, { force: true });
      if (attempt >= attempts || !isRetryable(error)) throw error;
      await sleep(RETRY_DELAY_MS * attempt);
    }
  }
}

class RetryableStatus extends BindingDownloadError {}

function isRetryable(error: unknown): boolean {
  if (error instanceof BindingIntegrityError) return false;
  if (error instanceof BindingDownloadError) return error instanceof RetryableStatus || error instanceof BindingDownloadTimeoutError || error.cause !== undefined;
  return false;
}

/** One attempt: streams the body into `file`, returns its integrity string. */
async function downloadOnce(url: string, file: string, options: DownloadOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const out = await open(file, 'w');
  try {
    const response = await options.fetch(url, { signal: controller.signal, redirect: 'follow' });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      const reason = `HTTP ${response.status} ${response.statusText}`.trim();
      throw response.status >= 500 || response.status === 429 ? new RetryableStatus(url, reason) : new BindingDownloadError(url, reason);
    }
    const hash = createHash('sha512');
    let size = 0;
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        controller.abort();
        throw new BindingDownloadError(url, `the body exceeds ${maxBytes} bytes, far more than any DuckDB binding`);
      }
      hash.update(chunk);
      await out.write(chunk);
    }
    return `sha512-${hash.digest('base64')}`;
  } catch (error) {
    if (error instanceof BindingDownloadError) throw error;
    if (controller.signal.aborted) throw new BindingDownloadTimeoutError(url, timeoutMs, { cause: error });
    throw new BindingDownloadError(url, describeNetworkError(error), { cause: error });
  } finally {
    clearTimeout(timer);
    await out.close();
  }
}

/** fetch's "fetch failed" hides the useful part (ECONNRESET, ECONNREFUSED) in its cause. */
function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.message) return cause.code && !cause.message.includes(cause.code) ? `${cause.message} (${cause.code})` : cause.message;
  return (error as Error).message ?? String(error);
}
