/**
 * The ledger's record of a run is a fold over the run's events: `foldEvents(events)` rebuilds it,
 * and the store applies events one by one as they arrive. Nothing else writes run records.
 */
import type { ErrorRecord } from '../model/errors.ts';
import type { CheckResult, EventOf, Interval, RunEvent, RunProvenance, RunStatus, SkipReason, SlaScope, StageStatus } from '../model/events.ts';
import type { StageResources } from '../model/resources.ts';
import type { StateCommit } from '../model/state.ts';
import type { LeaseOwner } from './ledger-store.ts';

export interface AttemptRecord {
  attempt: number;
  startedAt: string;
  finishedAt?: string;
  error?: ErrorRecord;
  /** Wait scheduled before the next attempt. */
  delayMs?: number;
}

export interface StageRecord {
  status: StageStatus;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  attempts: AttemptRecord[];
  rows?: number;
  table?: string;
  outputs?: Record<string, unknown>;
  checks?: CheckResult[];
  error?: ErrorRecord;
  skipReason?: SkipReason;
  skipDetail?: string;
  deadLetters?: { count: number; total: number; file?: string; table?: string };
  rateLimitWaitMs?: number;
  /** For a `reused` stage: the run its output was restored from. */
  reusedFrom?: string;
  /** For a `waiting` gate: what it waits for (its condition, and since when). Gates issue. */
  waitDetail?: string;
  /** Fan-out: the segment that ran the stage and the runner labels it ran on ([] = the default runner). */
  segment?: string;
  runnerLabels?: string[];
  /** gpu (issue 10): the hardware a stage that `requires` it ran with (GPUs, driver, CUDA). */
  resources?: StageResources;
}

/** Fan-out: one segment, or one shard of it, of a run split across jobs, as `segment.reported` said. */
export type SegmentRecord = Omit<EventOf<'segment.reported'>, 'type' | 'runId' | 'at'>;

export interface BreakerTransition {
  key: string;
  from: string;
  to: string;
  at: string;
}

export interface RunRecord {
  runId: string;
  pipeline: string;
  status: RunStatus;
  trigger: string;
  params: Record<string, unknown>;
  interval: Interval;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  stages: Record<string, StageRecord>;
  /** Circuit breaker state changes during the run (breakers are shared by stages, per policy and key). */
  breakers?: BreakerTransition[];
  error?: ErrorRecord;
  /** The process running the run (set by the run use case on its active record). */
  owner?: LeaseOwner;
  /** The state commit of a run that succeeded, as the ledger recorded it. */
  commit?: StateCommit;
  /** Where the run came from (commit, workflow run, file hashes), when a CI entry point gave it. */
  provenance?: RunProvenance;
  // Catch-up (catch-up issue) ↓
  /** The nominal schedule tick of a scheduled run, ISO 8601. */
  tick?: string;
  /** Its start − `tick`, in ms. */
  latenessMs?: number;
  /** Why a `skipped` run ran nothing. */
  skipReason?: string;
  /** Notifications sent, failed or skipped after the run finished (never part of its status). */
  notifications?: NotificationRecord[];
  /** Fan-out: the segments (and shards) the run was split into, as each reported. Absent for one-process runs. */
  segments?: SegmentRecord[];
  // retry (backfill branch) ↓
  /** Set on a `weir retry`: the id of the run this is a new attempt of (its first run). */
  retryOf?: string;
  /** This run's attempt number when it is a retry (the first run is attempt 1). */
  attempt?: number;
  // Gates (gates issue) ↓
  /** When the run first parked on a gate, ISO 8601: gate timeouts count from here. */
  parkedAt?: string;
  /** The gates a `waiting` run waits on. */
  waitingOn?: string[];
  /** Each time a trigger continued the parked run. */
  resumes?: { at: string; trigger: string }[];
  // SLA (sla branch) ↓
  /** SLA breaches, in the order they happened (at most one per scope and stage). */
  slaBreaches?: SlaBreachRecord[];
}

