/**
 * The `run` use case: params → interval → plan → a fresh DuckDB → execute → ledger. Everything a
 * run writes lives under `<stateDir>/runs/<pipeline>/<run id>/` and `<stateDir>/ledger/`.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openDuckDb } from '../adapters/duckdb.ts';
import { hasGpu } from '../adapters/hardware.ts';
import { executePlan } from '../executor/execute-plan.ts';
import { parseDuration } from '../model/duration.ts';
import { ConfigError } from '../model/errors.ts';
import type { Interval, RunEvent, RunEventListener } from '../model/events.ts';
import type { LoadedPipeline } from '../model/pipeline.ts';
import { evaluateCondition, type TemplateContext } from '../model/template.ts';
import { collectSecrets, createRedactor, redactEvent } from '../model/redact.ts';
import { createPlan, PlanError, type Plan, type PlannedStage } from '../planner/plan.ts';
import { FsLedgerStore } from '../ledger/fs-ledger-store.ts';
import type { LedgerStore } from '../ledger/ledger-store.ts';
import { applyEvent, type RunRecord } from '../ledger/run-record.ts';
import { BreakerRegistry } from '../policies/circuit-breaker.ts';
import { EMPTY_POLICY_CONFIG, type PolicyConfig } from '../policies/policy.ts';
import { RateLimiterRegistry } from '../policies/rate-limit.ts';
import { sleep as realSleep } from '../policies/retry.ts';
import type { StageKindRegistry } from '../stages/registry.ts';
import type { StageResult, StateCommit } from '../stages/stage-kind.ts';
import { invokeStage } from './invoke-stage.ts';
import { defaultInterval } from '../planner/interval.ts';
import { resolveParams } from './params.ts';

/** Run folders kept per pipeline; older ones (and their databases) are deleted. */
const KEEP_RUN_DIRS = 10;
/** The in-progress record is saved at most this often, so a killed run loses at most this much. */
const ACTIVE_SAVE_INTERVAL_MS = 200;

export interface RunOptions {
  pipeline: LoadedPipeline;
  root: string;
  kinds: StageKindRegistry;
  /** Folder for databases, logs and the ledger. Default `<root>/.weir`. */
  stateDir?: string;
  ledger?: LedgerStore;
  params?: Readonly<Record<string, string>>;
  interval?: Interval;
  only?: readonly string[];
  from?: readonly string[];
  trigger?: string;
  runId?: string;
  concurrency?: number;
  listeners?: readonly RunEventListener[];
  signal?: AbortSignal;
  env?: Readonly<Record<string, string | undefined>>;
  /** Named policies from weir.yml (built-ins are always there). */
  policies?: PolicyConfig;
  now?: () => number;
  /** Injected for tests: waits between retries. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Whether this machine has a resource stages may `require` (default: probes for a GPU). */
  hasResource?: (name: string) => boolean;
}

export interface RunSummary {
  runId: string;
  runDir: string;
  record: RunRecord;
  plan: Plan;
}

function newRunId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

/** Everything that can be refused before anything is written: params, selection. */
function prepare(options: RunOptions, now: () => number) {
  const spec = options.pipeline.spec;
  const params = resolveParams(spec, options.params ?? {});
  let plan: Plan;
  try {
    plan = createPlan(spec, { only: options.only, from: options.from });
  } catch (error) {
    if (error instanceof PlanError) throw new ConfigError(error.message, [], { cause: error });
    throw error;
  }
  const interval = options.interval ?? defaultInterval(spec, new Date(now()));
  return { spec, params, plan, interval };
}

