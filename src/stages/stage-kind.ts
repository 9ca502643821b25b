/**
 * The one interface every stage kind implements. A kind is a module exporting a `StageKind`: a zod
 * schema for its `with` block (validation and JSON Schema come from it), the files it references
 * (checked at validation time, never executed), and `run`.
 */
import type { z } from 'zod';
import type { Database } from '../model/database.ts';
import type { ProcessedFile, StateCommit } from '../model/state.ts';
import type { Downloaded } from '../policies/http.ts';

export type { Downloaded, ProcessedFile, StateCommit };

/** A file a stage refers to, checked to exist by `weir validate`. */
export interface FileReference {
  /** Path under `with` where the reference sits, e.g. ['file']. */
  field: (string | number)[];
  /** The path as written (relative to the project root). */
  path: string;
}

export interface StageLogger {
  info(line: string): void;
  warn(line: string): void;
  stdout(line: string): void;
  stderr(line: string): void;
}

/** Ledger state of the pipeline that stages may read. Writes go through StageResult.commit. */
export interface PipelineStateView {
  /** Has a file with this content hash been processed by an earlier successful run? */
  isFileProcessed(hash: string): boolean;
  watermark(key: string): string | undefined;
}

/** Where a dead letter came from, for the reason file. */
export interface DeadLetterOrigin {
  file?: string;
  url?: string;
  line?: number;
}

/** What a `gate` stage reads (gates issue): the ledger's flags and when the run first parked. */
export interface GateView {
  /** The flags `flags.<name>` sees in this pipeline, for `key` when given (most specific wins; see ledger/flags.ts). */
  flags(key?: string): Promise<Record<string, unknown>>;
  /** Evaluates a condition (template syntax) with `flags` in its context. */
  evaluate(condition: string, flags: Record<string, unknown>): boolean;
  /** When the run first parked (ISO 8601); undefined on its first pass. */
  parkedAt(): string | undefined;
  now(): number;
}

export interface StageContext {
  runId: string;
  pipeline: string;
  stage: string;
  attempt: number;
  /** Fires on stage timeout, run timeout or cancellation. Pass it to fetch, child processes and queries. */
  signal: AbortSignal;
  /** The run's database; tables created here are visible to later stages. */
  db: Database;
  /** Project root: relative paths in `with` resolve against it. */
  root: string;
  /** Folder for this run's outputs (dead letters, logs, exported files when relative to it). */
  runDir: string;
  /** Renders `{{ … }}` templates with this run's context (params, interval, run, env). */
  render(template: string): string;
  log: StageLogger;
  /**
   * `fetch` under the stage's policy: rate limit, circuit breaker and per-request retries with
   * backoff and Retry-After. Non-2xx answers reject with HttpStatusError. Use it for every request.
   */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /**
   * Like `fetch`, but the 2xx body is streamed into `file` (memory stays bounded whatever its size)
   * inside the retried request: a body that stalls longer than the policy's body_timeout or breaks
   * off fails that request, which is retried (writing the file afresh); the stage is not.
   */
  download(url: string, init: RequestInit | undefined, file: string): Promise<Downloaded>;
  /** Sets a record aside (unparseable, or failing a row-level check) with the reason. */
  deadLetter(record: unknown, reason: string, origin?: DeadLetterOrigin): void;
  state: PipelineStateView;
  env: Readonly<Record<string, string | undefined>>;
  /**
   * The absolute path to write `path` (relative to the project root) to, checked again after
   * templating: inside the project or a folder weir.yml `allow_write_paths` lists. Throws a
   * permanent StageFailedError naming the path and the fix otherwise. Use it for every file a stage writes.
   */
  writePath(path: string, field: string): string;
  /** Set by the run for every stage; only `gate` reads it (gates issue). */
  gate?: GateView;
}

export interface StageResult {
  /** Table the stage produced: checks run against it. */
  table?: string;
  rows?: number;
  /** Small facts for reports and ledger (paths written, pages fetched, exit code). */
  outputs?: Record<string, unknown>;
  commit?: StateCommit;
  /** Records the stage saw in all, dead letters included: the base of max_dead_letter_ratio. Default: rows + dead letters. */
  total?: number;
  /** Runs after the ledger recorded `commit` (e.g. move processed files to the archive). */
  afterCommit?: () => Promise<void>;
}

export interface StageKind<W = Record<string, unknown>> {
  /** Value of `uses:`. */
  name: string;
  /** One line for docs and `weir validate` messages. */
  summary: string;
  /** Schema of the `with` block. */
  with: z.ZodType<W>;
  /** Whether the stage produces a table that `checks` can run against; a function of the (unrendered) `with` when it depends on it. */
  producesTable: boolean | ((config: unknown) => boolean);
  /**
   * Whether the kind takes in outside data whose bad rows become dead letters: rows failing a
   * row-level error check are set aside instead of failing the stage (see max_dead_letter_ratio).
   */
  deadLetters?: boolean;
  /**
   * The kind does its outside calls through ctx.fetch, which applies the policy's timeout, breaker
   * and rate limit to each request: the engine then applies none of them to the stage as a whole.
   */
  policyPerRequest?: boolean;
  /**
   * Whether a stage with this (unrendered) `with` may change tables other than its own: a SQL
   * script can drop or update anything. The run then keeps other stages' outputs before it runs.
   */
  mayChangeOtherTables?(config: unknown): boolean;
  /** Files the stage reads that must exist before it runs (SQL files, scripts). */
  references?(config: W): FileReference[];
  /**
   * The kind's say on whether an error it threw is worth running the stage again: true/false
   * decides, undefined defers to the policy's retry_on. (An http stage says false for HTTP errors:
   * ctx.fetch has already retried those per request.)
   */
  isRetriable?(error: unknown): boolean | undefined;
  /** `with` has been rendered (templates in strings resolved) before this is called. */
  run(ctx: StageContext, config: W): Promise<StageResult>;
}

