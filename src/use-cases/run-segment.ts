/**
 * A run split into segments, job by job (the distributed path of `weir run`):
 *
 *   startSegmentedRun   the plan job: params → interval → run id, written as the run's hand-off context
 *   runSegment          one segment job (or one shard of it): restores the upstream tables it needs
 *                       from the hand-off, runs its stages in-process as `weir run` does, and hands on
 *                       its events, state commits and the tables downstream segments need
 *   finalizeRun         (finalize-run.ts) joins the parts into one run record in the ledger
 *
 * Segment jobs never touch the ledger: the plan job puts the state they read into the context, and
 * only finalize writes.
 */
import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { quoteIdent, quoteLiteral, type Database } from '../model/database.ts';
import { ConfigError } from '../model/errors.ts';
import type { RunEvent, RunEventListener } from '../model/events.ts';
import type { StateCommit } from '../model/state.ts';
import type { ReusedStage } from '../executor/execute-plan.ts';
import { MemoryLedgerStore } from '../ledger/memory-ledger-store.ts';
import type { RunRecord } from '../ledger/run-record.ts';
import { createPlan, unselectedUpstream, type Plan } from '../planner/plan.ts';
import { segmentMatrix, splitSegments, type Segment } from '../planner/segments.ts';
import { executeRun } from './execute-run.ts';
import { HANDOFF_FORMAT, HandoffError, pipelineDigest, tableFileName, type HandoffContext, type HandoffStore, type PartReport, type ReceivedPart } from './handoff.ts';
import type { RunDeps } from './run-deps.ts';
import { prepareRun, type RunRequest } from './run-pipeline.ts';

export interface SegmentedPlan {
  context: HandoffContext;
  segments: Segment[];
  matrix: ReturnType<typeof segmentMatrix>;
}

/** The plan job: decides the run (id, params, interval) and writes its context. Nothing is run or recorded. */
export async function startSegmentedRun(request: RunRequest, deps: Pick<RunDeps, 'ledger' | 'clock'>, handoff: HandoffStore): Promise<SegmentedPlan> {
  const now = deps.clock.now();
  const prepared = prepareRun(request, now);
  if (prepared.plan.partial) throw new ConfigError('a run split into segments runs every stage: drop --only and --from');
  const gate = prepared.plan.stages.find((s) => s.uses === 'gate');
  if (gate) throw new ConfigError(`stage '${gate.name}' is a gate: a run split into segments cannot park on a gate yet; run '${prepared.spec.name}' with 'weir run' (one process)`);
  const segments = splitSegments(prepared.plan);
  const context: HandoffContext = {
    format: HANDOFF_FORMAT,
    runId: prepared.runId,
    pipeline: prepared.spec.name,
    pipelineDigest: pipelineDigest(prepared.spec),
    params: prepared.params,
    interval: prepared.interval,
    trigger: prepared.trigger,
    startedAt: new Date(now).toISOString(),
    ...(prepared.tick ? { tick: prepared.tick } : {}),
    ...(prepared.provenance ? { provenance: prepared.provenance } : {}),
    state: await deps.ledger.readState(prepared.spec.name),
    segments: segments.map((s) => ({ id: s.id, runnerLabels: s.runnerLabels, stages: s.stages, ...(s.shards ? { shards: s.shards.count } : {}) })),
  };
  await handoff.writeContext(context);
  return { context, segments, matrix: segmentMatrix(segments) };
}

/** Reads the run's context and checks it was planned for this very pipeline. */
export async function readRunContext(handoff: HandoffStore, request: Pick<RunRequest, 'pipeline'>, runId: string | undefined): Promise<HandoffContext> {
  const context = await handoff.readContext(runId);
  const spec = request.pipeline.spec;
  if (context.pipeline !== spec.name) throw new HandoffError(`run ${context.runId} in the hand-off is a run of '${context.pipeline}', not '${spec.name}'`);
  if (context.pipelineDigest !== pipelineDigest(spec)) {
    throw new HandoffError(`${request.pipeline.file} changed after run ${context.runId} was planned: every job of a run must run the same pipeline (check out the commit the plan job ran on, or plan a new run)`);
  }
  return context;
}

export interface SegmentRequest extends Omit<RunRequest, 'only' | 'from' | 'resume' | 'interval' | 'params' | 'runId' | 'wait' | 'channels'> {
  handoff: HandoffStore;
  /** The run to take part in; default: the only run in the hand-off. */
  runId?: string;
  segment: string;
  /** For a sharded segment: which shard, 1 to count. */
  shard?: { index: number; count: number };
}

export interface SegmentResult {
  report: PartReport;
  record: RunRecord;
  runDir: string;
}

function findSegment(segments: readonly Segment[], id: string, file: string): Segment {
  const segment = segments.find((s) => s.id === id);
  if (!segment) throw new ConfigError(`--segment '${id}' is not a segment of ${file}; its segments: ${segments.map((s) => s.id).join(', ')} (see 'weir plan --segments')`);
  return segment;
}

