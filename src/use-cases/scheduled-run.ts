/**
 * What a schedule trigger does (`weir run <pipeline> --trigger schedule`, the workflow's cron): the
 * trigger is only a heartbeat. The ledger says which intervals are due (planner/due-intervals.ts);
 * each runs as its own run, oldest first, with its nominal tick and lateness recorded. A doubled or
 * late trigger finds nothing left to do; a paused pipeline records one `skipped` run and runs nothing.
 * Also the pause rules of manual runs (`assertNotPaused`) and `weir pause`/`unpause` (`setPaused`).
 */
import { ConfigError } from '../model/errors.ts';
import type { Interval } from '../model/events.ts';
import type { LedgerStore, PipelineControl } from '../ledger/ledger-store.ts';
import { newRunId } from '../ledger/run-id.ts';
import { foldEvents, type RunRecord } from '../ledger/run-record.ts';
import { dueIntervals, dueWindow, type DueInterval } from '../planner/due-intervals.ts';
import { runPipeline, type RunRequest, type RunSummary } from './run-pipeline.ts';
import { findParkedRun } from './parked-runs.ts';
import type { RunDeps } from './run-deps.ts';

/** A manual run of a paused pipeline, without `--force`. */
export class PipelinePausedError extends ConfigError {
  constructor(pipeline: string, control: PipelineControl) {
    const why = control.reason ? ` (${control.reason})` : '';
    super(`pipeline '${pipeline}' is paused since ${control.at} by ${control.by}${why}: run 'weir unpause ${pipeline}', or pass --force to run it anyway`);
  }
}

/** A schedule trigger of a pipeline that has no `schedule:`. */
export class NotScheduledError extends ConfigError {
  constructor(pipeline: string) {
    super(`pipeline '${pipeline}' has no schedule: add 'schedule: { cron: … }' to it, or run it without --trigger schedule`);
  }
}

export interface ScheduledRunRequest extends Omit<RunRequest, 'trigger' | 'tick' | 'resume' | 'interval'> {
  /** Run a paused pipeline, and run the latest interval again when nothing is due. */
  force?: boolean;
  /** Only this interval (a trigger for one interval): a no-op when it already succeeded, unless `force`. */
  interval?: Interval;
}

export type ScheduledRunResult =
  | { outcome: 'paused'; control: PipelineControl; record: RunRecord }
  /** `runs` is empty when nothing was due; `deferred`: due intervals left for the next trigger by `max_catchup`. */
  | { outcome: 'ran'; runs: RunSummary[]; deferred: number };

export async function runScheduled(request: ScheduledRunRequest, deps: RunDeps): Promise<ScheduledRunResult> {
  const spec = request.pipeline.spec;
  if (!spec.schedule) throw new NotScheduledError(spec.name);
  const control = await deps.ledger.readControl(spec.name);
  if (control?.paused && !request.force) return { outcome: 'paused', control, record: await recordPausedSkip(request, control, deps) };
  const runs: RunSummary[] = [];
  // Gates ↓ a parked run resumes before any due interval starts; while it stays parked, nothing new starts.
  const parked = request.interval ? undefined : await findParkedRun(deps.ledger, spec.name);
  if (parked) {
    const { force: _force, ...runRequest } = request;
    const resumed = await runPipeline({ ...runRequest, resume: parked.runId, trigger: 'schedule' }, deps);
    runs.push(resumed);
    if (resumed.record.status === 'waiting') return { outcome: 'ran', runs, deferred: 0 };
  }
  const { due, deferred } = await intervalsToRun(request, deps);
  for (const next of due) {
    if (request.signal?.aborted) break;
    // A trigger that ran beside this one (a doubled cron event) may have done it meanwhile.
    if (!request.force && (await isDoneOrRunning(next.interval, request.pipeline.spec.name, deps.ledger))) continue;
    const { force: _force, ...runRequest } = request;
    runs.push(await runPipeline({ ...runRequest, interval: next.interval, tick: next.tick, trigger: 'schedule' }, deps));
  }
  return { outcome: 'ran', runs, deferred };
}

export async function intervalsToRun(request: ScheduledRunRequest, deps: RunDeps): Promise<{ due: DueInterval[]; deferred: number }> {
  const schedule = request.pipeline.spec.schedule!;
  const now = new Date(deps.clock.now());
  if (request.interval) {
    const runs = await deps.ledger.listRuns({ pipeline: request.pipeline.spec.name, interval: request.interval });
    const done = runs.some((r) => r.status === 'succeeded' && r.interval.start === request.interval!.start && r.interval.end === request.interval!.end);
    return { due: done && !request.force ? [] : [{ interval: request.interval, tick: request.interval.end }], deferred: 0 };
  }
  // Only the runs the decision needs: every run only for `all` without a start date (it starts from the oldest).
  const window = dueWindow(schedule, now) ?? { start: new Date(0).toISOString(), end: now.toISOString() };
  const runs = await deps.ledger.listRuns({ pipeline: request.pipeline.spec.name, interval: window });
  const result = dueIntervals(schedule, runs, now);
  if (result.due.length > 0 || !request.force) return result;
  // --force with nothing due: the latest interval again, as if it had never run.
  return dueIntervals({ ...schedule, catchup: 'last', start_date: undefined }, [], now);
}

async function isDoneOrRunning(interval: Interval, pipeline: string, ledger: LedgerStore): Promise<boolean> {
  const runs = await ledger.listRuns({ pipeline, interval });
  return runs.some((r) => (r.status === 'succeeded' || r.status === 'running' || r.status === 'waiting') && r.interval.start === interval.start && r.interval.end === interval.end);
}

/** A `skipped` run for the trigger a pause swallowed, so `weir history` shows it. */
async function recordPausedSkip(request: ScheduledRunRequest, control: PipelineControl, deps: RunDeps): Promise<RunRecord> {
  const now = deps.clock.now();
  const at = new Date(now).toISOString();
  const runId = newRunId(now);
  const { due } = dueIntervals({ ...request.pipeline.spec.schedule!, catchup: 'last', start_date: undefined }, [], new Date(now));
  const interval = request.interval ?? due[0]?.interval ?? { start: at, end: at };
  const reason = `paused by ${control.by} at ${control.at}${control.reason ? `: ${control.reason}` : ''}`;
  const record = foldEvents([
    { type: 'run.started', runId, at, pipeline: request.pipeline.spec.name, params: {}, interval, trigger: 'schedule', stages: [] },
    { type: 'run.finished', runId, at, status: 'skipped', durationMs: 0, skipReason: reason },
  ])!;
  await deps.ledger.finishRun(record);
  return record;
}

/** A manual run of a paused pipeline is refused unless forced. */
export async function assertNotPaused(ledger: Pick<LedgerStore, 'readControl'>, pipeline: string, force: boolean): Promise<void> {
  const control = await ledger.readControl(pipeline);
  if (control?.paused && !force) throw new PipelinePausedError(pipeline, control);
}

export interface PauseChange {
  pipeline: string;
  paused: boolean;
  /** `USER` or `GITHUB_ACTOR`. */
  by: string;
  reason?: string;
}

/** `weir pause` / `weir unpause`: records who, when and why in the ledger. */
export async function setPaused(change: PauseChange, deps: { ledger: Pick<LedgerStore, 'writeControl'>; now: () => Date }): Promise<PipelineControl> {
  const control: PipelineControl = { paused: change.paused, by: change.by, at: deps.now().toISOString(), ...(change.reason ? { reason: change.reason } : {}) };
  await deps.ledger.writeControl(change.pipeline, control);
  return control;
}
