/**
 * Pipeline state that outlives runs (watermarks, processed files) and the commits runs make to it.
 *
 * State is the fold of the commits of succeeded runs. The merge is a join: commutative, associative
 * and idempotent (watermarks keep the maximum, a processed file keeps its earliest run), so commits
 * may be applied in any order, and applied twice after a crash, and the result is the same.
 */

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
  /** Ledger flags from `sets:` (gates issue): written to the ledger's flags when the run is recorded, not folded into state. */
  flags?: { scope: string; name: string; key?: string; value: unknown }[];
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

/** A succeeded run's commit, with what orders it in the fold. */
export interface CommittedRun {
  runId: string;
  /** When the run finished (ISO 8601): the fold order, then the run id. */
  at: string;
  commit: StateCommit;
}

export function emptyPipelineState(): PipelineState {
  return { watermarks: {}, processedFiles: {} };
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

/**
 * The later of two watermark values: numeric when both are numbers (so '10' > '9'), else by string
 * order, which is time order for ISO 8601 instants in one format.
 */
export function laterWatermark(a: string, b: string): string {
  if (NUMERIC.test(a) && NUMERIC.test(b)) return Number(b) > Number(a) ? b : a;
  return b > a ? b : a;
}

function isEarlier(a: { at: string; runId: string }, b: { at: string; runId: string }): boolean {
  return a.at < b.at || (a.at === b.at && a.runId < b.runId);
}

/** Pure: the state after a successful run's commit. Order-independent and idempotent (see above). */
export function applyCommit(state: PipelineState, commit: StateCommit, runId: string, at: string): PipelineState {
  const watermarks = { ...state.watermarks };
  for (const [key, value] of Object.entries(commit.watermarks ?? {})) {
    watermarks[key] = key in watermarks ? laterWatermark(watermarks[key], value) : value;
  }
  const processedFiles = { ...state.processedFiles };
  for (const file of commit.processedFiles ?? []) {
    const candidate = { ...file, runId, at };
    const existing = processedFiles[file.hash];
    if (!existing || isEarlier(candidate, existing)) processedFiles[file.hash] = candidate;
  }
  return { watermarks, processedFiles };
}

/** Pure: `state` with every commit applied, in the deterministic order (finish time, then run id). */
export function foldCommits(state: PipelineState, commits: Iterable<CommittedRun>): PipelineState {
  const ordered = [...commits].sort((a, b) => (isEarlier(a, b) ? -1 : isEarlier(b, a) ? 1 : 0));
  return ordered.reduce((next, c) => applyCommit(next, c.commit, c.runId, c.at), state);
}

/** One commit holding several stages' commits: processed files in order, later watermarks win per key. */
export function mergeCommitList(commits: Iterable<StateCommit>): StateCommit {
  const merged: Required<Omit<StateCommit, 'flags'>> & Pick<StateCommit, 'flags'> = { processedFiles: [], watermarks: {} };
  for (const commit of commits) {
    merged.processedFiles.push(...(commit.processedFiles ?? []));
    // Gates: flags in stage order; a later stage's value for the same flag wins when applied.
    if (commit.flags?.length) (merged.flags ??= []).push(...commit.flags);
    for (const [key, value] of Object.entries(commit.watermarks ?? {})) {
      merged.watermarks[key] = key in merged.watermarks ? laterWatermark(merged.watermarks[key], value) : value;
    }
  }
  return merged;
}
