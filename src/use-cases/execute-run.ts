/**
 * Executes a prepared run in its workspace: opens the run's database, restores reused stage
 * outputs, drives the executor with `invokeStage`, keeps each stage's output, and folds the events
 * into the run record. It writes the active record to the ledger as the run goes (so a killed run
 * is visible) but never finishes it: recording is the caller's step.
 */
import { resolve } from 'node:path';
import { parseDuration } from '../model/duration.ts';
import { InternalError, toErrorRecord } from '../model/errors.ts';
import type { RunEvent, RunEventListener } from '../model/events.ts';
import { gpuFacts, type ResourceName, type ResourceReport } from '../model/resources.ts';
import { evaluateCondition, type TemplateContext } from '../model/template.ts';
import { collectSecrets, createRedactor, redactEvent } from '../model/redact.ts';
import { executePlan, type ReusedStage } from '../executor/execute-plan.ts';
import type { Database } from '../model/database.ts';
import type { PipelineState, StateCommit } from '../model/state.ts';
import type { PlannedStage } from '../planner/plan.ts';
import { applyEvent, foldEvents, type RunRecord } from '../ledger/run-record.ts';
import { deriveRunState } from '../executor/run-state.ts';
import { readGateFlags } from './gate-flags.ts';
import { BreakerRegistry } from '../policies/circuit-breaker.ts';
import { RateLimiterRegistry } from '../policies/rate-limit.ts';
import type { StageKindRegistry } from '../stages/registry.ts';
import type { StageResult } from '../stages/stage-kind.ts';
import { invokeStage } from './invoke-stage.ts';
import type { RunDeps, RunWorkspace } from './run-deps.ts';
import type { PreparedRun } from './run-pipeline.ts';
import { watchSla, type SlaBreachHandler, type SlaWatch } from './sla-watch.ts';

/** The in-progress record is saved at most this often after the first save; a killed run loses at most this much of it (its event log loses nothing). */
const ACTIVE_SAVE_INTERVAL_MS = 200;

export interface ExecuteRunOptions {
  deps: RunDeps;
  workspace: RunWorkspace;
  root: string;
  kinds: StageKindRegistry;
  concurrency?: number;
  listeners: readonly RunEventListener[];
  signal?: AbortSignal;
  warn(message: string): void;
  /** Folders outside the project that stages may write to (weir.yml `allow_write_paths`). */
  allowWritePaths?: readonly string[];
  /** Decorates the active record before it is saved (the lease owner). */
  decorateActive?(record: RunRecord): RunRecord;
  /** The pipeline's ledger state the run reads (a segment job gets it from the hand-off). Default: read from the ledger. */
  state?: PipelineState;
  /** Restores a reused stage's output into the run's database (a segment job: from the hand-off). Default: from the run folder that kept it. */
  restoreReused?(db: Database, stage: string, reused: ReusedStage): Promise<StateCommit | undefined>;
  /** Notifies an SLA breach while the run goes (sla branch); its outcome events join the run's. */
  onSlaBreach?: SlaBreachHandler;
}

export interface ExecutedRun {
  record: RunRecord;
  /** Each succeeded or reused stage's result, for the state commit. */
  results: [string, StageResult][];
}

/** Calls each listener; one that throws is reported once and left out from then on. */
function isolatedListeners(listeners: readonly RunEventListener[], warn: (message: string) => void): RunEventListener {
  const broken = new Set<RunEventListener>();
  return (event) => {
    for (const listener of listeners) {
      if (broken.has(listener)) continue;
      try {
        listener(event);
      } catch (error) {
        broken.add(listener);
        warn(`an event listener failed and was turned off for the rest of the run: ${(error as Error)?.message ?? String(error)}`);
      }
    }
  };
}

function skipReason(stage: PlannedStage, context: TemplateContext) {
  if (stage.spec.enabled === false) return { reason: 'disabled' as const };
  if (stage.spec.if !== undefined && !evaluateCondition(stage.spec.if, context)) {
    return { reason: 'condition_false' as const, detail: `if: ${stage.spec.if}` };
  }
  return undefined;
}

