/**
 * Where ledger state lives. The engine talks to this interface; the file-system store is the local
 * default, and a git-backed store can implement the same contract.
 */
import type { PipelineState, StateCommit } from '../model/state.ts';
import type { RunRecord } from './run-record.ts';

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

