/**
 * The `backfill` use case: re-run the past intervals of a pipeline between two instants, each as
 * its own run (trigger `backfill`), skipping the intervals the ledger says are done.
 *
 *   planBackfill   the intervals (schedule ticks, or UTC days for an unscheduled pipeline) and, for
 *                  each, run or skip, from the ledger: reads only
 *   runBackfill    the plan's runs, oldest first (or newest), up to the pipeline's max_active_runs at once
 */
import { ConfigError } from '../model/errors.ts';
import type { Interval } from '../model/events.ts';
import type { PipelineSpec } from '../model/pipeline.ts';
import type { LedgerStore } from '../ledger/ledger-store.ts';
import type { RunRecord } from '../ledger/run-record.ts';
import { nextTicks } from '../planner/schedule.ts';
import type { RunDeps } from './run-deps.ts';
import { runPipeline, type RunRequest, type RunSummary } from './run-pipeline.ts';

const DAY_MS = 86_400_000;
/** Most intervals one backfill covers: a typo in --from (1926) should not queue a century of runs. */
export const MAX_BACKFILL_INTERVALS = 1000;
/** Ticks read from the cron per step while walking the range. */
const TICK_BATCH = 100;

/** Which intervals run again: never ran; never succeeded; every one. */
export type Reprocess = 'missing' | 'failed' | 'all';
export const REPROCESS_MODES: readonly Reprocess[] = ['missing', 'failed', 'all'];

export interface BackfillRange {
  /** Intervals starting at or after this instant… */
  from: Date;
  /** …and before this one. */
  to: Date;
}

export type BackfillDecision =
  | { interval: Interval; action: 'run' }
  /** `runId`: the run that makes the interval done (or still running). */
  | { interval: Interval; action: 'skip'; reason: 'succeeded' | 'ran' | 'running' | 'not_complete'; runId?: string };

export interface BackfillPlan {
  pipeline: string;
  reprocess: Reprocess;
  /** Runs at once: --max-parallel bounded by the pipeline's max_active_runs. */
  parallel: number;
  /** Why fewer runs go at once than asked (max_active_runs). */
  note?: string;
  intervals: BackfillDecision[];
}

export interface BackfillRequest {
  spec: PipelineSpec;
  range: BackfillRange;
  reprocess: Reprocess;
  /** Runs at once that the user asks for (default 1). */
  maxParallel?: number;
  newestFirst?: boolean;
}

/** Refused: the range is empty, reversed or too long. */
export class BackfillRangeError extends ConfigError {}

/** A bound of the range: a date (YYYY-MM-DD, a whole UTC day) or an ISO 8601 instant; a `to` date includes its day. Named as the CLI flag or the Action input is. */
export function parseBackfillBound(text: string | undefined, name: '--from' | '--to' | 'from' | 'to'): Date {
  const to = name.endsWith('to');
  if (!text) throw new BackfillRangeError(`backfill needs ${name}: a date YYYY-MM-DD (${to ? 'its day is included' : 'the first day'}) or an ISO 8601 instant`);
  const isDay = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const date = new Date(isDay ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(date.getTime()) || (isDay && !date.toISOString().startsWith(text))) throw new BackfillRangeError(`${name} '${text}' is not a date (YYYY-MM-DD) or an ISO 8601 instant`);
  return isDay && to ? new Date(date.getTime() + DAY_MS) : date;
}

/** The intervals whose start lies in [from, to): consecutive schedule ticks, or UTC days. */
export function backfillIntervals(spec: PipelineSpec, range: BackfillRange): Interval[] {
  if (range.to <= range.from) throw new BackfillRangeError(`backfill: --to (${range.to.toISOString()}) is not after --from (${range.from.toISOString()}); give an earlier --from or a later --to`);
  const starts = spec.schedule ? scheduleStarts(spec.schedule.cron, spec.schedule.timezone, range) : dayStarts(range);
  if (starts.length > MAX_BACKFILL_INTERVALS) throw tooMany(spec.name);
  // Each interval ends at the next tick, so one tick past the range is read too.
  const ends = spec.schedule ? [...starts.slice(1), ...nextTicks(spec.schedule.cron, spec.schedule.timezone, starts.at(-1) ?? range.to, 1)] : starts.map((s) => new Date(s.getTime() + DAY_MS));
  return starts.map((start, i) => ({ start: start.toISOString(), end: ends[i].toISOString() }));
}

function tooMany(pipeline: string): BackfillRangeError {
  return new BackfillRangeError(`backfill of '${pipeline}': the range holds more than ${MAX_BACKFILL_INTERVALS} intervals; backfill it in smaller ranges`);
}

function scheduleStarts(cron: string, timezone: string, range: BackfillRange): Date[] {
  const starts: Date[] = [];
  // nextTicks is strictly after its reference: 1 ms earlier makes `from` itself count.
  let cursor = new Date(range.from.getTime() - 1);
  while (starts.length <= MAX_BACKFILL_INTERVALS) {
    const ticks = nextTicks(cron, timezone, cursor, TICK_BATCH);
    for (const tick of ticks) {
      if (tick >= range.to) return starts;
      starts.push(tick);
    }
    if (ticks.length < TICK_BATCH) return starts;
    cursor = ticks.at(-1)!;
  }
  return starts;
}

function dayStarts(range: BackfillRange): Date[] {
  const starts: Date[] = [];
  for (let t = Math.ceil(range.from.getTime() / DAY_MS) * DAY_MS; t < range.to.getTime() && starts.length <= MAX_BACKFILL_INTERVALS; t += DAY_MS) starts.push(new Date(t));
  return starts;
}