/** The resources the stages that will run require, each detected once before any stage starts. */
async function detectResources(stages: readonly PlannedStage[], reused: ReadonlyMap<string, unknown>, deps: RunDeps): Promise<Map<ResourceName, ResourceReport>> {
  const names = new Set(stages.filter((s) => s.selected && s.spec.enabled !== false && !reused.has(s.name)).flatMap((s) => s.spec.requires ?? []));
  const reports = new Map<ResourceName, ResourceReport>();
  for (const name of names) {
    const report = await deps.detectResource(name).catch((error: unknown): ResourceReport => ({ available: false, source: 'device-node', devices: [], reason: `detection failed: ${(error as Error)?.message ?? String(error)}` }));
    reports.set(name, report);
  }
  return reports;
}

/** A `stage.started` of a stage that requires a GPU the machine has, with the GPU's facts (they go into its record). */
function withResources(event: Extract<RunEvent, { type: 'stage.started' }>, stages: readonly PlannedStage[], reports: ReadonlyMap<ResourceName, ResourceReport>): RunEvent {
  const requires = stages.find((s) => s.name === event.stage)?.spec.requires ?? [];
  const gpu = requires.includes('gpu') ? reports.get('gpu') : undefined;
  return gpu?.available ? { ...event, resources: { gpu: gpuFacts(gpu) } } : event;
}

function cachePaths(stage: PlannedStage, root: string): string[] {
  const path = stage.spec.cache!.path;
  return (typeof path === 'string' ? [path] : path).map((p) => resolve(root, p));
}

/** Restores a stage's `cache:` folders; true on a hit, false on a miss (saved after success), undefined when nothing is cached. A failure is a miss. */
async function restoreStageCache(stage: PlannedStage, deps: RunDeps, root: string, log: (line: string) => void): Promise<boolean | undefined> {
  if (!stage.spec.cache || !deps.stageCache) return undefined;
  const { key } = stage.spec.cache;
  const hit = await deps.stageCache.restore(cachePaths(stage, root), key).catch((error: Error) => {
    log(`cache ${key}: could not be restored (${error.message}); the stage runs without it`);
    return false;
  });
  log(hit ? `cache ${key}: restored` : `cache ${key}: not found; saved after the stage succeeds`);
  return hit;
}

async function saveStageCache(stage: PlannedStage, deps: RunDeps, root: string, warn: (message: string) => void): Promise<void> {
  const key = stage.spec.cache!.key;
  await deps.stageCache!.save(cachePaths(stage, root), key).catch((error: Error) => warn(`stage '${stage.name}': cache ${key} was not saved: ${error.message}`));
}

