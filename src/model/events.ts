/**
 * Lifecycle events. The executor emits them; the ledger, the reports, the logs and the CLI's
 * progress display are folds over them and never look inside the executor.
 */
import type { ErrorRecord } from './errors.ts';
import type { StageResources } from './resources.ts';

/**
 * `cancelled`: the run was stopped (signal, run timeout) before or while the stage ran; `reused`: the
 * stage did not run, its output was restored from an earlier run (`--from`, `--only`, resume).
 */
export type StageStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'reused' | 'waiting';
/**
 * `cancelled`: stopped by a signal (Ctrl-C, GitHub's cancel); `abandoned`: its process died without
 * finishing (kill -9, a lost runner), found and closed by recovery; `skipped`: a scheduled trigger
 * that ran nothing because the pipeline is paused (recorded so `history` shows it); `waiting`: parked
 * on a gate whose condition is not met (gates issue): no process runs it, the next trigger resumes it.
 */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'abandoned' | 'skipped' | 'waiting';
/** `cancelled` appears only in records written before runs had a `cancelled` stage status. */
export type SkipReason = 'upstream_failed' | 'upstream_skipped' | 'condition_false' | 'disabled' | 'not_selected' | 'cancelled';

export interface Interval {
  /** ISO 8601 instant, inclusive. */
  start: string;
  /** ISO 8601 instant, exclusive. */
  end: string;
}

export interface CheckResult {
  name: string;
  kind: string;
  severity: 'error' | 'warn';
  passed: boolean;
  /** Rows that broke the check (or the row count for row_count). */
  failing: number;
  message: string;
}

/**
 * Where a run came from, when a CI entry point knows it (the GitHub Action): the commit and ref,
 * the event and actor, the workflow run, and a sha256 of the pipeline file and each file it names.
 * Absent for local runs.
 */
export interface RunProvenance {
  commit?: string;
  ref?: string;
  event?: string;
  actor?: string;
  /** The Actions run page: `<server>/<repo>/actions/runs/<id>`. */
  workflowRunUrl?: string;
  runAttempt?: number;
  /** sha256 (hex) by path relative to the project root: the pipeline file first, then the files it references. */
  files?: Record<string, string>;
}

interface Base {
  runId: string;
  /** ISO 8601 instant. */
  at: string;
}

