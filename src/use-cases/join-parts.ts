/**
 * Joins the parts of a run split into segments into the events of one run, as if it had run in
 * one process: the run's start (from the plan job's context), each part's stage events, the shards
 * of a sharded stage folded into one stage outcome, a stage no part reported skipped (its upstream
 * failed) or failed (its job was lost), and the run's end. Pure; the record is the usual fold of
 * these events (run-record.ts).
 */
import type { ErrorRecord } from '../model/errors.ts';
import type { CheckResult, RunEvent, RunStatus } from '../model/events.ts';
import { parseDuration } from '../model/duration.ts';
import type { PipelineSpec } from '../model/pipeline.ts';
import type { Plan } from '../planner/plan.ts';
import { runSlaOrigin } from './sla-watch.ts';
import type { Segment } from '../planner/segments.ts';
import type { HandoffContext, ReceivedPart } from './handoff.ts';

/** The parts that reported, by segment: one entry per shard (undefined where a shard never reported). */
export type PartsBySegment = ReadonlyMap<string, readonly (ReceivedPart | undefined)[]>;

type Outcome = 'succeeded' | 'failed' | 'cancelled' | 'skipped' | 'reused';


function lostError(message: string): ErrorRecord {
  return { code: 'abandoned', name: 'AbandonedError', message };
}

/** One outcome for a sharded stage from its shards' events: succeeded when every shard did (rows summed), else the first failure. */
function joinShards(runId: string, stage: string, segment: Segment, shards: readonly (ReceivedPart | undefined)[]): RunEvent[] {
  const count = shards.length;
  const events: RunEvent[] = [];
  const starts: string[] = [];
  const ends: string[] = [];
  let rows = 0;
  let attempts = 1;
  let table: string | undefined;
  const checks: CheckResult[] = [];
  const rowsByShard: number[] = [];
  let failure: { error: ErrorRecord; checks?: CheckResult[] } | undefined;
  let cancelled: string | undefined;
  shards.forEach((part, i) => {
    const label = `shard ${i + 1}/${count}`;
    if (!part) {
      failure ??= { error: lostError(`${label} of stage '${stage}' never reported: its job was cancelled, skipped or lost its runner; see the workflow run, then 'weir retry'`) };
      return;
    }
    for (const event of part.events) {
      if (event.type === 'stage.started') {
        starts.push(event.at);
        attempts = Math.max(attempts, event.attempt);
      } else if (event.type === 'stage.succeeded') {
        ends.push(event.at);
        rows += event.rows ?? 0;
        rowsByShard[i] = event.rows ?? 0;
        table ??= event.table;
        for (const check of event.checks ?? []) checks.push({ ...check, name: `${check.name} (${label})` });
      } else if (event.type === 'stage.failed') {
        ends.push(event.at);
        failure ??= { error: { ...event.error, message: `${label}: ${event.error.message}` }, checks: event.checks };
      } else if (event.type === 'stage.cancelled') {
        ends.push(event.at);
        cancelled ??= `${label}: ${event.detail}`;
      } else if (event.type === 'stage.skipped') {
        ends.push(event.at);
        cancelled ??= `${label} skipped: ${event.detail ?? event.reason}`;
      } else if (event.type === 'stage.log') {
        events.push({ ...event, line: `[${label}] ${event.line}` });
      } else if (event.type !== 'stage.retrying') {
        events.push(event);
      }
    }
  });
  const startedAt = starts.sort()[0];
  const finishedAt = ends.sort().at(-1) ?? startedAt;
  if (startedAt === undefined) return events; // no shard started: treated as never reported
  const durationMs = Date.parse(finishedAt!) - Date.parse(startedAt);
  const head: RunEvent = { type: 'stage.started', runId, at: startedAt, stage, attempt: 1 };
  let end: RunEvent;
  if (failure) end = { type: 'stage.failed', runId, at: finishedAt!, stage, attempt: attempts, durationMs, error: failure.error, ...(failure.checks ? { checks: failure.checks } : {}) };
  else if (cancelled) end = { type: 'stage.cancelled', runId, at: finishedAt!, stage, attempt: attempts, durationMs, detail: cancelled };
  else end = { type: 'stage.succeeded', runId, at: finishedAt!, stage, attempt: attempts, durationMs, rows, ...(table ? { table } : {}), outputs: { shards: count, rows_by_shard: rowsByShard, ...(segment.shards?.by ? { shard_by: segment.shards.by } : {}) }, ...(checks.length ? { checks } : {}) };
  return [head, ...events, end];
}

function reported(runId: string, at: string, segment: Segment, part: ReceivedPart | undefined, shard?: { index: number; count: number }): RunEvent {
  return {
    type: 'segment.reported',
    runId,
    at,
    segment: segment.id,
    ...(shard ? { shard: shard.index, shards: shard.count } : {}),
    runnerLabels: [...segment.runnerLabels],
    stages: [...segment.stages],
    status: part ? part.report.status : 'missing',
    ...(part ? { host: part.report.host, startedAt: part.report.startedAt, finishedAt: part.report.finishedAt } : {}),
  };
}

