/**
 * The run state machine. It moves stages pending → running → succeeded | failed | skipped, runs
 * independent stages concurrently under a limit, skips everything downstream of a failure while
 * siblings finish, enforces the run timeout, and reports every transition as a RunEvent.
 *
 * It knows nothing of DuckDB, YAML or the ledger: running one stage (attempts, retries, stage
 * timeout, checks) is the injected `runStage`.
 */
import { RunTimeoutError, toErrorRecord, type ErrorRecord } from '../model/errors.ts';
import type { CheckResult, RunEvent, RunStatus, SkipReason } from '../model/events.ts';
import type { Plan, PlannedStage } from '../planner/plan.ts';

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

export interface ExecuteDeps {
  runId: string;
  /** Runs one stage to completion, retries included. Must settle soon after `signal` aborts. */
  runStage(stage: PlannedStage, signal: AbortSignal): Promise<StageOutcome>;
  /** Decides before start whether a ready stage is skipped (`if:` false, `enabled: false`). */
  skipReason?(stage: PlannedStage): { reason: SkipReason; detail?: string } | undefined;
  emit(event: RunEvent): void;
  now(): number;
  /** Most stages running at once. Default 4. */
  concurrency?: number;
  runTimeoutMs?: number;
  /** Cancels the run from outside (Ctrl-C). */
  signal?: AbortSignal;
}

export interface RunResult {
  status: Exclude<RunStatus, 'running'>;
  durationMs: number;
  outcomes: ReadonlyMap<string, StageOutcome>;
  error?: ErrorRecord;
}

type Terminal = 'succeeded' | 'failed' | 'skipped';

export async function executePlan(plan: Plan, deps: ExecuteDeps): Promise<RunResult> {
  const started = deps.now();
  const at = () => new Date(deps.now()).toISOString();
  const limit = Math.max(1, deps.concurrency ?? 4);
  const controller = new AbortController();
  const signal = deps.signal ? AbortSignal.any([controller.signal, deps.signal]) : controller.signal;

  const dependents = new Map<string, PlannedStage[]>();
  const waitingOn = new Map<string, number>();
  for (const stage of plan.stages) {
    waitingOn.set(stage.name, stage.needs.length);
    for (const need of stage.needs) {
      const list = dependents.get(need) ?? [];
      list.push(stage);
      dependents.set(need, list);
    }
  }
  const status = new Map<string, Terminal | 'running'>();
  const outcomes = new Map<string, StageOutcome>();
  const ready: PlannedStage[] = plan.stages.filter((s) => s.needs.length === 0);
  let running = 0;
  let runError: unknown;

  let wake: () => void = () => {};
  signal.addEventListener('abort', () => wake(), { once: true });
  const settle = (stage: PlannedStage, result: Terminal) => {
    status.set(stage.name, result);
    for (const dependent of dependents.get(stage.name) ?? []) {
      if (result === 'failed') skipDownstream(dependent, 'upstream_failed', `'${stage.name}' failed`);
      else if (result === 'skipped' && stage.selected) skipDownstream(dependent, 'upstream_skipped', `'${stage.name}' was skipped`);
      else {
        const left = waitingOn.get(dependent.name)! - 1;
        waitingOn.set(dependent.name, left);
        if (left === 0 && !status.has(dependent.name)) insertReady(dependent);
      }
    }
  };
  const skip = (stage: PlannedStage, reason: SkipReason, detail?: string) => {
    deps.emit({ type: 'stage.skipped', runId: deps.runId, at: at(), stage: stage.name, reason, detail });
    settle(stage, 'skipped');
  };
  // Iterative so that a 10,000-stage chain does not overflow the stack.
  const skipDownstream = (first: PlannedStage, reason: SkipReason, detail: string) => {
    const stack = [first];
    while (stack.length > 0) {
      const stage = stack.pop()!;
      if (status.has(stage.name)) continue;
      status.set(stage.name, 'skipped');
      deps.emit({ type: 'stage.skipped', runId: deps.runId, at: at(), stage: stage.name, reason, detail });
      stack.push(...(dependents.get(stage.name) ?? []));
    }
  };
  const insertReady = (stage: PlannedStage) => {
    let i = ready.length;
    while (i > 0 && ready[i - 1].order > stage.order) i--;
    ready.splice(i, 0, stage);
  };

  const launch = (stage: PlannedStage) => {
    status.set(stage.name, 'running');
    running++;
    const stageStarted = deps.now();
    deps.emit({ type: 'stage.started', runId: deps.runId, at: at(), stage: stage.name, attempt: 1 });
    deps
      .runStage(stage, signal)
      .catch((error: unknown): StageOutcome => ({ ok: false, attempt: 1, error }))
      .then((outcome) => {
        running--;
        outcomes.set(stage.name, outcome);
        const durationMs = deps.now() - stageStarted;
        if (outcome.ok) {
          const { rows, table, outputs, checks, attempt } = outcome;
          deps.emit({ type: 'stage.succeeded', runId: deps.runId, at: at(), stage: stage.name, attempt, durationMs, rows, table, outputs, checks });
          settle(stage, 'succeeded');
        } else {
          const error = toErrorRecord(outcome.error);
          deps.emit({ type: 'stage.failed', runId: deps.runId, at: at(), stage: stage.name, attempt: outcome.attempt, durationMs, error, checks: outcome.checks });
          settle(stage, 'failed');
        }
        wake();
      });
  };

  const timer =
    deps.runTimeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          runError = new RunTimeoutError(`run exceeded its timeout of ${deps.runTimeoutMs} ms; running stages were stopped`);
          controller.abort(runError);
        }, deps.runTimeoutMs);

  try {
    while (true) {
      if (signal.aborted) {
        runError ??= signal.reason;
        for (const stage of ready.splice(0)) skip(stage, 'cancelled', 'the run was stopped');
      }
      while (running < limit && ready.length > 0) {
        const stage = ready.shift()!;
        if (!stage.selected) {
          // Left out by --only/--from: its table comes from the previous run's database.
          deps.emit({ type: 'stage.skipped', runId: deps.runId, at: at(), stage: stage.name, reason: 'not_selected' });
          settle(stage, 'skipped');
          continue;
        }
        const skipped = deps.skipReason?.(stage);
        if (skipped) skip(stage, skipped.reason, skipped.detail);
        else launch(stage);
      }
      if (running === 0 && ready.length === 0) break;
      // Woken by a stage settling or by the abort (running stages then settle soon after).
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    if (timer) clearTimeout(timer);
  }
  // Stages never reached (their upstream was cancelled mid-run) are reported as cancelled.
  for (const stage of plan.stages) {
    if (!status.has(stage.name)) skip(stage, 'cancelled', 'the run was stopped');
  }

  const failed = [...status.values()].includes('failed') || runError !== undefined;
  const durationMs = deps.now() - started;
  const error = runError === undefined ? undefined : toErrorRecord(runError);
  deps.emit({ type: 'run.finished', runId: deps.runId, at: at(), status: failed ? 'failed' : 'succeeded', durationMs, error });
  return { status: failed ? 'failed' : 'succeeded', durationMs, outcomes, error };
}