function checkShard(segment: Segment, shard: SegmentRequest['shard']): void {
  if (!segment.shards && shard && !(shard.index === 1 && shard.count === 1)) throw new ConfigError(`segment '${segment.id}' is not sharded: drop --shard`);
  if (segment.shards && !shard) throw new ConfigError(`segment '${segment.id}' runs as ${segment.shards.count} shards: give --shard <i>/${segment.shards.count}`);
  if (segment.shards && shard && shard.count !== segment.shards.count) {
    throw new ConfigError(`--shard ${shard.index}/${shard.count}: segment '${segment.id}' has ${segment.shards.count} shards (shards: in the pipeline)`);
  }
}

/** The upstream parts a segment reads, each checked to have succeeded. */
async function upstreamParts(handoff: HandoffStore, context: HandoffContext, segments: readonly Segment[], segment: Segment): Promise<Map<string, ReceivedPart[]>> {
  const needed = new Set(segment.inputs.map((input) => input.segment));
  const parts = new Map<string, ReceivedPart[]>();
  for (const id of needed) {
    const upstream = segments.find((s) => s.id === id)!;
    const shards = upstream.shards ? Array.from({ length: upstream.shards.count }, (_, i) => i + 1) : [undefined];
    const received: ReceivedPart[] = [];
    for (const shard of shards) {
      const part = await handoff.getPart(context.runId, { segment: id, shard });
      const name = shard === undefined ? `segment '${id}'` : `shard ${shard}/${shards.length} of segment '${id}'`;
      if (!part) throw new HandoffError(`${name} of run ${context.runId} has not reported: run it before segment '${segment.id}'`);
      if (part.report.status !== 'succeeded') throw new HandoffError(`${name} of run ${context.runId} ${part.report.status}: segment '${segment.id}' needs its tables; retry that segment first`);
      received.push(part);
    }
    parts.set(id, received);
  }
  return parts;
}

/**
 * Loads an upstream table from its parts: one file, or the union of a sharded stage's files in shard
 * order. For the table a sharded segment partitions, only this shard's rows: by a hash of `by`, else
 * by row number across the files (offsets make it one numbering, the same on every runner).
 */
async function restoreTable(db: Database, table: string, files: readonly string[], partition?: { by?: string; index: number; count: number }): Promise<void> {
  const target = quoteIdent(table);
  if (!partition) {
    await db.exec(`CREATE OR REPLACE TABLE ${target} AS SELECT * FROM read_parquet([${files.map(quoteLiteral).join(', ')}])`);
    return;
  }
  const shard = partition.index - 1;
  if (partition.by !== undefined) {
    await db.exec(`CREATE OR REPLACE TABLE ${target} AS SELECT * FROM read_parquet([${files.map(quoteLiteral).join(', ')}]) WHERE hash(${quoteIdent(partition.by)}) % ${partition.count} = ${shard}`);
    return;
  }
  const selects: string[] = [];
  let offset = 0;
  for (const file of files) {
    selects.push(`SELECT * EXCLUDE (file_row_number) FROM read_parquet(${quoteLiteral(file)}, file_row_number = true) WHERE (file_row_number + ${offset}) % ${partition.count} = ${shard}`);
    offset += Number(await db.scalar(`SELECT count(*) FROM read_parquet(${quoteLiteral(file)})`));
  }
  await db.exec(`CREATE OR REPLACE TABLE ${target} AS ${selects.join(' UNION ALL ')}`);
}

/** Whether an event is about this segment's own stages (or the run as a whole), not a stage another job runs or a restored upstream one. */
function isOwn(event: RunEvent, stages: ReadonlySet<string>): boolean {
  if (event.type === 'stage.reused') return false;
  return !('stage' in event) || event.stage === undefined || stages.has(event.stage);
}

/** The events a part hands on: its own stages' (never the run's start and end: finalize writes those). */
export function ownEvents(events: readonly RunEvent[], stages: ReadonlySet<string>): RunEvent[] {
  return events.filter((event) => {
    if (event.type === 'run.started' || event.type === 'run.finished') return false;
    // The run's SLA is the whole run's, not one job's: finalize judges it; a stage's SLA is kept.
    if (event.type === 'sla.breached' && event.scope !== 'stage') return false;
    return isOwn(event, stages);
  });
}

/** Listeners see the run's start and end and the segment's own stages. */
function ownListeners(listeners: readonly RunEventListener[], stages: ReadonlySet<string>): RunEventListener[] {
  return listeners.map((listener) => (event: RunEvent) => {
    if (isOwn(event, stages)) listener(event);
  });
}