/** A later attempt of a run whose first record failed: recorded under its own id, naming the first run. */
export interface RunAttempt {
  runId: string;
  retryOf: string;
  attempt: number;
}

/**
 * The events of the whole run, from its context and the parts that reported. `finishedAt`: when
 * finalize ran. With `as`, the events of a new attempt of the run (failed segments re-run, the
 * parts that succeeded reused).
 */
export function joinParts(context: HandoffContext, plan: Plan, segments: readonly Segment[], parts: PartsBySegment, finishedAt: string, as?: RunAttempt): RunEvent[] {
  const events = joinEvents(context, plan, segments, parts, finishedAt);
  if (!as) return events;
  return events.map((event) => (event.type === 'run.started' ? { ...event, runId: as.runId, trigger: 'retry', retryOf: as.retryOf, attempt: as.attempt } : { ...event, runId: as.runId }));
}

function joinEvents(context: HandoffContext, plan: Plan, segments: readonly Segment[], parts: PartsBySegment, finishedAt: string): RunEvent[] {
  const runId = context.runId;
  const lateness = context.tick ? { tick: context.tick, latenessMs: Date.parse(context.startedAt) - Date.parse(context.tick) } : {};
  const events: RunEvent[] = [
    {
      type: 'run.started', runId, at: context.startedAt, pipeline: context.pipeline, params: context.params, interval: context.interval, trigger: context.trigger,
      stages: plan.stages.map((s) => s.name), ...(context.provenance ? { provenance: context.provenance } : {}), ...lateness,
    },
  ];
  const outcome = new Map<string, Outcome>();
  const note = (event: RunEvent) => {
    if (event.type === 'stage.succeeded') outcome.set(event.stage, 'succeeded');
    else if (event.type === 'stage.failed') outcome.set(event.stage, 'failed');
    else if (event.type === 'stage.cancelled') outcome.set(event.stage, 'cancelled');
    else if (event.type === 'stage.skipped') outcome.set(event.stage, 'skipped');
  };
  for (const segment of segments) {
    const shards = parts.get(segment.id) ?? [];
    if (segment.shards) {
      shards.forEach((part, i) => events.push(reported(runId, part?.report.finishedAt ?? finishedAt, segment, part, { index: i + 1, count: segment.shards!.count })));
      if (shards.some(Boolean)) for (const event of joinShards(runId, segment.stages[0], segment, shards)) (events.push(event), note(event));
      continue;
    }
    const part = shards[0];
    events.push(reported(runId, part?.report.finishedAt ?? finishedAt, segment, part));
    for (const event of part?.events ?? []) (events.push(event), note(event));
  }
  // Stages no part finished: skipped behind a failed or skipped upstream stage, else lost with their job.
  for (const stage of plan.stages) {
    if (outcome.has(stage.name)) continue;
    const blocked = stage.needs.find((need) => outcome.get(need) !== 'succeeded');
    const started = events.some((e) => e.type === 'stage.started' && e.stage === stage.name);
    let event: RunEvent;
    if (blocked !== undefined && !started && outcome.get(blocked) === 'cancelled') {
      event = { type: 'stage.cancelled', runId, at: finishedAt, stage: stage.name, detail: `upstream stage '${blocked}' was cancelled` };
    } else if (blocked !== undefined && !started) {
      const reason = outcome.get(blocked) === 'skipped' ? 'upstream_skipped' : 'upstream_failed';
      event = { type: 'stage.skipped', runId, at: finishedAt, stage: stage.name, reason, detail: `${blocked} ${outcome.get(blocked) ?? 'did not run'}` };
    } else {
      const segment = segments.find((s) => s.stages.includes(stage.name));
      event = { type: 'stage.failed', runId, at: finishedAt, stage: stage.name, attempt: 1, durationMs: 0, error: lostError(`segment '${segment?.id ?? '?'}' never reported stage '${stage.name}': its job was cancelled or lost its runner; see the workflow run, then 'weir retry'`) };
    }
    events.push(event);
    note(event);
  }
  const outcomes = [...outcome.values()];
  const status: Exclude<RunStatus, 'running'> = outcomes.includes('failed') ? 'failed' : outcomes.includes('cancelled') ? 'cancelled' : 'succeeded';
  events.push({ type: 'run.finished', runId, at: finishedAt, status, durationMs: Math.max(0, Date.parse(finishedAt) - Date.parse(context.startedAt)) });
  return events;
}


/**
 * The run's `sla`, judged once the run is joined: from its tick (a scheduled run) or its start to
 * its end. Segment jobs judge only their stages' SLAs: none of them sees the whole run.
 */
export function runSlaBreach(sla: PipelineSpec['sla'], context: HandoffContext, finished: RunEvent): RunEvent | undefined {
  if (sla === undefined) return undefined;
  const slaMs = parseDuration(sla);
  const origin = runSlaOrigin(Date.parse(context.startedAt), context.tick);
  const elapsedMs = Date.parse(finished.at) - origin;
  if (elapsedMs <= slaMs) return undefined;
  const lateStart = Date.parse(context.startedAt) - origin > slaMs;
  return { type: 'sla.breached', runId: finished.runId, at: finished.at, scope: lateStart ? 'start' : 'run', slaMs, elapsedMs };
}
