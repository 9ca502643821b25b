/**
 * The executor: drives the run state machine (run-state.ts) over a plan. It starts ready stages
 * under the concurrency limit, reports every transition as a RunEvent, enforces the run timeout,
 * and stops cleanly when the outside signal fires (running stages end `cancelled`, never `failed`).
 *
 * It knows nothing of DuckDB, YAML or the ledger: running one stage (attempts, retries, stage
 * timeout, checks) is the injected `runStage`. Whatever goes wrong in here, the run still ends with
 * a `run.finished` event: a bug becomes an InternalError on the run, not a hung or unrecorded run.
 */
import { CancelledError, ConfigError, GateNotMetError, InternalError, RunTimeoutError, toErrorRecord, type ErrorRecord } from '../model/errors.ts';
import type { CheckResult, RunEvent, RunStatus, SkipReason } from '../model/events.ts';
import type { Plan, PlannedStage } from '../planner/plan.ts';
import { applyRunEvent, initialRunState, nextActions, unfinishedStages, waitingStages, type Action, type RunState } from './run-state.ts';

export interface StageOutcomeSuccess {
  ok: true;
  attempt: number;
  rows?: number;
  table?: string;
  outputs?: Record<string, unknown>;
  checks?: CheckResult[];
}
export interface StageOutcomeFailure {
  ok: false;
  attempt: number;
  error: unknown;
  checks?: CheckResult[];
}
export type StageOutcome = StageOutcomeSuccess | StageOutcomeFailure;

/** A stage whose output an earlier run produced and this run restores instead of running it. */
export interface ReusedStage {
  fromRunId: string;
  rows?: number;
  table?: string;
  outputs?: Record<string, unknown>;
}

export interface ExecuteDeps {
  runId: string;
  /** Runs one stage to completion, retries included. Must settle soon after `signal` aborts. */
  runStage(stage: PlannedStage, signal: AbortSignal): Promise<StageOutcome>;
  /** Decides before start whether a ready stage is skipped (`if:` false, `enabled: false`). May throw: the stage then fails. */
  skipReason?(stage: PlannedStage): { reason: SkipReason; detail?: string } | undefined;
  emit(event: RunEvent): void;
  now(): number;
  /** Most stages running at once. Default 4. */
  concurrency?: number;
  runTimeoutMs?: number;
  /** Cancels the run from outside (SIGINT/SIGTERM): stages stop with this signal's reason. */
  signal?: AbortSignal;
  /** Stages restored from an earlier run (reported as `stage.reused` before anything starts). */
  reused?: ReadonlyMap<string, ReusedStage>;
  /** The state to continue from (default: every stage pending). */
  initialState?: RunState;
}

export interface RunResult {
  status: Exclude<RunStatus, 'running'>;
  durationMs: number;
  outcomes: ReadonlyMap<string, StageOutcome>;
  error?: ErrorRecord;
  state: RunState;
}

/** The reason a stopping run gives its waiting stages. */
function stopDetail(reason: unknown): string {
  if (reason instanceof RunTimeoutError) return 'the run timed out';
  if (reason instanceof InternalError) return 'the run stopped on an internal error';
  return reason instanceof Error && reason.message ? `the run was cancelled (${reason.message})` : 'the run was cancelled';
}

function finalStatus(state: RunState, runError: unknown): Exclude<RunStatus, 'running'> {
  if (runError instanceof CancelledError) return 'cancelled';
  if (runError !== undefined) return 'failed';
  for (const stage of state.stages.values()) if (stage.phase === 'failed' || stage.phase === 'cancelled') return 'failed';
  // Gates ↓ nothing failed and a gate waits: the run parks (its blocked stages stay pending).
  for (const stage of state.stages.values()) if (stage.phase === 'waiting') return 'waiting';
  return 'succeeded';
}

/** A gate that is not met yet waits; it is not a failure (gates issue). */
function isGateWaiting(error: unknown): boolean {
  return error instanceof GateNotMetError || (error as { code?: unknown } | undefined)?.code === 'gate_not_met';
}