export async function runPipeline(options: RunOptions): Promise<RunSummary> {
  const now = options.now ?? Date.now;
  const { spec, params, plan, interval } = prepare(options, now);
  const root = resolve(options.root);
  const stateDir = resolve(root, options.stateDir ?? '.weir');
  const ledger = options.ledger ?? new FsLedgerStore(join(stateDir, 'ledger'));
  const runId = options.runId ?? newRunId(now());
  const pipelineRunsDir = join(stateDir, 'runs', spec.name);
  const runDir = join(pipelineRunsDir, runId);
  await mkdir(runDir, { recursive: true });
  if (plan.partial) await seedFromPreviousRun(pipelineRunsDir, runDir);

  const env = options.env ?? process.env;
  const trigger = options.trigger ?? 'manual';
  const state = await ledger.readState(spec.name);
  const db = await openDuckDb(join(runDir, 'weir.duckdb'), { searchPath: root });
  const eventLog = createWriteStream(join(runDir, 'events.jsonl'), { flags: 'a' });
  const results: [string, StageResult][] = [];
  const templateContext = (stage?: string): TemplateContext => ({
    params,
    interval,
    run: { id: runId, date: interval.start.slice(0, 10), trigger },
    env,
    pipeline: { name: spec.name },
    stage: stage === undefined ? undefined : { name: stage },
    // The live stage records: a stage's templates see what its upstream stages have produced so far.
    get stages() {
      return record?.stages;
    },
  });

  const at = () => new Date(now()).toISOString();
  const breakers = new BreakerRegistry({
    now,
    onChange: (key, from, to) => emit({ type: 'breaker.changed', runId, at: at(), key, from, to }),
  });
  const limiters = new RateLimiterRegistry();

  let record: RunRecord | undefined;
  let pendingSave: Promise<void> = Promise.resolve();
  let saveTimer: NodeJS.Timeout | undefined;
  // The in-progress record is saved at most every ACTIVE_SAVE_INTERVAL_MS, always including the
  // latest event: a burst of events costs one write, and a killed run loses at most that interval.
  const saveActive = () => {
    saveTimer = undefined;
    const snapshot = structuredClone(record!);
    pendingSave = pendingSave.then(() => ledger.saveActive(snapshot));
  };
  // faults (issue 8 §1): secrets are replaced by *** before an event reaches the record, the log or a listener.
  const redact = createRedactor(collectSecrets({ spec, env, params, context: templateContext() }));
  const emit = (raw: RunEvent) => {
    const event = redactEvent(raw, redact);
    record = applyEvent(record, event);
    eventLog.write(`${JSON.stringify(event)}\n`);
    for (const listener of options.listeners ?? []) listener(event);
    if (event.type !== 'stage.log' && event.type !== 'run.finished' && !saveTimer) saveTimer = setTimeout(saveActive, ACTIVE_SAVE_INTERVAL_MS);
  };

  emit({ type: 'run.started', runId, at: at(), pipeline: spec.name, params, interval, trigger, stages: plan.stages.map((s) => s.name) });
  try {
    await executePlan(plan, {
      runId,
      emit,
      now,
      concurrency: options.concurrency ?? spec.concurrency,
      runTimeoutMs: spec.timeout === undefined ? undefined : parseDuration(spec.timeout),
      signal: options.signal,
      skipReason: (stage) => skipReason(stage, templateContext(stage.name)),
      runStage: (stage, signal) =>
        invokeStage(stage, signal, {
          runId,
          pipeline: spec.name,
          kinds: options.kinds,
          db,
          root,
          runDir,
          env,
          now,
          emit,
          templateContext,
          policies: options.policies ?? EMPTY_POLICY_CONFIG,
          breakers,
          limiters,
          hasResource: options.hasResource ?? ((name) => name === 'gpu' && hasGpu(env)),
          sleep: options.sleep ?? realSleep,
          random: options.random ?? Math.random,
          state: { isFileProcessed: (hash) => hash in state.processedFiles, watermark: (key) => state.watermarks[key] },
          collect: (name, result) => results.push([name, result]),
        }),
    });
  } finally {
    clearTimeout(saveTimer);
    await limiters.stop();
    await db.close();
    await new Promise<void>((done) => eventLog.end(done));
    await pendingSave;
  }
  const finished = record!;
  await ledger.finishRun(finished, finished.status === 'succeeded' ? mergeCommits(results) : undefined);
  if (finished.status === 'succeeded') {
    for (const [, result] of results) await result.afterCommit?.();
  }
  await pruneRunDirs(pipelineRunsDir, KEEP_RUN_DIRS);
  return { runId, runDir, record: finished, plan };
}

function skipReason(stage: PlannedStage, context: TemplateContext) {
  if (stage.spec.enabled === false) return { reason: 'disabled' as const };
  if (stage.spec.if !== undefined && !evaluateCondition(stage.spec.if, context)) {
    return { reason: 'condition_false' as const, detail: `if: ${stage.spec.if}` };
  }
  return undefined;
}

function mergeCommits(results: readonly [string, StageResult][]): StateCommit {
  const commit: Required<StateCommit> = { processedFiles: [], watermarks: {} };
  for (const [, result] of results) {
    commit.processedFiles.push(...(result.commit?.processedFiles ?? []));
    Object.assign(commit.watermarks, result.commit?.watermarks);
  }
  return commit;
}

/** Run folders sort by run id, which starts with the start time. */
async function runDirsNewestFirst(pipelineRunsDir: string): Promise<string[]> {
  const names = await readdir(pipelineRunsDir).catch(() => [] as string[]);
  return names.sort().reverse();
}

/** `--only`/`--from` runs start from the previous run's database, so unselected upstream tables exist. */
async function seedFromPreviousRun(pipelineRunsDir: string, runDir: string): Promise<void> {
  for (const name of await runDirsNewestFirst(pipelineRunsDir)) {
    const previous = join(pipelineRunsDir, name, 'weir.duckdb');
    if (join(pipelineRunsDir, name) === runDir) continue;
    const found = await stat(previous).then(() => true, () => false);
    if (!found) continue;
    await copyFile(previous, join(runDir, 'weir.duckdb'));
    await copyFile(`${previous}.wal`, join(runDir, 'weir.duckdb.wal')).catch(() => undefined);
    return;
  }
}

async function pruneRunDirs(pipelineRunsDir: string, keep: number): Promise<void> {
  const stale = (await runDirsNewestFirst(pipelineRunsDir)).slice(keep);
  await Promise.all(stale.map((name) => rm(join(pipelineRunsDir, name), { recursive: true, force: true })));
}
