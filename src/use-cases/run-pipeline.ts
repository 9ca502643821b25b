/**
 * The `run` use case, in three parts that other entry points can call on their own:
 *
 *   prepareRun   params → interval → plan → run id: pure, refuses bad input before anything is written
 *   executeRun   the plan on a database in a workspace: events, stage outputs; never touches the ledger
 *   recordRun    the finished record and its state commit into the ledger, then post-commit actions
 *
 * `runPipeline` is the local composition of the three, with the ledger's lease around them.
 */
import { ConfigError } from '../model/errors.ts';
import type { Interval, RunEvent, RunEventListener, RunProvenance } from '../model/events.ts';
import type { LoadedPipeline, PipelineSpec } from '../model/pipeline.ts';
import { mergeCommitList, type StateCommit } from '../model/state.ts';
import type { ReusedStage } from '../executor/execute-plan.ts';
import type { LeaseOwner, LedgerStore } from '../ledger/ledger-store.ts';
import type { RunRecord } from '../ledger/run-record.ts';
import { newRunId } from '../ledger/run-id.ts';
import { createPlan, PlanError, unselectedUpstream, type Plan } from '../planner/plan.ts';
import { defaultInterval } from '../planner/interval.ts';
import type { PolicyConfig } from '../policies/policy.ts';
import type { StageKindRegistry } from '../stages/registry.ts';
import type { StageResult } from '../stages/stage-kind.ts';
import { resolveParams } from './params.ts';
import { executeRun } from './execute-run.ts';
import { findReusableOutputs } from './reuse-outputs.ts';
import type { RunDeps } from './run-deps.ts';
import { acquireRunLease } from './run-lease.ts';
import { notifyAfterRun, slaBreachNotifier } from './notify-run.ts';
import { applyCommittedFlags, claimParkedRun, findParkedRun, parkRun } from './parked-runs.ts';
import { failedFolderKey, keepRunFolder } from './kept-run-folders.ts';
import type { RunWorkspace } from './run-deps.ts';
import type { ChannelConfigs } from '../notify/channel-config.ts';

/** Run folders kept per pipeline; older ones (and their databases) are deleted. */
const KEEP_RUN_DIRS = 10;

export interface RunRequest {
  pipeline: LoadedPipeline;
  /** Project root: relative paths in the pipeline resolve against it. */
  root: string;
  kinds: StageKindRegistry;
  /** Named policies from weir.yml (built-ins are always there). */
  policies?: PolicyConfig;
  params?: Readonly<Record<string, string>>;
  interval?: Interval;
  only?: readonly string[];
  from?: readonly string[];
  /**
   * Continue an earlier run that did not succeed: its succeeded stages are reused (their outputs
   * restored), the rest run again, with its params and interval. `true`: the latest such run.
   */
  resume?: string | true;
  trigger?: string;
  runId?: string;
  concurrency?: number;
  listeners?: readonly RunEventListener[];
  /** Cancels the run (SIGINT/SIGTERM): abort it with a CancelledError. */
  signal?: AbortSignal;
  /** Folders outside the project that stages may write to (weir.yml `allow_write_paths`). */
  allowWritePaths?: readonly string[];
  /** Wait for another run of the pipeline to finish instead of failing with run_conflict. */
  wait?: boolean;
  /** Told once per listener that throws (the run goes on without it). */
  warn?(message: string): void;
  /** Where the run came from (the GitHub Action sets it); recorded on the run. */
  provenance?: RunProvenance;
  /** weir.yml's notification channels, named by the pipeline's notify rules. Default: none (nothing is sent). */
  channels?: ChannelConfigs;
  // retry (backfill branch) ↓
  /** Recorded on the run: it is a new attempt (`attempt`) of the run `retryOf`. Set by `retryRun`. */
  retryOf?: string;
  attempt?: number;
  // Catch-up (catch-up issue) ↓
  /** The nominal schedule tick a scheduled run is for; recorded with the run's lateness (start − tick). */
  tick?: string;
  // Gates (gates issue) ↓
  /**
   * Whether a plain run (no interval, --resume, --only/--from) resumes the pipeline's parked run
   * instead of starting a new one. Default: true.
   */
  resumeParked?: boolean;
}

export interface PreparedRun {
  runId: string;
  pipeline: LoadedPipeline;
  spec: PipelineSpec;
  params: Record<string, unknown>;
  interval: Interval;
  trigger: string;
  plan: Plan;
  /** Stages whose output an earlier run left, restored instead of running them. */
  reused: ReadonlyMap<string, ReusedStage>;
  /** Named policies from weir.yml (the plan holds each stage's resolved policy). */
  policies?: PolicyConfig;
  /** Where the run came from (action provenance), recorded through `run.started`. */
  provenance?: RunProvenance;
  // retry (backfill branch) ↓ recorded through `run.started`.
  retryOf?: string;
  attempt?: number;
  /** The nominal schedule tick (catch-up issue), recorded through `run.started`. */
  tick?: string;
  /** Gates: the event log of the parked run this continues (same run id, folder and database). */
  resumeFrom?: RunEvent[];
}