export async function executePlan(plan: Plan, deps: ExecuteDeps): Promise<RunResult> {
  const started = deps.now();
  const at = () => new Date(deps.now()).toISOString();
  const runId = deps.runId;
  const limit = Math.max(1, deps.concurrency ?? 4);
  const controller = new AbortController();
  const signal = deps.signal ? AbortSignal.any([controller.signal, deps.signal]) : controller.signal;
  const state = deps.initialState ?? initialRunState(plan);
  const outcomes = new Map<string, StageOutcome>();
  let running = 0;
  let runError: unknown;

  const emit = (event: RunEvent) => {
    applyRunEvent(state, event);
    deps.emit(event);
  };
  let wake: () => void = () => {};
  signal.addEventListener('abort', () => wake(), { once: true });

  const finishStage = (stage: PlannedStage, outcome: StageOutcome, stageStarted: number) => {
    outcomes.set(stage.name, outcome);
    const durationMs = deps.now() - stageStarted;
    if (outcome.ok) {
      const { rows, table, outputs, checks, attempt } = outcome;
      emit({ type: 'stage.succeeded', runId, at: at(), stage: stage.name, attempt, durationMs, rows, table, outputs, checks });
    } else if (isGateWaiting(outcome.error) && !signal.aborted) {
      const detail = (outcome.error as Error).message;
      emit({ type: 'stage.waiting', runId, at: at(), stage: stage.name, attempt: outcome.attempt, durationMs, detail });
    } else if (signal.aborted) {
      // Stopped by the run, not by its own fault: no failure, no retry, downstream cancelled too.
      emit({ type: 'stage.cancelled', runId, at: at(), stage: stage.name, attempt: outcome.attempt, durationMs, detail: stopDetail(signal.reason) });
    } else {
      emit({ type: 'stage.failed', runId, at: at(), stage: stage.name, attempt: outcome.attempt, durationMs, error: toErrorRecord(outcome.error), checks: outcome.checks });
    }
  };

  const launch = (stage: PlannedStage) => {
    running++;
    const stageStarted = deps.now();
    emit({ type: 'stage.started', runId, at: at(), stage: stage.name, attempt: 1 });
    let pending: Promise<StageOutcome>;
    try {
      pending = deps.runStage(stage, signal);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending
      .catch((error: unknown): StageOutcome => ({ ok: false, attempt: 1, error }))
      .then((outcome) => finishStage(stage, outcome, stageStarted))
      .catch((error: unknown) => stopOnBug(error))
      .finally(() => {
        running--;
        wake();
      });
  };

  /** A stage whose condition cannot be evaluated fails (it passed validation, so the data made it fail). */
  const start = (stage: PlannedStage) => {
    let skipped: ReturnType<NonNullable<ExecuteDeps['skipReason']>>;
    try {
      skipped = deps.skipReason?.(stage);
    } catch (cause) {
      const error = new ConfigError(`stage '${stage.name}': its condition could not be evaluated: ${(cause as Error).message ?? String(cause)}; fix 'if:' in the pipeline`, [], { cause });
      emit({ type: 'stage.started', runId, at: at(), stage: stage.name, attempt: 1 });
      emit({ type: 'stage.failed', runId, at: at(), stage: stage.name, attempt: 1, durationMs: 0, error: toErrorRecord(error) });
      return;
    }
    if (skipped) emit({ type: 'stage.skipped', runId, at: at(), stage: stage.name, reason: skipped.reason, detail: skipped.detail });
    else launch(stage);
  };

  const perform = (action: Action) => {
    if (action.type === 'start') start(action.stage);
    else if (action.type === 'skip') emit({ type: 'stage.skipped', runId, at: at(), stage: action.stage.name, reason: action.reason, detail: action.detail });
    else emit({ type: 'stage.cancelled', runId, at: at(), stage: action.stage.name, detail: action.detail });
  };

  function stopOnBug(error: unknown) {
    runError ??= new InternalError(`weir stopped the run on an internal error: ${(error as Error)?.message ?? String(error)}; please report it`, { cause: error });
    if (!controller.signal.aborted) controller.abort(runError);
  }

  const timer =
    deps.runTimeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          runError ??= new RunTimeoutError(`run exceeded its timeout of ${deps.runTimeoutMs} ms; running stages were stopped`);
          controller.abort(runError);
        }, deps.runTimeoutMs);

  try {
    for (const stage of plan.stages) {
      const reused = deps.reused?.get(stage.name);
      if (reused) emit({ type: 'stage.reused', runId, at: at(), stage: stage.name, ...reused });
    }
    while (true) {
      if (signal.aborted) runError ??= signal.reason ?? new CancelledError('the run was cancelled');
      const stopping = signal.aborted ? stopDetail(runError) : undefined;
      const actions = nextActions(state, { capacity: limit - running, stopping });
      try {
        for (const action of actions) perform(action);
      } catch (error) {
        stopOnBug(error);
      }
      if (actions.length > 0 && !runError) continue;
      if (running === 0) break;
      // Woken by a stage settling or by the abort (running stages then settle soon after).
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } catch (error) {
    stopOnBug(error);
  } finally {
    if (timer) clearTimeout(timer);
  }
  while (running > 0) await new Promise<void>((resolve) => (wake = resolve));
  const parking = finalStatus(state, runError) === 'waiting';
  // Stages never reached (the run stopped, or an upstream outcome left them waiting) end cancelled;
  // a parking run keeps the stages behind its gates pending, to run when it resumes.
  const detail = stopDetail(runError);
  // A run that stops or fails while a gate waits closes the gate too.
  if (!parking) for (const stage of waitingStages(state)) emit({ type: 'stage.cancelled', runId, at: at(), stage: stage.name, detail: runError === undefined ? 'the run failed while the gate waited' : detail });
  for (const stage of parking ? [] : unfinishedStages(state)) {
    try {
      emit({ type: 'stage.cancelled', runId, at: at(), stage: stage.name, detail });
    } catch (error) {
      stopOnBug(error);
    }
  }

  const status = finalStatus(state, runError);
  const durationMs = deps.now() - started;
  const error = runError === undefined ? undefined : toErrorRecord(runError);
  if (status === 'waiting') emit({ type: 'run.parked', runId, at: at(), durationMs, waitingOn: waitingStages(state).map((s) => s.name) });
  else emit({ type: 'run.finished', runId, at: at(), status, durationMs, error });
  return { status, durationMs, outcomes, error, state };
}
