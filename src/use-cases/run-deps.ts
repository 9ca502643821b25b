/**
 * The ports a run needs, handed in as one object by each entry point's composition root
 * (`createLocalRunDeps` for the CLI; the GitHub Action builds its own). The run use case never
 * constructs a store, a database or a clock itself, so a segment job or a finalize step can reuse
 * it with other adapters.
 */
import type { Database } from '../model/database.ts';
import type { RunEvent } from '../model/events.ts';
import type { ResourceName, ResourceReport } from '../model/resources.ts';
import type { StateCommit } from '../model/state.ts';
import type { LedgerStore } from '../ledger/ledger-store.ts';

/** One run's folder: its event log, database, dead letters and the outputs of its stages. */
export interface RunWorkspace {
  readonly runId: string;
  readonly pipeline: string;
  /** Absolute path of the run folder; stages write dead letters and spooled answers under it. */
  readonly dir: string;
  readonly databasePath: string;
  /** Appends an event to the run's event log before returning, so a killed run keeps every event it reported. */
  appendEvent(event: RunEvent): void;
  readEvents(): Promise<RunEvent[]>;
  /** Keeps a stage's state commit (small; written before its downstream starts, so recovery finds it). */
  saveStageCommit(stage: string, commit: StateCommit | undefined): Promise<void>;
  /**
   * Keeps a stage's table as Parquet for `--from`, `--only` and resume, from a database snapshot
   * taken when the stage ended (so it may run beside later stages). Marks the output complete last.
   */
  saveStageTable(db: Pick<Database, 'exec'>, stage: string, table: string | undefined, signal?: AbortSignal): Promise<void>;
  /**
   * Marks a stage's table as kept in the run's own database: no copy is made, because no other
   * stage of the run can change it. Restored from that database file.
   */
  keepStageTableInDatabase(stage: string, table: string | undefined): Promise<void>;
  /** The state commits of every stage that kept one in this run, merged (recovery of a run that died while being recorded). */
  readCommit(): Promise<StateCommit | undefined>;
  /** Whether this run kept a complete table output of the stage. */
  hasStageOutput(stage: string): Promise<boolean>;
  /** Keeps the state commit of a stage reused from another run, so this run's folder holds all of its commit. */
  keepReusedCommit(stage: string, fromRunId: string, commit: StateCommit | undefined): Promise<void>;
  /** Loads a kept output into `db` as `table`, and returns the stage's state commit. */
  restoreStageOutput(db: Database, stage: string, table: string | undefined): Promise<StateCommit | undefined>;
  close(): Promise<void>;
}

export interface WorkspaceStore {
  create(pipeline: string, runId: string): Promise<RunWorkspace>;
  /** An existing run's workspace, or undefined when its folder is gone (pruned, another machine). */
  open(pipeline: string, runId: string): Promise<RunWorkspace | undefined>;
  /** Where the folder of a run is (or would be) on this machine: a parked run's folder is restored there from the cache. */
  folderOf?(pipeline: string, runId: string): string;
  /** Deletes all but the newest `keep` run folders of a pipeline, never one in `protect`. */
  prune(pipeline: string, keep: number, protect: ReadonlySet<string>): Promise<void>;
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  random(): number;
}

/** Who runs this run: recorded with its lease so another process can tell whether it is still alive. */
export interface RunHost {
  hostname: string;
  pid: number;
  /** GitHub's `GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT` when in Actions. */
  ciRunId?: string;
}

/**
 * Folders kept between runs by key: a stage's `cache:`, and the folder of a parked run so a later
 * job on another runner can resume it. The Actions cache in GitHub, absent elsewhere.
 */
export interface StageCache {
  /** Restores `paths` (absolute) saved under `key`; false on a miss. */
  restore(paths: readonly string[], key: string): Promise<boolean>;
  save(paths: readonly string[], key: string): Promise<void>;
}

export interface RunDeps {
  ledger: LedgerStore;
  workspaces: WorkspaceStore;
  openDatabase(path: string, options: { searchPath: string }): Promise<Database>;
  clock: Clock;
  /**
   * What this machine offers of a resource stages may `require` (gpu): asked only when a stage of the
   * run requires it, and never throws (a failed probe is a report with a reason).
   */
  detectResource(name: ResourceName): Promise<ResourceReport>;
  env: Readonly<Record<string, string | undefined>>;
  host: RunHost;
  /** Where a stage's `cache:` folders and parked runs' folders are kept between runs; absent: nowhere (they stay on this machine's disk). */
  stageCache?: StageCache;
  /** Stops a process group left by a run whose owner died (recovery). */
  killProcessGroup?(pgid: number): void;
  /**
   * Called at named points between the run's writes (`active-saved`, `run-executed`, `commit-saved`, `run-recorded`),
   * so a test can kill the process at an exact point. Production entry points leave it unset.
   */
  checkpoint?(step: RunCheckpoint): void;
}

export type RunCheckpoint = 'active-saved' | 'run-executed' | 'commit-saved' | 'run-recorded';
/** The checkpoints after the run has ended (the first, `active-saved`, is before any stage starts). */
export const RUN_CHECKPOINTS: readonly RunCheckpoint[] = ['run-executed', 'commit-saved', 'run-recorded'];
