/**
 * What the ledger branch holds, as pure functions (tested without git):
 *
 *   .weir-ledger                                   marker written when weir creates the branch
 *   <pipeline>/runs/<YYYY-MM>/<DD>/<run id>.json   finished run, written once (same as the fs store)
 *   <pipeline>/state.json                          { version: 2, watermarks, processedFiles }
 *   <pipeline>/active/<run id>.json                a CI run in progress (removed by its finish)
 *
 * No `pending/` folder: a git commit is atomic, so the run file and the state it implies land
 * together or not at all, and there is no crash window between them to cover.
 */
import { emptyPipelineState, type PipelineState } from '../model/state.ts';
import { dayOf } from './fs-run-files.ts';
import { CorruptLedgerBranchError, ForeignLedgerBranchError } from './git-errors.ts';
import type { RunRecord } from './run-record.ts';

export const MARKER_PATH = '.weir-ledger';
export const LEDGER_FORMAT = 'weir-ledger';
export const LEDGER_VERSION = 1;
export const DEFAULT_LEDGER_BRANCH = 'weir-ledger';
/** GitHub attributes the commits to this address without a user behind it. */
export const LEDGER_AUTHOR = { name: 'weir', email: 'weir@users.noreply.github.com' };

export function markerContent(): string {
  return `${JSON.stringify({ format: LEDGER_FORMAT, version: LEDGER_VERSION, about: 'run history written by weir; do not edit by hand' }, null, 2)}\n`;
}

export function runPath(record: RunRecord): string {
  return `${record.pipeline}/runs/${dayOf(record)}/${record.runId}.json`;
}

export function activePath(pipeline: string, runId: string): string {
  return `${pipeline}/active/${runId}.json`;
}

// Pause control (catch-up issue).
export function controlPath(pipeline: string): string {
  return `${pipeline}/control.json`;
}

export function statePath(pipeline: string): string {
  return `${pipeline}/state.json`;
}

/** The run id of a run file path, or undefined for any other path. */
export function runIdOfPath(path: string): string | undefined {
  const match = /^[^/]+\/runs\/\d{4}-\d{2}\/\d{2}\/([^/]+)\.json$/.exec(path);
  return match?.[1];
}

/** `[skip ci]`: the ledger commit must never start a workflow of its own. */
export function commitMessage(record: RunRecord): string {
  return `weir: ${record.pipeline} run ${record.runId} ${record.status} [skip ci]\n`;
}

/** Throws unless `text` is the marker weir writes (undefined: no marker, not a weir ledger). */
export function assertLedgerMarker(branch: string, text: string | undefined): void {
  if (text === undefined) throw new ForeignLedgerBranchError(branch);
  let marker: { format?: unknown; version?: unknown };
  try {
    marker = JSON.parse(text) as typeof marker;
  } catch (error) {
    throw new CorruptLedgerBranchError(branch, MARKER_PATH, 'is not valid JSON', error);
  }
  if (marker.format !== LEDGER_FORMAT) throw new CorruptLedgerBranchError(branch, MARKER_PATH, `names format '${String(marker.format)}', not '${LEDGER_FORMAT}'`);
  if (typeof marker.version !== 'number' || marker.version > LEDGER_VERSION) {
    throw new CorruptLedgerBranchError(branch, MARKER_PATH, `has version ${String(marker.version)}, newer than this weir reads (${LEDGER_VERSION}): upgrade weir`);
  }
}

export function parseBranchJson<T>(branch: string, path: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new CorruptLedgerBranchError(branch, path, 'is not valid JSON', error);
  }
}

export function parseState(branch: string, pipeline: string, text: string | undefined): PipelineState {
  if (text === undefined) return emptyPipelineState();
  const state = parseBranchJson<Partial<PipelineState>>(branch, statePath(pipeline), text);
  return { watermarks: state.watermarks ?? {}, processedFiles: state.processedFiles ?? {} };
}

export function stateContent(state: PipelineState): string {
  return JSON.stringify({ version: 2, watermarks: state.watermarks, processedFiles: state.processedFiles });
}
