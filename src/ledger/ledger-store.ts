/**
 * Where ledger state lives. The engine talks to this interface; the file-system store is the local
 * default, the memory store serves tests, and a git-backed store can implement the same contract
 * (test/ledger/contract.ts is the proof each implementation passes).
 */
import type { Interval, RunEvent, RunStatus } from '../model/events.ts';
import type { PipelineState, StateCommit } from '../model/state.ts';
import type { RunRecord } from './run-record.ts';
import type { Flag, FlagWrite } from './flags.ts';

export interface RunQuery {
  pipeline?: string;
  /** Most records to return, newest first (by run id). Default: all. */
  limit?: number;
  /** Only runs with this status (an active run whose owner is gone counts as `abandoned`). */
  status?: RunStatus;
  /** Only runs whose data interval overlaps this one (for catch-up). */
  interval?: Interval;
  /** Only runs not finished yet (in progress, or parked `waiting` on a gate): no finished record is read. Gates issue. */
  unfinished?: boolean;
}

/** Who runs a run: enough to tell, from another process or host, whether it is still alive. */
export interface LeaseOwner {
  runId: string;
  host: string;
  pid: number;
  /** Process group of the run's children, killed by recovery when the owner is gone. */
  pgid?: number;
  /** ISO 8601. */
  startedAt: string;
  /** `GITHUB_RUN_ID` when the run is a CI job. */
  ciRunId?: string;
  /** ISO 8601; renewed by `renewLease`. An owner silent for longer than the TTL is gone. */
  heartbeatAt: string;
}

/** A held slot of a pipeline's `max_active_runs`. */
export interface Lease {
  pipeline: string;
  slot: number;
  owner: LeaseOwner;
}

export type LeaseResult = { acquired: true; lease: Lease } | { acquired: false; holders: LeaseOwner[] };
export type RenewResult = { renewed: true; lease: Lease } | { renewed: false; holder?: LeaseOwner };

export interface LeaseOptions {
  /** Runs of the pipeline allowed at once (the pipeline's `max_active_runs`). Default 1. */
  maxActive?: number;
}

export interface RecoverOptions {
  /** The run's events (its `events.jsonl`), or undefined when there are none to read. */
  loadEvents(pipeline: string, runId: string): Promise<RunEvent[] | undefined>;
  /**
   * The state commit a run's stages left in its folder, for a run that ended `succeeded` but died
   * before its commit reached the ledger. Without it such a run is recorded with no commit.
   */
  loadCommit?(pipeline: string, runId: string): Promise<StateCommit | undefined>;
  /**
   * Kills a gone owner's process group (children that outlived it); must accept a group that no
   * longer exists. Only called for owners on this host. `killProcessGroup` in owner-liveness.ts.
   */
  killProcessGroup?(pgid: number): void | Promise<void>;
}

export interface RecoveredRun {
  pipeline: string;
  runId: string;
  /** `abandoned`, or the status its events ended with when it died while being recorded. */
  status: RunStatus;
  owner?: LeaseOwner;
  killedProcessGroup?: number;
}

// Pause control (catch-up issue) ↓
/** Whether a pipeline is paused, and who changed that, when and why: `<pipeline>/control.json`. */
export interface PipelineControl {
  paused: boolean;
  /** `USER` or `GITHUB_ACTOR` of whoever paused or unpaused it. */
  by: string;
  /** ISO 8601. */
  at: string;
  reason?: string;
}

export interface LedgerStore {
  /** The pipeline's pause state, or undefined when it was never paused. */
  readControl(pipeline: string): Promise<PipelineControl | undefined>;
  /** Replaces the pipeline's pause state (last writer wins: pausing is a human decision, not a race). */
  writeControl(pipeline: string, control: PipelineControl): Promise<void>;
  // Flags (gates issue) ↓
  /** Every flag of a scope (a pipeline name, or GLOBAL_FLAG_SCOPE), keyed ones included, sorted by name then key. */
  readFlags(scope: string): Promise<Flag[]>;
  /** Sets or unsets flags; concurrent writers of different flags lose nothing, the same flag: last writer wins. */
  setFlags(writes: readonly FlagWrite[]): Promise<void>;
  /** Watermarks and processed files: the fold of every committed run. */
  readState(pipeline: string): Promise<PipelineState>;
  /** Saves the record of a run in progress (with its `owner`); a killed process leaves this readable. */
  saveActive(record: RunRecord): Promise<void>;
  /**
   * Records a finished run, with the state commit of a run that succeeded, and removes its active
   * record. Write-once and idempotent by run id: finishing the same run again changes nothing.
   */
  finishRun(record: RunRecord, commit?: StateCommit): Promise<void>;
  /** Newest first; reads only as many records as `limit` needs. */
  listRuns(query?: RunQuery): Promise<RunRecord[]>;
  /** By exact id or unique prefix; throws `AmbiguousRunIdError` when a prefix matches several runs. */
  getRun(idOrPrefix: string): Promise<RunRecord | undefined>;
  pipelines(): Promise<string[]>;
  /** Takes one of the pipeline's `maxActive` slots, taking over slots whose owner is gone. */
  acquireLease(pipeline: string, owner: LeaseOwner, options?: LeaseOptions): Promise<LeaseResult>;
  /** Moves the lease's heartbeat to now; `renewed: false` when another owner took the slot over. */
  renewLease(lease: Lease): Promise<RenewResult>;
  /** Frees the slot if it is still this lease's; does nothing otherwise. */
  releaseLease(lease: Lease): Promise<void>;
  listLeases(pipeline: string): Promise<LeaseOwner[]>;
  /** Closes runs whose owner is gone and frees their leases. Idempotent; safe to run concurrently. */
  recover(options: RecoverOptions): Promise<RecoveredRun[]>;
}
