/**
 * Streams an HTTP answer's body into a file with an idle timeout: the body may take as long as it
 * needs while bytes keep coming, but a silence longer than `idleMs` fails it. Memory stays at one
 * chunk whatever the size of the answer.
 */
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { formatDuration } from '../model/duration.ts';
import { NetworkError, redactUrl, RequestTimeoutError } from './errors.ts';

export interface BodyTarget {
  url: string;
  /** Longest silence between two chunks (the policy's body_timeout); 0 or less: none. */
  idleMs: number;
  /** Cancel or stage timeout: aborts the download with its reason. */
  signal: AbortSignal;
  stage?: string;
}

/**
 * Writes the body to `file` (replacing it) and resolves with its size in bytes. Rejects with
 * RequestTimeoutError (phase `body`) after a silence longer than `idleMs`, with NetworkError when
 * the body breaks off (reset, or shorter than its content-length), with the signal's reason on abort.
 */
export async function writeBody(response: Response, file: string, target: BodyTarget): Promise<number> {
  const idle = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    if (target.idleMs > 0) timer = setTimeout(() => idle.abort(), target.idleMs);
  };
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      arm();
      bytes += chunk.byteLength;
      done(null, chunk);
    },
  });
  arm();
  try {
    const body = response.body ? Readable.fromWeb(response.body as WebReadableStream<Uint8Array>) : Readable.from([]);
    await pipeline(body, counter, createWriteStream(file), { signal: AbortSignal.any([target.signal, idle.signal]) });
    return bytes;
  } catch (error) {
    target.signal.throwIfAborted();
    const where = redactUrl(target.url);
    if (idle.signal.aborted) {
      const message = `${where} stopped sending its answer for ${formatDuration(target.idleMs)} after ${bytes} bytes (the policy body_timeout)`;
      throw new RequestTimeoutError(where, message, { stage: target.stage, cause: error, phase: 'body' });
    }
    // undici reports a reset or a short body as `terminated` with the socket error as cause.
    throw new NetworkError(target.url, { cause: bodyCause(error, bytes), stage: target.stage });
  } finally {
    clearTimeout(timer);
  }
}

function bodyCause(error: unknown, bytes: number): Error {
  const inner = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = inner?.code ?? inner?.message ?? (error as Error).message;
  return Object.assign(new Error(`the answer broke off after ${bytes} bytes (${why})`), { cause: error });
}
