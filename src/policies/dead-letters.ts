/**
 * Dead letters: records a stage could not load (bad JSON line, failed parse, a page that kept
 * failing) are kept with why and where from, in `<runDir>/dead-letters/<stage>.jsonl`, instead of
 * failing the stage on the first one. `assertDeadLetterRatio` then fails the stage when too many.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StageFailedError } from '../model/errors.ts';

/** Where a dead letter came from; at least one of the fields. */
export interface DeadLetterSource {
  file?: string;
  url?: string;
  /** 1-based line in `file`. */
  line?: number;
}

export interface DeadLetter {
  /** The record as read (parsed JSON, or the raw text when it did not parse). */
  record: unknown;
  /** Why it was rejected, e.g. the parse error's message. */
  reason: string;
  source: DeadLetterSource;
}

/** Collects a stage's dead letters in memory; `flush` writes them (once, at the end of an attempt). */
export class DeadLetterSink {
  readonly stage: string;
  readonly file: string;
  readonly #letters: DeadLetter[] = [];

  constructor(runDir: string, stage: string) {
    this.stage = stage;
    this.file = join(runDir, 'dead-letters', `${stage}.jsonl`);
  }

  add(record: unknown, reason: string, source: DeadLetterSource): void {
    this.#letters.push({ record, reason, source });
  }

  get count(): number {
    return this.#letters.length;
  }

  get letters(): readonly DeadLetter[] {
    return this.#letters;
  }

  /**
   * Appends the collected letters to the file (one JSON object per line) and forgets them. Returns
   * the file path, or undefined when there was nothing to write (no empty file is created).
   */
  /** Writes the letters; `redact` is applied to each line (secrets in a bad record must not reach the file). */
  async flush(redact: (text: string) => string = (text) => text): Promise<string | undefined> {
    if (this.#letters.length === 0) return undefined;
    const lines = this.#letters.map((letter) => `${redact(JSON.stringify(letter))}\n`).join('');
    this.#letters.length = 0;
    await mkdir(join(this.file, '..'), { recursive: true });
    await appendFile(this.file, lines, 'utf8');
    return this.file;
  }
}

/**
 * Throws StageFailedError when `count / total` is above `maxRatio` (the policy's
 * `max_dead_letter_ratio`). With no records at all there is nothing to judge.
 */
export function assertDeadLetterRatio(
  count: number,
  total: number,
  maxRatio: number,
  context: { stage?: string; file?: string } = {},
): void {
  if (total === 0 || count / total <= maxRatio) return;
  const percent = (value: number) => `${Number((value * 100).toFixed(2))}%`;
  throw new StageFailedError(
    `${count} of ${total} records (${percent(count / total)}) went to dead letters, above max_dead_letter_ratio ` +
      `${maxRatio} (${percent(maxRatio)}); see ${context.file ?? 'the dead-letters file'} for the reasons, fix the input or raise ` +
      'max_dead_letter_ratio in the stage policy',
    { stage: context.stage },
  );
}