export async function executeRun(prepared: PreparedRun, options: ExecuteRunOptions): Promise<ExecutedRun> {
  const { deps, workspace } = options;
  const { runId, spec, plan, params, interval, trigger } = prepared;
  const now = () => deps.clock.now();
  const at = () => new Date(now()).toISOString();
  const results: [string, StageResult][] = [];
  const notify = isolatedListeners(options.listeners, options.warn);

  let record: RunRecord | undefined;
  let saving: Promise<void> = Promise.resolve();
  let saveTimer: NodeJS.Timeout | undefined;
  const saveActive = () => {
    saveTimer = undefined;
    const snapshot = structuredClone(options.decorateActive ? options.decorateActive(record!) : record!);
    saving = saving.then(() => deps.ledger.saveActive(snapshot)).catch((error) => options.warn(`could not save the run's progress to the ledger: ${(error as Error).message}`));
  };
  // Secrets (env values the pipeline reads, secret params and headers) become *** before an event
  // reaches the record, the event log or a listener: nothing the run writes can carry them.
  let redact: ((text: string) => string) | undefined;
  let sla: SlaWatch | undefined; // SLA (sla branch)
  const emit = (raw: RunEvent) => {
    sla?.observe(raw); // SLA (sla branch): a stage or run ending past its SLA is breached before its end is applied
    const event = redact ? redactEvent(raw, redact) : raw;
    record = applyEvent(record, event);
    workspace.appendEvent(event);
    notify(event);
    if (event.type !== 'stage.log' && event.type !== 'run.finished' && !saveTimer) saveTimer = setTimeout(saveActive, ACTIVE_SAVE_INTERVAL_MS);
  };

  let watermarks: Readonly<Record<string, string>> = {}; // incremental: set once the ledger state is read
  const templateContext = (stage?: string): TemplateContext => ({
    params,
    interval,
    run: { id: runId, date: interval.start.slice(0, 10), trigger },
    env: deps.env,
    pipeline: { name: spec.name },
    stage: stage === undefined ? undefined : { name: stage },
    // The live stage records: a stage's templates see what its upstream stages have produced so far.
    get stages() {
      return record?.stages;
    },
    watermark: watermarks,
  });

  redact = createRedactor(collectSecrets({ spec, env: deps.env, params, context: templateContext() }));
  const startedAt = now();
  // catch-up: a scheduled run records its nominal tick and how late it started.
  const lateness = prepared.tick ? { tick: prepared.tick, latenessMs: startedAt - Date.parse(prepared.tick) } : {};
  // Gates: a parked run continues in its own folder and database, from its event log.
  if (prepared.resumeFrom) {
    record = foldEvents(prepared.resumeFrom);
    emit({ type: 'run.resumed', runId, at: new Date(startedAt).toISOString(), pipeline: spec.name, trigger });
  } else emit({ type: 'run.started', runId, at: new Date(startedAt).toISOString(), pipeline: spec.name, params, interval, trigger, stages: plan.stages.map((s) => s.name), ...(prepared.provenance ? { provenance: prepared.provenance } : {}), ...(prepared.retryOf ? { retryOf: prepared.retryOf, attempt: prepared.attempt } : {}), ...lateness }); // retry (backfill branch), catch-up
  // SLA (sla branch) ↓ timers on the injected clock; a scheduled run started past its SLA breaches here.
  sla = watchSla({ runId, spec, startedAt, tick: prepared.tick, clock: deps.clock, emit, record: () => record!, onBreach: options.onSlaBreach });
  // Written before any stage starts: a run killed in its first milliseconds still leaves a trace.
  clearTimeout(saveTimer);
  saveActive();
  await saving;
  deps.checkpoint?.('active-saved');

  const breakers = new BreakerRegistry({ now, onChange: (key, from, to) => emit({ type: 'breaker.changed', runId, at: at(), key, from, to }) });
  const limiters = new RateLimiterRegistry();
  let db: Awaited<ReturnType<RunDeps['openDatabase']>> | undefined;
  const keeping: Promise<unknown>[] = [];
  try {
    db = await deps.openDatabase(workspace.databasePath, { searchPath: options.root });
    const state = options.state ?? (await deps.ledger.readState(spec.name));
    watermarks = state.watermarks;
    // Gates: what the stages before the park committed (watermarks, files, flags) is committed with the run.
    const parkedCommit = prepared.resumeFrom ? await workspace.readCommit() : undefined;
    if (parkedCommit) results.push(['(before parking)', { commit: parkedCommit }]);
    for (const [stage, reused] of prepared.reused) {
      const commit = options.restoreReused ? await options.restoreReused(db, stage, reused) : await (await deps.workspaces.open(spec.name, reused.fromRunId))!.restoreStageOutput(db, stage, reused.table);
      await workspace.keepReusedCommit(stage, reused.fromRunId, commit);
      results.push([stage, { table: reused.table, rows: reused.rows, commit }]);
    }
    const resources = await detectResources(plan.stages, prepared.reused, deps);
    const database = db;
    const warnKeep = (stage: string) => (error: Error) => options.warn(`could not keep the output of stage '${stage}': ${error.message}`);
    // A stage's output is kept as the stage left it: the commit now (small, and recovery needs it),
    // the table from a snapshot pinned now and written beside the stages that follow, so a stage
    // that changes or drops the table later cannot change what --from and --resume restore.
    const keepOutput = async (stage: string, table: string | undefined, produced: StageResult, signal: AbortSignal) => {
      const commit = produced.commit;
      if (commit && (commit.processedFiles?.length || Object.keys(commit.watermarks ?? {}).length || commit.flags?.length)) await workspace.saveStageCommit(stage, commit).catch(warnKeep(stage));
      // A stage that left no table has nothing to restore: its success in the record is enough.
      if (table === undefined) return;
      // No other stage can change the table: the run's database keeps it as it is, at no cost.
      if (table !== undefined && !plan.stages.some((s) => s.name !== stage && (s.mayChangeOtherTables || s.table === table))) {
        await workspace.keepStageTableInDatabase(stage, table).catch(warnKeep(stage));
        return;
      }
      const snapshot = table === undefined ? undefined : await database.snapshot([table]).catch(warnKeep(stage));
      if (table !== undefined && !snapshot) return;
      keeping.push(
        workspace
          .saveStageTable(snapshot ?? database, stage, table, signal)
          .catch((error: Error) => (signal.aborted ? undefined : warnKeep(stage)(error)))
          .finally(() => snapshot?.release()),
      );
    };
    await executePlan(plan, {
      runId,
      emit: (event) => emit(event.type === 'stage.started' ? withResources(event, plan.stages, resources) : event),
      now,
      concurrency: options.concurrency,
      runTimeoutMs: spec.timeout === undefined ? undefined : parseDuration(spec.timeout),
      signal: options.signal,
      reused: prepared.reused,
      ...(prepared.resumeFrom ? { initialState: deriveRunState(plan, [...prepared.resumeFrom, { type: 'run.resumed', runId, at: at(), pipeline: spec.name, trigger }]) } : {}),
      skipReason: (stage) => skipReason(stage, templateContext(stage.name)),
      runStage: async (stage, signal) => {
        // A stage that may change other stages' tables (a SQL script) starts once their outputs are kept.
        if (stage.mayChangeOtherTables) await Promise.allSettled(keeping);
        let produced: StageResult | undefined;
        const cached = await restoreStageCache(stage, deps, options.root, (line) => emit({ type: 'stage.log', runId, at: at(), stage: stage.name, stream: 'info', line }));
        const outcome = await invokeStage(stage, signal, {
          runId,
          pipeline: spec.name,
          kinds: options.kinds,
          db: database,
          root: options.root,
          runDir: workspace.dir,
          env: deps.env,
          now,
          emit,
          templateContext,
          breakers,
          limiters,
          resource: (name) => resources.get(name),
          allowWritePaths: options.allowWritePaths,
          gate: { flags: (key) => readGateFlags(deps.ledger, spec.name, key), parkedAt: () => record?.parkedAt },
          redact: (text) => (redact ? redact(text) : text),
          sleep: deps.clock.sleep,
          random: deps.clock.random,
          state: { isFileProcessed: (hash) => hash in state.processedFiles, watermark: (key) => state.watermarks[key] },
          collect: (name, result) => {
            produced = result;
            results.push([name, result]);
          },
        });
        if (outcome.ok && produced) await keepOutput(stage.name, outcome.table, produced, signal);
        if (outcome.ok && cached === false) await saveStageCache(stage, deps, options.root, options.warn);
        return outcome;
      },
    });
  } catch (error) {
    // The executor always finishes the run; getting here means the run could not start (no database).
    if (!record || record.status === 'running') {
      emit({ type: 'run.finished', runId, at: at(), status: 'failed', durationMs: 0, error: toErrorRecord(error instanceof Error && 'code' in error ? error : new InternalError(`the run could not start: ${(error as Error)?.message ?? String(error)}`, { cause: error })) });
    }
  } finally {
    await sla.stop(); // SLA (sla branch): breach notifications in flight are recorded before the run is
    clearTimeout(saveTimer);
    await Promise.allSettled(keeping);
    await limiters.stop();
    await db?.close().catch(() => undefined);
    await workspace.close();
    await saving;
  }
  return { record: record!, results };
}