// SLA (sla branch) ↓
export interface SlaBreachRecord {
  scope: SlaScope;
  stage?: string;
  /** When it was detected, ISO 8601. */
  at: string;
  slaMs: number;
  elapsedMs: number;
}

// Notifications (reports issue) ↓
export interface NotificationRecord {
  channel: string;
  /** failure, success, recovery, check_warning, dead_letters. */
  event: string;
  status: 'sent' | 'failed' | 'skipped';
  at: string;
  attempts?: number;
  error?: ErrorRecord;
  /** Why a notification was skipped. */
  reason?: string;
  /** The stage a message was about (stage notify rules, a stage's SLA breach); absent for the run (sla branch). */
  stage?: string;
}

function stageOf(record: RunRecord, name: string): StageRecord {
  record.stages[name] ??= { status: 'pending', attempts: [] };
  return record.stages[name];
}

function lastAttempt(stage: StageRecord): AttemptRecord | undefined {
  return stage.attempts[stage.attempts.length - 1];
}

/** Applies one event to a run record, mutating and returning it. `run.started` creates the record. */
export function applyEvent(record: RunRecord | undefined, event: RunEvent): RunRecord {
  if (event.type === 'run.started') {
    const stages = Object.fromEntries(event.stages.map((name) => [name, { status: 'pending', attempts: [] } as StageRecord]));
    const record: RunRecord = { runId: event.runId, pipeline: event.pipeline, status: 'running', trigger: event.trigger, params: event.params, interval: event.interval, startedAt: event.at, stages };
    // action provenance: kept only when given, so local records stay as they were.
    if (event.provenance) record.provenance = event.provenance;
    // retry (backfill branch): kept only on retries.
    if (event.retryOf) Object.assign(record, { retryOf: event.retryOf, attempt: event.attempt });
    // catch-up: scheduled runs only.
    if (event.tick !== undefined) Object.assign(record, { tick: event.tick, latenessMs: event.latenessMs });
    return record;
  }
  if (!record) throw new Error(`event ${event.type} arrived before run.started for run ${event.runId}`);
  switch (event.type) {
    case 'stage.started': {
      const stage = stageOf(record, event.stage);
      stage.status = 'running';
      stage.startedAt ??= event.at;
      stage.attempts.push({ attempt: event.attempt, startedAt: event.at });
      if (event.resources) stage.resources = event.resources; // gpu (issue 10)
      break;
    }
    case 'stage.retrying': {
      const stage = stageOf(record, event.stage);
      const attempt = lastAttempt(stage);
      if (attempt) Object.assign(attempt, { finishedAt: event.at, error: event.error, delayMs: event.delayMs });
      stage.attempts.push({ attempt: event.attempt + 1, startedAt: new Date(Date.parse(event.at) + event.delayMs).toISOString() });
      break;
    }
    case 'stage.succeeded':
    case 'stage.failed': {
      const stage = stageOf(record, event.stage);
      const attempt = lastAttempt(stage);
      if (attempt) {
        attempt.finishedAt = event.at;
        if (event.type === 'stage.failed') attempt.error = event.error;
      }
      stage.status = event.type === 'stage.succeeded' ? 'succeeded' : 'failed';
      stage.finishedAt = event.at;
      delete stage.waitDetail; // gates: a gate that waited and then passed or failed waits no more
      stage.durationMs = event.durationMs;
      stage.checks = event.checks;
      if (event.type === 'stage.succeeded') Object.assign(stage, { rows: event.rows, table: event.table, outputs: event.outputs });
      else stage.error = event.error;
      break;
    }
    case 'stage.skipped': {
      const stage = stageOf(record, event.stage);
      Object.assign(stage, { status: 'skipped', skipReason: event.reason, skipDetail: event.detail, finishedAt: event.at });
      break;
    }
    case 'stage.cancelled': {
      const stage = stageOf(record, event.stage);
      const planned = lastAttempt(stage);
      // Cancelled while waiting to retry: the attempt `stage.retrying` planned never started.
      if (planned && !planned.finishedAt && planned.startedAt > event.at) stage.attempts.pop();
      const attempt = event.attempt === undefined ? undefined : lastAttempt(stage);
      if (attempt && !attempt.finishedAt) attempt.finishedAt = event.at;
      Object.assign(stage, { status: 'cancelled', finishedAt: event.at, durationMs: event.durationMs, skipDetail: event.detail });
      break;
    }
    case 'stage.reused': {
      const stage = stageOf(record, event.stage);
      Object.assign(stage, { status: 'reused', finishedAt: event.at, rows: event.rows, table: event.table, outputs: event.outputs, reusedFrom: event.fromRunId });
      break;
    }
    case 'stage.dead_letters':
      stageOf(record, event.stage).deadLetters = { count: event.count, total: event.total, file: event.file, table: event.table };
      break;
    case 'ratelimit.waited': {
      const stage = stageOf(record, event.stage);
      stage.rateLimitWaitMs = (stage.rateLimitWaitMs ?? 0) + event.waitedMs;
      break;
    }
    case 'breaker.changed':
      (record.breakers ??= []).push({ key: event.key, from: event.from, to: event.to, at: event.at });
      break;
    case 'run.finished':
      Object.assign(record, { status: event.status, finishedAt: event.at, durationMs: event.durationMs, error: event.error });
      if (event.skipReason !== undefined) record.skipReason = event.skipReason; // catch-up: paused
      break;
    case 'stage.log':
      break;
    case 'segment.reported': {
      const { type: _type, runId: _runId, at: _at, ...segment } = event;
      (record.segments ??= []).push(segment);
      for (const name of event.stages) Object.assign(stageOf(record, name), { segment: event.segment, runnerLabels: event.runnerLabels });
      break;
    }
    // Gates (gates issue) ↓ a parked run is not finished: it goes waiting → running → its final status.
    case 'stage.waiting': {
      const stage = stageOf(record, event.stage);
      const attempt = lastAttempt(stage);
      if (attempt) attempt.finishedAt = event.at;
      Object.assign(stage, { status: 'waiting', durationMs: event.durationMs, waitDetail: event.detail });
      break;
    }
    case 'run.parked':
      Object.assign(record, { status: 'waiting', waitingOn: event.waitingOn });
      record.parkedAt ??= event.at;
      break;
    case 'run.resumed':
      record.status = 'running';
      record.waitingOn = undefined;
      (record.resumes ??= []).push({ at: event.at, trigger: event.trigger });
      break;
    // Notifications (reports issue) ↓ recorded beside the run; its status stays as run.finished set it.
    case 'notify.sent':
      (record.notifications ??= []).push({ channel: event.channel, event: event.event, status: 'sent', at: event.at, attempts: event.attempts, ...stageField(event.stage) });
      break;
    case 'notify.failed':
      (record.notifications ??= []).push({ channel: event.channel, event: event.event, status: 'failed', at: event.at, attempts: event.attempts, error: event.error, ...stageField(event.stage) });
      break;
    case 'notify.skipped':
      (record.notifications ??= []).push({ channel: event.channel, event: event.event, status: 'skipped', at: event.at, reason: event.reason, ...stageField(event.stage) });
      break;
    // SLA (sla branch) ↓ recorded beside the run; its status stays as the stages and run.finished set it.
    case 'sla.breached':
      (record.slaBreaches ??= []).push({ scope: event.scope, ...stageField(event.stage), at: event.at, slaMs: event.slaMs, elapsedMs: event.elapsedMs });
      break;
    default: {
      const unhandled: never = event;
      throw new Error(`unhandled event ${(unhandled as RunEvent).type}`);
    }
  }
  return record;
}

/** `{ stage }` when set, else nothing: records of run-level events keep their old shape (sla branch). */
function stageField(stage: string | undefined): { stage?: string } {
  return stage === undefined ? {} : { stage };
}

export function foldEvents(events: Iterable<RunEvent>): RunRecord | undefined {
  let record: RunRecord | undefined;
  for (const event of events) record = applyEvent(record, event);
  return record;
}

/** Retries a stage needed in this run (attempts beyond the first). */
export function retryCount(stage: StageRecord): number {
  return Math.max(0, stage.attempts.length - 1);
}