export interface RunSummary {
  runId: string;
  runDir: string;
  record: RunRecord;
  plan: Plan;
}

/** Pure: everything that can be refused before anything is written (params, selection, policies). */
export function prepareRun(request: RunRequest, now: number, base?: { params: Record<string, unknown>; interval: Interval }): Omit<PreparedRun, 'reused'> {
  const spec = request.pipeline.spec;
  const params = base?.params ?? resolveParams(spec, request.params ?? {});
  let plan: Plan;
  try {
    plan = createPlan(spec, { only: request.only, from: request.from, policies: request.policies, kinds: request.kinds });
  } catch (error) {
    if (error instanceof PlanError) throw new ConfigError(error.message, [], { cause: error });
    throw error;
  }
  const interval = base?.interval ?? request.interval ?? defaultInterval(spec, new Date(now));
  const runId = request.runId ?? newRunId(now);
  return {
    runId, pipeline: request.pipeline, spec, params, interval, trigger: request.trigger ?? (request.resume ? 'resume' : 'manual'), plan, policies: request.policies, provenance: request.provenance,
    retryOf: request.retryOf, attempt: request.attempt, // retry (backfill branch)
    ...(request.tick ? { tick: request.tick } : {}), // catch-up
  };
}

/** The run a `--resume` continues: named, or the latest of the pipeline that did not succeed. */
async function resumeTarget(request: RunRequest, ledger: LedgerStore): Promise<RunRecord> {
  const name = request.pipeline.spec.name;
  if (typeof request.resume === 'string') {
    const run = await ledger.getRun(request.resume);
    if (!run || run.pipeline !== name) throw new ConfigError(`--resume: no run '${request.resume}' of pipeline '${name}' in the ledger; see 'weir history ${name}'`);
    if (run.status === 'running') throw new ConfigError(`--resume: run ${run.runId} is still running; wait for it or stop it first`);
    return run;
  }
  const runs = await ledger.listRuns({ pipeline: name, limit: 50 });
  const target = runs.find((r) => r.status !== 'running');
  if (!target || target.status === 'succeeded') throw new ConfigError(`--resume: the last run of '${name}' did not fail; there is nothing to resume`);
  return target;
}

/**
 * Records a finished run: its state commit rides on the active record first (a kill before the
 * finish loses nothing: recovery finishes it), then the write-once run record with the commit,
 * then the actions that wait for the commit (archiving processed files).
 */
export async function recordRun(deps: Pick<RunDeps, 'ledger' | 'checkpoint'>, record: RunRecord, results: readonly [string, StageResult][], owner?: LeaseOwner): Promise<void> {
  const commit = record.status === 'succeeded' ? mergeCommits(results) : undefined;
  if (commit) await deps.ledger.saveActive({ ...record, ...(owner ? { owner } : {}), commit });
  deps.checkpoint?.('commit-saved');
  // Gates: `sets:` reach the ledger's flags only for a succeeded run, once its commit is durable.
  if (commit) await applyCommittedFlags(deps.ledger, record, commit);
  await deps.ledger.finishRun(record, commit);
  deps.checkpoint?.('run-recorded');
  if (commit) for (const [, result] of results) await result.afterCommit?.();
}

export async function runPipeline(request: RunRequest, deps: RunDeps): Promise<RunSummary> {
  if (request.resume && (request.only || request.from)) throw new ConfigError('give --resume or --only/--from, not both');
  const resumed = request.resume ? await resumeTarget(request, deps.ledger) : undefined;
  // Gates: a parked run is continued (same id) by `--resume <it>` or by the next plain trigger.
  if (resumed?.status === 'waiting') return resumeParkedRun(request, resumed, deps);
  const plain = !request.resume && !request.only && !request.from && !request.interval && !request.runId && !request.retryOf;
  const parked = plain && request.resumeParked !== false ? await findParkedRun(deps.ledger, request.pipeline.spec.name) : undefined;
  if (parked) return resumeParkedRun(request, parked, deps);
  const base = prepareRun(request, deps.clock.now(), resumed);
  const pipeline = base.spec.name;
  // Opening the ledger for writing: close runs whose process died (kill -9, a lost runner) first.
  await recoverAbandonedRuns(deps);
  const held = await acquireRunLease(deps, { pipeline, runId: base.runId, maxActive: base.spec.max_active_runs ?? 1, wait: request.wait ?? false, signal: request.signal });
  let summary: RunSummary;
  try {
    const reused = await findReusableOutputs(base, resumed, deps, unselectedUpstream(base.plan));
    const prepared: PreparedRun = { ...base, reused };
    const workspace = await deps.workspaces.create(pipeline, prepared.runId);
    summary = await executeAndRecord(prepared, workspace, request, deps, held.owner);
  } finally {
    await held.release();
  }
  await pruneRunDirs(pipeline, summary.runId, deps);
  return summary;
}

