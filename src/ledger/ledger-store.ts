/**
 * Where ledger state lives. The engine talks to this interface; the file-system store is the local
 * default, and a git-backed store can implement the same contract.
 */
import type { ProcessedFile, StateCommit } from '../stages/stage-kind.ts';
import type { RunRecord } from './run-record.ts';

export interface ProcessedFileRecord extends ProcessedFile {
  runId: string;
  at: string;
}

/** Per-pipeline state that outlives runs. */
export interface PipelineState {
  watermarks: Record<string, string>;
  /** Content hash → where and when the file was processed. */
  processedFiles: Record<string, ProcessedFileRecord>;
}

export function emptyPipelineState(): PipelineState {
  return { watermarks: {}, processedFiles: {} };
}

export interface RunQuery {
  pipeline?: string;
  /** Most records to return, newest first. */
  limit?: number;
}

export interface LedgerStore {
  readState(pipeline: string): Promise<PipelineState>;
  /** Saves the record of a run in progress; a killed process leaves this readable. */
  saveActive(record: RunRecord): Promise<void>;
  /**
   * Records a finished run and, for a successful run, applies its state commit, in that order.
   * Idempotent by run id: finishing the same run twice changes nothing the second time.
   */
  finishRun(record: RunRecord, commit?: StateCommit): Promise<void>;
  listRuns(query?: RunQuery): Promise<RunRecord[]>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  pipelines(): Promise<string[]>;
}

/** Pure: the state after a successful run's commit. */
export function applyCommit(state: PipelineState, commit: StateCommit, runId: string, at: string): PipelineState {
  const next: PipelineState = { watermarks: { ...state.watermarks, ...commit.watermarks }, processedFiles: { ...state.processedFiles } };
  for (const file of commit.processedFiles ?? []) next.processedFiles[file.hash] = { ...file, runId, at };
  return next;
}
