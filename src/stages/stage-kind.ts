/**
 * The one interface every stage kind implements. A kind is a module exporting a `StageKind`: a zod
 * schema for its `with` block (validation and JSON Schema come from it), the files it references
 * (checked at validation time, never executed), and `run`.
 */
import type { z } from 'zod';
import type { Database } from '../adapters/duckdb.ts';

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

export interface ProcessedFile {
  hash: string;
  path: string;
  /** Where the file was archived to, if anywhere. */
  archivedTo?: string;
  bytes: number;
}

/** State a stage wants recorded; applied only when the whole run succeeds. */
export interface StateCommit {
  processedFiles?: ProcessedFile[];
  watermarks?: Record<string, string>;
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
  state: PipelineStateView;
  env: Readonly<Record<string, string | undefined>>;
}

export interface StageResult {
  /** Table the stage produced: checks run against it. */
  table?: string;
  rows?: number;
  /** Small facts for reports and ledger (paths written, pages fetched, exit code). */
  outputs?: Record<string, unknown>;
  commit?: StateCommit;
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
  /** Whether the stage produces a table that `checks` can run against. */
  producesTable: boolean;
  /** Files the stage reads that must exist before it runs (SQL files, scripts). */
  references?(config: W): FileReference[];
  /** `with` has been rendered (templates in strings resolved) before this is called. */
  run(ctx: StageContext, config: W): Promise<StageResult>;
}