/**
 * Continues a parked run where it stopped: same run id, folder and database, its finished stages
 * untouched (they are not run again), its waiting gates evaluated again. One slot (slot 0, whatever
 * max_active_runs says) guards it, so of two triggers resuming it at once exactly one does; the
 * other finds it no longer parked and fails with run_conflict.
 */
async function resumeParkedRun(request: RunRequest, parked: RunRecord, deps: RunDeps): Promise<RunSummary> {
  const pipeline = parked.pipeline;
  if (Object.keys(request.params ?? {}).length) request.warn?.(`run ${parked.runId} of '${pipeline}' is parked and resumes with its own params; --param is ignored (run again once it has finished)`);
  await recoverAbandonedRuns(deps);
  const base = prepareRun({ ...request, runId: parked.runId, only: undefined, from: undefined, resume: undefined, trigger: request.trigger ?? 'manual' }, deps.clock.now(), parked);
  const held = await acquireRunLease(deps, { pipeline, runId: parked.runId, maxActive: 1, wait: request.wait ?? false, signal: request.signal });
  let summary: RunSummary;
  try {
    const claimed = await claimParkedRun(deps, parked);
    if ('abandoned' in claimed) {
      request.warn?.(claimed.abandoned.error!.message);
      return { runId: parked.runId, runDir: '', record: claimed.abandoned, plan: base.plan };
    }
    const prepared: PreparedRun = { ...base, reused: new Map(), resumeFrom: await claimed.workspace.readEvents() };
    summary = await executeAndRecord(prepared, claimed.workspace, request, deps, held.owner);
  } finally {
    await held.release();
  }
  await pruneRunDirs(pipeline, summary.runId, deps);
  return summary;
}

/** Executes a prepared run, then parks it (a gate waits) or notifies and records it. */
async function executeAndRecord(prepared: PreparedRun, workspace: RunWorkspace, request: RunRequest, deps: RunDeps, owner: LeaseOwner): Promise<RunSummary> {
  const warn = request.warn ?? ((message: string) => process.emitWarning(message));
  const { record, results } = await executeRun(prepared, {
    deps,
    workspace,
    root: request.root,
    kinds: request.kinds,
    concurrency: request.concurrency ?? prepared.spec.concurrency,
    listeners: request.listeners ?? [],
    signal: request.signal,
    warn,
    decorateActive: (active) => ({ ...active, owner }),
    allowWritePaths: request.allowWritePaths,
    // SLA (sla branch) ↓ a breach notifies as it happens, while the run goes.
    onSlaBreach: slaBreachNotifier({ spec: prepared.spec, channels: request.channels ?? {}, policies: request.policies, signal: request.signal, warn }, deps),
  });
  if (record.status === 'waiting') {
    // Gates: nothing is recorded as finished and nothing notified; the record stays, ownerless, for a trigger.
    await parkRun(deps, record, workspace, warn);
    return { runId: prepared.runId, runDir: workspace.dir, record, plan: prepared.plan };
  }
  // notify: (reports issue) ↓ sent before the record is written, so their outcome is part of it.
  await notifyAfterRun(record, { spec: prepared.spec, channels: request.channels ?? {}, policies: request.policies, root: request.root, workspace, listeners: request.listeners ?? [], signal: request.signal, warn }, deps);
  deps.checkpoint?.('run-executed');
  await recordRun(deps, record, results, owner);
  // A run that did not succeed keeps its folder where runners keep nothing (the Actions cache): its retry reuses what succeeded.
  if (record.status !== 'succeeded') await keepRunFolder(deps, workspace.dir, failedFolderKey(record), warn, `'weir retry ${record.runId}' will run every stage again`);
  return { runId: prepared.runId, runDir: workspace.dir, record, plan: prepared.plan };
}

/** Keeps the newest run folders, the last success's and those of parked runs (they resume from them). */
async function pruneRunDirs(pipeline: string, runId: string, deps: RunDeps): Promise<void> {
  const recent = await deps.ledger.listRuns({ pipeline, limit: KEEP_RUN_DIRS });
  const lastSuccess = recent.find((r) => r.status === 'succeeded');
  const parked = (await deps.ledger.listRuns({ pipeline, unfinished: true })).map((r) => r.runId);
  await deps.workspaces.prune(pipeline, KEEP_RUN_DIRS, new Set([runId, ...(lastSuccess ? [lastSuccess.runId] : []), ...parked]));
}

/** Closes runs whose owner died, from their event logs; kills what they left running. */
export async function recoverAbandonedRuns(deps: RunDeps) {
  return deps.ledger.recover({
    loadEvents: async (pipeline, runId) => (await deps.workspaces.open(pipeline, runId))?.readEvents(),
    loadCommit: async (pipeline, runId) => (await deps.workspaces.open(pipeline, runId))?.readCommit(),
    killProcessGroup: deps.killProcessGroup,
  });
}

export function mergeCommits(results: readonly [string, StageResult][]): StateCommit {
  return mergeCommitList(results.flatMap(([, result]) => (result.commit ? [result.commit] : [])));
}
