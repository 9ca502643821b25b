/**
 * The hand-off between the jobs of a run split into segments (one job per segment, one per shard):
 * what the plan job writes (the run context), what each segment job leaves (a part: its events,
 * state commits and the tables downstream segments need), and the port that carries them. In
 * GitHub Actions the port is artifacts of the workflow run (src/adapters/actions-handoff.ts);
 * locally, and in tests, a folder (src/adapters/fs-handoff.ts).
 *
 * The stores keep a part as a folder (src/adapters/handoff-part.ts):
 *
 *   part.json                 PartReport: segment, shard, status, host, times
 *   events.jsonl              the events of the segment's own stages, in order
 *   commits.json              stage → state commit, for the stages that made one
 *   tables/<table>.parquet    each table in the segment's `outputs`
 */
import { createHash } from 'node:crypto';
import type { Interval, RunEvent, RunProvenance, RunStatus } from '../model/events.ts';
import type { PipelineSpec } from '../model/pipeline.ts';
import type { PipelineState, StateCommit } from '../model/state.ts';

/** Version of the hand-off layout: a job of another weir version refuses a context it cannot read. */
export const HANDOFF_FORMAT = 1;

/** Everything a segment job needs to run its part of the run, decided once by the plan job. */
export interface HandoffContext {
  format: typeof HANDOFF_FORMAT;
  runId: string;
  pipeline: string;
  /** sha256 of the pipeline as parsed: every job must run the pipeline the plan job planned. */
  pipelineDigest: string;
  params: Record<string, unknown>;
  interval: Interval;
  trigger: string;
  /** When the run was planned (ISO 8601): the run's start in its record. */
  startedAt: string;
  tick?: string;
  provenance?: RunProvenance;
  /** The pipeline's ledger state when the run was planned (watermarks, processed files), so segment jobs need no ledger. */
  state: PipelineState;
  /** The segments of the plan, for jobs to check and for `finalize` to know what to expect. */
  segments: { id: string; runnerLabels: readonly string[]; stages: readonly string[]; shards?: number }[];
}

export interface PartId {
  segment: string;
  /** Shard number, 1 to the shard count (as in `--shard 2/4`), for a sharded segment. */
  shard?: number;
}

/** What a segment job says about its part (part.json). */
export interface PartReport extends PartId {
  format: typeof HANDOFF_FORMAT;
  runId: string;
  shards?: number;
  /** The segment's own outcome: succeeded, failed or cancelled. */
  status: Exclude<RunStatus, 'running'>;
  runnerLabels: readonly string[];
  host: string;
  startedAt: string;
  finishedAt: string;
  /** Rows of each table handed on. */
  tables: Record<string, number>;
}

/** A part read back: its report, events and commits, and where its tables are on this machine. */
export interface ReceivedPart {
  report: PartReport;
  events: RunEvent[];
  commits: Record<string, StateCommit>;
  /** Absolute path of each handed-on table's Parquet file. */
  tables: Record<string, string>;
}

/** What a segment job hands on: its report, events and commits, and the Parquet file of each table downstream segments need. */
export interface PartContents {
  report: PartReport;
  events: readonly RunEvent[];
  commits: Record<string, StateCommit>;
  /** Table name → a Parquet file on this machine (the store takes a copy). */
  tables: Record<string, string>;
}

/** Carries contexts and parts between jobs. */
export interface HandoffStore {
  writeContext(context: HandoffContext): Promise<void>;
  /** The context of run `runId` (the only one when undefined); throws HandoffError when there is none. */
  readContext(runId?: string): Promise<HandoffContext>;
  /** Hands on a part. Replaces an earlier upload of the same part. */
  putPart(runId: string, part: PartId, contents: PartContents): Promise<void>;
  /** A part of the run, unpacked under a folder of this machine; undefined when that part never reported. */
  getPart(runId: string, part: PartId): Promise<ReceivedPart | undefined>;
}

/** A hand-off that cannot go on: no context, a part missing or from another pipeline version. Exit 1. */
export class HandoffError extends Error {
  readonly code = 'handoff';
}

/** `<segment>` or `<segment>.shard-<i>`: the part's name in artifact and folder names. */
export function partName(part: PartId): string {
  return part.shard === undefined ? part.segment : `${part.segment}.shard-${part.shard}`;
}

/** The digest that ties every job of a run to one version of the pipeline. */
export function pipelineDigest(spec: PipelineSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex');
}

export function tableFileName(table: string): string {
  return `${encodeURIComponent(table)}.parquet`;
}