/** Runs one segment (or shard) of a planned run and hands on its part. Its outcome is in the report; it throws only when it cannot start. */
export async function runSegment(request: SegmentRequest, deps: RunDeps): Promise<SegmentResult> {
  const context = await readRunContext(request.handoff, request, request.runId);
  const spec = request.pipeline.spec;
  const full = createPlan(spec, { policies: request.policies, kinds: request.kinds });
  const segments = splitSegments(full);
  const segment = findSegment(segments, request.segment, request.pipeline.file);
  checkShard(segment, request.shard);
  const shard = segment.shards ? request.shard : undefined;
  const upstream = await upstreamParts(request.handoff, context, segments, segment);

  const plan: Plan = createPlan(spec, { only: segment.stages, policies: request.policies, kinds: request.kinds });
  const byName = new Map(plan.stages.map((s) => [s.name, s]));
  const reused = new Map<string, ReusedStage>();
  for (const name of unselectedUpstream(plan)) {
    const stage = byName.get(name)!;
    reused.set(name, { fromRunId: context.runId, ...(stage.table ? { table: stage.table } : {}) });
  }
  const filesOf = (table: string): string[] => {
    const input = segment.inputs.find((i) => i.table === table);
    const parts = input ? upstream.get(input.segment) ?? [] : [];
    return parts.map((part) => part.tables[table]).filter((file): file is string => file !== undefined);
  };
  const commitsOf = (stage: string): StateCommit | undefined => [...upstream.values()].flat().find((part) => part.commits[stage])?.commits[stage];
  const restoreReused = async (db: Database, stage: string, reusedStage: ReusedStage): Promise<StateCommit | undefined> => {
    const table = reusedStage.table;
    if (table !== undefined && segment.inputs.some((i) => i.table === table)) {
      const files = filesOf(table);
      if (files.length === 0) throw new HandoffError(`the hand-off has no table '${table}' from segment '${segment.inputs.find((i) => i.table === table)!.segment}' of run ${context.runId}`);
      const partition = shard && segment.shards && segment.shards.table === table ? { by: segment.shards.by, index: shard.index, count: shard.count } : undefined;
      await restoreTable(db, table, files, partition);
    }
    return commitsOf(stage);
  };

  const workspaceId = `${context.runId}.${segment.id}${shard ? `.shard-${shard.index}` : ''}`;
  const workspace = await deps.workspaces.create(spec.name, workspaceId);
  const env = { ...deps.env, WEIR_SEGMENT: segment.id, ...(shard ? { WEIR_SHARD: String(shard.index), WEIR_SHARDS: String(shard.count) } : {}) };
  // No ledger in a segment job: its active record stays in memory, its state comes from the context.
  const segmentDeps: RunDeps = { ...deps, env, ledger: new MemoryLedgerStore() };
  const startedAt = new Date(deps.clock.now()).toISOString();
  const { record, results } = await executeRun(
    { runId: context.runId, pipeline: request.pipeline, spec, params: context.params, interval: context.interval, trigger: context.trigger, plan, reused, policies: request.policies },
    {
      deps: segmentDeps,
      workspace,
      root: request.root,
      kinds: request.kinds,
      concurrency: request.concurrency ?? spec.concurrency,
      listeners: ownListeners(request.listeners ?? [], new Set(segment.stages)),
      signal: request.signal,
      warn: request.warn ?? ((message) => process.emitWarning(message)),
      allowWritePaths: request.allowWritePaths,
      state: context.state,
      restoreReused,
    },
  );

  const own = new Set(segment.stages);
  // The tables downstream segments need, as Parquet files beside the run's database.
  const outDir = join(workspace.dir, 'handoff-out');
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const tables: Record<string, number> = {};
  const files: Record<string, string> = {};
  if (record.status === 'succeeded' && segment.outputs.length > 0) {
    const db = await deps.openDatabase(workspace.databasePath, { searchPath: request.root });
    try {
      for (const output of segment.outputs) {
        files[output.table] = join(outDir, tableFileName(output.table));
        await db.exec(`COPY (SELECT * FROM ${quoteIdent(output.table)}) TO ${quoteLiteral(files[output.table])} (FORMAT parquet)`);
        tables[output.table] = Number(await db.scalar(`SELECT count(*) FROM ${quoteIdent(output.table)}`));
      }
    } finally {
      await db.close();
    }
  }
  const report: PartReport = {
    format: HANDOFF_FORMAT,
    runId: context.runId,
    segment: segment.id,
    ...(shard ? { shard: shard.index, shards: shard.count } : {}),
    status: record.status === 'running' ? 'failed' : record.status,
    runnerLabels: segment.runnerLabels,
    host: deps.host.hostname ?? hostname(),
    startedAt,
    finishedAt: new Date(deps.clock.now()).toISOString(),
    tables,
  };
  const commits = Object.fromEntries(results.filter(([stage, result]) => own.has(stage) && result.commit).map(([stage, result]) => [stage, result.commit!]));
  await request.handoff.putPart(context.runId, { segment: segment.id, shard: shard?.index }, { report, events: ownEvents(await workspace.readEvents(), own), commits, tables: files });
  return { report, record, runDir: workspace.dir };
}
