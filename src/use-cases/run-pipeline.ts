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
import type { Interval, RunEventListener, RunProvenance } from '../model/events.ts';
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
  await deps.ledger.finishRun(record, commit);
  deps.checkpoint?.('run-recorded');
  if (commit) for (const [, result] of results) await result.afterCommit?.();
}

export async function runPipeline(request: RunRequest, deps: RunDeps): Promise<RunSummary> {
  if (request.resume && (request.only || request.from)) throw new ConfigError('give --resume or --only/--from, not both');
  const resumed = request.resume ? await resumeTarget(request, deps.ledger) : undefined;
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
    const { record, results } = await executeRun(prepared, {
      deps,
      workspace,
      root: request.root,
      kinds: request.kinds,
      concurrency: request.concurrency ?? prepared.spec.concurrency,
      listeners: request.listeners ?? [],
      signal: request.signal,
      warn: request.warn ?? ((message) => process.emitWarning(message)),
      decorateActive: (active) => ({ ...active, owner: held.owner }),
      allowWritePaths: request.allowWritePaths,
      // SLA (sla branch) ↓ a breach notifies as it happens, while the run goes.
      onSlaBreach: slaBreachNotifier({ spec: prepared.spec, channels: request.channels ?? {}, policies: request.policies, signal: request.signal, warn: request.warn ?? ((message) => process.emitWarning(message)) }, deps),
    });
    // notify: (reports issue) ↓ sent before the record is written, so their outcome is part of it.
    await notifyAfterRun(record, { spec: prepared.spec, channels: request.channels ?? {}, policies: request.policies, root: request.root, workspace, listeners: request.listeners ?? [], signal: request.signal, warn: request.warn ?? ((message) => process.emitWarning(message)) }, deps);
    deps.checkpoint?.('run-executed');
    await recordRun(deps, record, results, held.owner);
    summary = { runId: prepared.runId, runDir: workspace.dir, record, plan: prepared.plan };
  } finally {
    await held.release();
  }
  const lastSuccess = (await deps.ledger.listRuns({ pipeline, limit: KEEP_RUN_DIRS })).find((r) => r.status === 'succeeded');
  await deps.workspaces.prune(pipeline, KEEP_RUN_DIRS, new Set([summary.runId, ...(lastSuccess ? [lastSuccess.runId] : [])]));
  return summary;
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