export type RunEvent =
  | (Base & {
      type: 'run.started';
      pipeline: string;
      params: Record<string, unknown>;
      interval: Interval;
      trigger: string;
      stages: string[];
      /** Set by CI entry points (action provenance); absent for local runs. */
      provenance?: RunProvenance;
      // retry (backfill branch) ↓ set on a `weir retry`: the first run's id and this attempt's number (the first run is 1).
      retryOf?: string;
      attempt?: number;
      // Catch-up (catch-up issue) ↓ set for scheduled runs only.
      /** The nominal schedule tick this run is for (its interval's end), ISO 8601. */
      tick?: string;
      /** How late the run started: its start − `tick`, in ms. */
      latenessMs?: number;
    })
  | (Base & {
      type: 'stage.started';
      stage: string;
      attempt: number;
      /** gpu (issue 10) ↓ the hardware a stage that `requires` it runs with (GPUs, driver, CUDA). Absent otherwise. */
      resources?: StageResources;
    })
  | (Base & {
      type: 'stage.succeeded';
      stage: string;
      attempt: number;
      durationMs: number;
      rows?: number;
      table?: string;
      outputs?: Record<string, unknown>;
      checks?: CheckResult[];
    })
  | (Base & {
      type: 'stage.failed';
      stage: string;
      attempt: number;
      durationMs: number;
      error: ErrorRecord;
      checks?: CheckResult[];
    })
  | (Base & { type: 'stage.skipped'; stage: string; reason: SkipReason; detail?: string })
  | (Base & {
      type: 'stage.cancelled';
      stage: string;
      /** The attempt that was stopped; absent when the stage never started. */
      attempt?: number;
      durationMs?: number;
      /** Why: the signal, the run timeout, or an upstream stage that was cancelled. */
      detail: string;
    })
  | (Base & {
      type: 'stage.reused';
      stage: string;
      /** The run whose output of this stage was restored (`--from`, `--only`, resume). */
      fromRunId: string;
      rows?: number;
      table?: string;
      outputs?: Record<string, unknown>;
    })
  | (Base & {
      type: 'stage.retrying';
      stage: string;
      /** The attempt that failed. */
      attempt: number;
      error: ErrorRecord;
      /** Wait before the next attempt. */
      delayMs: number;
      /** What was retried when not the whole stage: a request URL. */
      target?: string;
    })
  | (Base & {
      type: 'breaker.changed';
      /** Policy name + dependency key, e.g. `polite-api:api.example.com`. */
      key: string;
      from: 'closed' | 'open' | 'half_open';
      to: 'closed' | 'open' | 'half_open';
    })
  | (Base & { type: 'ratelimit.waited'; stage: string; key: string; waitedMs: number })
  | (Base & { type: 'stage.dead_letters'; stage: string; count: number; total: number; file?: string; table?: string })
  | (Base & { type: 'stage.log'; stage: string; stream: 'stdout' | 'stderr' | 'info' | 'warn'; line: string })
  // Gates (gates issue) ↓
  /** A gate's condition is not met: the stage waits (not terminal) and the run parks once nothing else can run. */
  | (Base & { type: 'stage.waiting'; stage: string; attempt: number; durationMs: number; detail: string })
  /** The run stops with gates waiting; its record stays in the ledger as `waiting` (not finished) for a later trigger. */
  | (Base & { type: 'run.parked'; durationMs: number; waitingOn: string[] })
  /** A later trigger continues a parked run (same run id): waiting gates are evaluated again. */
  | (Base & { type: 'run.resumed'; pipeline: string; trigger: string })
  | (Base & {
      type: 'run.finished';
      status: Exclude<RunStatus, 'running' | 'waiting'>;
      durationMs: number;
      error?: ErrorRecord;
      /** Why a `skipped` run ran nothing (a scheduled trigger of a paused pipeline). Catch-up issue. */
      skipReason?: string;
    })
  /**
   * Fan-out: a segment (or one shard of it) of a run split across jobs reported, or never did
   * (`missing`). Written by `weir finalize` when it joins the segments into one record.
   */
  | (Base & {
      type: 'segment.reported';
      segment: string;
      shard?: number;
      shards?: number;
      runnerLabels: string[];
      stages: string[];
      status: Exclude<RunStatus, 'running'> | 'missing';
      host?: string;
      startedAt?: string;
      finishedAt?: string;
    })
  // SLA (sla branch) ↓ a run, a stage or a scheduled start past its `sla`; once per scope and stage, never changes the status.
  | (Base & {
      type: 'sla.breached';
      /** `run`: the run's `sla`; `stage`: a stage's `sla`; `start`: a scheduled run that started after its tick + `sla`. */
      scope: SlaScope;
      /** The stage, for scope `stage`. */
      stage?: string;
      slaMs: number;
      /** Time from the SLA's origin (the tick, the run's or the stage's first start) to `at`. */
      elapsedMs: number;
    })
  // Notifications (reports issue) ↓ after run.finished (sla_breach: during the run): they never change the run's status.
  // `stage` (sla branch): set for a message about one stage (stage notify rules, a stage's SLA breach).
  | (Base & { type: 'notify.sent'; channel: string; event: string; attempts: number; stage?: string })
  | (Base & { type: 'notify.failed'; channel: string; event: string; attempts: number; error: ErrorRecord; stage?: string })
  /** Not attempted: the channel's environment variables are unset, or it is not defined. */
  | (Base & { type: 'notify.skipped'; channel: string; event: string; reason: string; stage?: string });

/** What an SLA breach is measured against (sla branch). */
export type SlaScope = 'run' | 'stage' | 'start';

export type RunEventType = RunEvent['type'];
export type EventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;
export type RunEventListener = (event: RunEvent) => void;
