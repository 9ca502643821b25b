/**
 * Splits a file holding one top-level JSON array into NDJSON (one object per line), streaming:
 * memory stays at one chunk plus the largest element, whatever the file size. Elements that are
 * not objects are handed to `onOther` (they become dead letters) instead of being written.
 *
 * Hand-written on purpose: the only streaming JSON parsers that would do this are extra
 * dependencies (stream-json and the like) that parse every value into objects; this needs only to
 * find where each element of one array starts and ends (bracket depth outside strings), ~60 lines.
 * DuckDB could split it too (read_json_objects), but costs 2–3× the file in memory doing so.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';

const Byte = {
  Quote: 0x22,
  Backslash: 0x5c,
  Comma: 0x2c,
  OpenBrace: 0x7b,
  OpenBracket: 0x5b,
  CloseBrace: 0x7d,
  CloseBracket: 0x5d,
} as const;

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

export interface SplitResult {
  /** Objects written to the NDJSON file. */
  objects: number;
  /** Elements handed to onOther. */
  others: number;
}

/** Thrown when the file is not one JSON array, with the byte offset where that showed. */
export class NotAJsonArrayError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'NotAJsonArrayError';
    this.offset = offset;
  }
}

/**
 * Writes each object element of the array in `file` to `out` as one line (whitespace outside
 * strings dropped; raw newlines cannot occur inside JSON strings). `onOther(value, index)` gets
 * every other element, parsed, with its 1-based index. Rejects with NotAJsonArrayError when the
 * file does not start with `[` or ends inside the array, and with a SyntaxError for a bad scalar.
 */
export async function splitJsonArray(file: string, out: string, onOther: (value: unknown, index: number) => void): Promise<SplitResult> {
  const output = createWriteStream(out);
  const result: SplitResult = { objects: 0, others: 0 };
  let started = false;
  let finished = false;
  let depth = 0; // inside the top-level array: 1; inside an element: more
  let inString = false;
  let escaped = false;
  let element: Buffer[] = [];
  let inElement = false;
  let elementStart = -1; // offset in the current chunk where the pending element part starts
  let offset = 0;
  let index = 0;
  let lines: Buffer[] = [];
  const newline = Buffer.from('\n');
  const flushElement = () => {
    const text = Buffer.concat(element);
    element = [];
    inElement = false;
    if (text.length === 0) return;
    index++;
    if (text[0] === Byte.OpenBrace) {
      result.objects++;
      lines.push(text, newline);
    } else {
      result.others++;
      onOther(JSON.parse(text.toString('utf8')), index);
    }
  };
  try {
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
      // An element (or a string in it) that goes on from the last chunk continues at this one's start.
      elementStart = inElement ? 0 : -1;
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i];
        if (finished) {
          if (!isWhitespace(byte)) throw new NotAJsonArrayError('unexpected content after the closing ]', offset + i);
          continue;
        }
        if (!started) {
          if (isWhitespace(byte)) continue;
          if (byte !== Byte.OpenBracket) throw new NotAJsonArrayError('the answer is not a JSON array', offset + i);
          started = true;
          depth = 1;
          continue;
        }
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === Byte.Backslash) escaped = true;
          else if (byte === Byte.Quote) inString = false;
          continue;
        }
        if (isWhitespace(byte)) {
          // Dropped: cut the pending part here and start again after it.
          if (elementStart >= 0) element.push(chunk.subarray(elementStart, i));
          elementStart = -1;
          continue;
        }
        if (depth === 1 && (byte === Byte.Comma || byte === Byte.CloseBracket)) {
          if (elementStart >= 0) element.push(chunk.subarray(elementStart, i));
          elementStart = -1;
          flushElement();
          if (byte === Byte.CloseBracket) finished = true;
          continue;
        }
        if (elementStart < 0) elementStart = i;
        inElement = true;
        if (byte === Byte.Quote) inString = true;
        else if (byte === Byte.OpenBrace || byte === Byte.OpenBracket) depth++;
        else if (byte === Byte.CloseBrace || byte === Byte.CloseBracket) depth--;
      }
      // The element goes on in the next chunk: keep a copy (the chunk's memory is reused).
      if (elementStart >= 0) element.push(Buffer.from(chunk.subarray(elementStart)));
      offset += chunk.length;
      // One write per chunk read, with backpressure: a slow disk does not pile lines up in memory.
      if (lines.length > 0 && !output.write(Buffer.concat(lines))) await once(output, 'drain');
      lines = [];
    }
    if (!finished) throw new NotAJsonArrayError(started ? 'the array is never closed (the answer was cut short?)' : 'the answer is empty', offset);
  } finally {
    output.end();
    await once(output, 'close');
  }
  return result;
}
