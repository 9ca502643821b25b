/** Pipeline state that outlives runs (watermarks, processed files) and the commits runs make to it. */

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

/** Pure: the state after a successful run's commit. */
export function applyCommit(state: PipelineState, commit: StateCommit, runId: string, at: string): PipelineState {
  const next: PipelineState = { watermarks: { ...state.watermarks, ...commit.watermarks }, processedFiles: { ...state.processedFiles } };
  for (const file of commit.processedFiles ?? []) next.processedFiles[file.hash] = { ...file, runId, at };
  return next;
}