/** What to do with one interval, given the runs that covered exactly it (newest first). */
export function decide(interval: Interval, runs: readonly RunRecord[], reprocess: Reprocess, now: number): BackfillDecision {
  if (Date.parse(interval.end) > now) return { interval, action: 'skip', reason: 'not_complete' };
  // gates: a parked (waiting) run holds its interval like a running one; its pipeline's next trigger resumes it.
  const running = runs.find((r) => r.status === 'running' || r.status === 'waiting');
  if (running) return { interval, action: 'skip', reason: 'running', runId: running.runId };
  if (reprocess === 'all') return { interval, action: 'run' };
  const succeeded = runs.find((r) => r.status === 'succeeded');
  if (succeeded) return { interval, action: 'skip', reason: 'succeeded', runId: succeeded.runId };
  // Failed, cancelled, abandoned or skipped runs left the interval undone: `failed` runs it again.
  if (reprocess === 'missing' && runs.length) return { interval, action: 'skip', reason: 'ran', runId: runs[0].runId };
  return { interval, action: 'run' };
}

/** Reads the ledger once for the whole range and decides every interval. */
export async function planBackfill(request: BackfillRequest, deps: { ledger: Pick<LedgerStore, 'listRuns'>; now: number }): Promise<BackfillPlan> {
  const { spec, reprocess } = request;
  const intervals = backfillIntervals(spec, request.range);
  const covering = intervals.length ? await deps.ledger.listRuns({ pipeline: spec.name, interval: { start: intervals[0].start, end: intervals.at(-1)!.end } }) : [];
  const key = (i: Interval) => `${Date.parse(i.start)}/${Date.parse(i.end)}`;
  const byInterval = new Map<string, RunRecord[]>();
  for (const run of covering) byInterval.set(key(run.interval), [...(byInterval.get(key(run.interval)) ?? []), run]);
  const decisions = intervals.map((interval) => decide(interval, byInterval.get(key(interval)) ?? [], reprocess, deps.now));
  if (request.newestFirst) decisions.reverse();
  const allowed = spec.max_active_runs ?? 1;
  const asked = request.maxParallel ?? 1;
  const parallel = Math.min(asked, allowed);
  const note = asked > allowed ? `'${spec.name}' allows ${allowed} run${allowed === 1 ? '' : 's'} at once (max_active_runs: ${allowed}); running ${parallel} at a time, not ${asked}` : undefined;
  return { pipeline: spec.name, reprocess, parallel, ...(note && { note }), intervals: decisions };
}

export interface BackfillOutcome {
  interval: Interval;
  /** The run's record; absent when the run was refused before it started (`error`). */
  record?: RunRecord;
  /** The run's folder and plan, for its report (absent when it was refused). */
  run?: Omit<RunSummary, 'record'>;
  error?: string;
}

export interface BackfillResult {
  plan: BackfillPlan;
  outcomes: BackfillOutcome[];
  /** Intervals not started because the backfill was stopped (Ctrl-C). */
  notStarted: Interval[];
}

/**
 * Runs the plan's `run` intervals, `plan.parallel` at once, in the plan's order. A failed interval
 * does not stop the others; an aborted `signal` stops starting new ones (the running ones are cancelled).
 */
export async function runBackfill(plan: BackfillPlan, base: Omit<RunRequest, 'interval' | 'trigger' | 'resume'>, deps: RunDeps): Promise<BackfillResult> {
  const queue = plan.intervals.filter((d) => d.action === 'run').map((d) => d.interval);
  const outcomes: BackfillOutcome[] = [];
  const notStarted: Interval[] = [];
  const worker = async () => {
    for (let interval = queue.shift(); interval; interval = queue.shift()) {
      if (base.signal?.aborted) {
        notStarted.push(interval);
        continue;
      }
      outcomes.push(await runOne(interval, base, deps));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, plan.parallel) }, worker));
  const order = new Map(plan.intervals.map((d, i) => [d.interval.start, i]));
  outcomes.sort((a, b) => order.get(a.interval.start)! - order.get(b.interval.start)!);
  return { plan, outcomes, notStarted };
}

async function runOne(interval: Interval, base: Omit<RunRequest, 'interval' | 'trigger' | 'resume'>, deps: RunDeps): Promise<BackfillOutcome> {
  try {
    const { record, ...run } = await runPipeline({ ...base, interval, trigger: 'backfill' }, deps);
    return { interval, record, run };
  } catch (error) {
    // Refused before it ran (another run holds the pipeline, a bad param): the others still go.
    return { interval, error: (error as Error).message };
  }
}

/** What happens (or would, in a dry run) to an interval, in words: the CLI's table and the Action's summary. */
export function describeDecision(d: BackfillDecision, dryRun: boolean): string {
  if (d.action === 'run') return dryRun ? 'run' : 'queued';
  const why = { succeeded: `skip: succeeded in run ${d.runId}`, ran: `skip: ran in run ${d.runId} (--reprocess failed runs it again)`, running: `skip: running in run ${d.runId}`, not_complete: 'skip: interval not over yet' };
  return why[d.reason];
}

/** Whether every interval that was to run ran and succeeded. */
export function isBackfillSucceeded(result: BackfillResult): boolean {
  return result.notStarted.length === 0 && result.outcomes.every((o) => o.record?.status === 'succeeded');
}
