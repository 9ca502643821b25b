/**
 * The `status` use case: for each pipeline (in pipelines/ or in the ledger), its schedule and time
 * zone, last run, last success and next tick. Read-only.
 */
import type { LedgerStore } from '../ledger/ledger-store.ts';
import type { RunRecord, SlaBreachRecord } from '../ledger/run-record.ts';
import type { RunStatus } from '../model/events.ts';
import { didYouMean } from '../model/did-you-mean.ts';
import type { PipelineSpec } from '../model/pipeline.ts';
import { nextTicks } from '../planner/schedule.ts';
import { parseDuration } from '../model/duration.ts';
import { dueIntervals, dueWindow } from '../planner/due-intervals.ts';
import type { StageKindRegistry } from '../stages/registry.ts';
import { validatePipelines } from './validate.ts';

export interface StatusDeps {
  /** `readControl` (catch-up issue): without it, pause state is not shown. */
  ledger: Pick<LedgerStore, 'listRuns' | 'pipelines'> & Partial<Pick<LedgerStore, 'readControl'>>;
  clock: () => Date;
  kinds: StageKindRegistry;
}

export interface StatusRequest {
  root: string;
  /** Only this pipeline. */
  pipeline?: string;
}

export interface PipelineStatus {
  pipeline: string;
  /** The cron, or undefined for a pipeline run by hand. */
  schedule?: string;
  /** IANA time zone the cron is read in. */
  timezone?: string;
  lastRun?: { runId: string; status: RunStatus; startedAt: string };
  /** Start of the last succeeded run. */
  lastSuccess?: string;
  /** ISO instant of the next cron tick. */
  nextTick?: string;
  // Catch-up (catch-up issue) ↓
  /** Intervals a schedule trigger now would run (all of them, before `max_catchup`), and the oldest one's start. */
  due?: {
    count: number;
    oldest?: string;
    /** SLA (sla branch): due intervals whose tick + the pipeline's `sla` has passed; they breach (scope `start`) when a trigger runs them. Absent without `sla`. */
    pastSla?: number;
  };
  /** Lateness (start − tick, ms) of the latest scheduled runs, newest first. */
  recentLateness?: number[];
  /** Set while the pipeline is paused. */
  paused?: { by: string; at: string; reason?: string };
  // SLA (sla branch) ↓
  /** SLA breaches of the latest runs: how many of them (`of`) breached, and the newest breach. Absent when none did. */
  slaBreaches?: SlaBreachSummary;
}

/** How the latest runs kept their SLAs (sla branch). */
export interface SlaBreachSummary {
  /** Runs with at least one breach. */
  runs: number;
  /** Runs looked at (the latest `RECENT_RUNS`). */
  of: number;
  /** The newest breach, with its run. */
  latest: SlaBreachRecord & { runId: string };
}

/** Latest runs whose lateness and SLA breaches `weir status` shows. */
const RECENT_LATENESS_RUNS = 5;

export type StatusResult = { ok: true; pipelines: PipelineStatus[] } | { ok: false; reason: 'unknown_pipeline'; message: string };

export async function readStatus(request: StatusRequest, deps: StatusDeps): Promise<StatusResult> {
  // Status shows what it can: an invalid file is left out here, and `weir validate` says why.
  const validation = await validatePipelines({ root: request.root }, { kinds: deps.kinds });
  const specs = new Map(validation.pipelines.map((p) => [p.spec.name, p.spec]));
  const names = [...new Set([...specs.keys(), ...(await deps.ledger.pipelines())])].sort();
  if (request.pipeline !== undefined && !names.includes(request.pipeline)) {
    const known = names.length ? `pipelines: ${names.join(', ')}` : 'no pipelines yet';
    return { ok: false, reason: 'unknown_pipeline', message: `no pipeline '${request.pipeline}'${didYouMean(request.pipeline, names)}; ${known}` };
  }
  const selected = request.pipeline === undefined ? names : [request.pipeline];
  const now = deps.clock();
  return { ok: true, pipelines: await Promise.all(selected.map((name) => statusOf(name, specs.get(name), now, deps))) };
}

/** One pipeline's status (also the site's overview facts: site.ts reuses it). */
export async function statusOf(name: string, spec: PipelineSpec | undefined, now: Date, deps: StatusDeps): Promise<PipelineStatus> {
  // Two bounded reads, whatever the history's length: the last run, and the last success when that is older.
  const [last] = await deps.ledger.listRuns({ pipeline: name, limit: 1 });
  const lastSuccess = last?.status === 'succeeded' ? last : (await deps.ledger.listRuns({ pipeline: name, status: 'succeeded', limit: 1 }))[0];
  const schedule = spec?.schedule;
  const control = await deps.ledger.readControl?.(name);
  const catchup = schedule ? await catchupStatus(name, schedule, now, deps, spec?.sla === undefined ? undefined : parseDuration(spec.sla)) : {};
  const sla = summarizeSlaBreaches(await deps.ledger.listRuns({ pipeline: name, limit: RECENT_LATENESS_RUNS }));
  return {
    ...catchup,
    ...(sla ? { slaBreaches: sla } : {}),
    ...(control?.paused ? { paused: { by: control.by, at: control.at, ...(control.reason ? { reason: control.reason } : {}) } } : {}),
    pipeline: name,
    schedule: schedule?.cron,
    timezone: schedule?.timezone,
    lastRun: last && { runId: last.runId, status: last.status, startedAt: last.startedAt },
    lastSuccess: lastSuccess?.startedAt,
    nextTick: schedule ? nextTicks(schedule.cron, schedule.timezone, now, 1)[0]?.toISOString() : undefined,
  };
}

/** What a schedule trigger would run now, and how late recent scheduled runs started (catch-up issue). */
async function catchupStatus(name: string, schedule: NonNullable<PipelineSpec['schedule']>, now: Date, deps: StatusDeps, slaMs?: number): Promise<Pick<PipelineStatus, 'due' | 'recentLateness'>> {
  // Bounded reads unless `all` without a start date needs the whole history to find its start.
  const window = dueWindow(schedule, now) ?? { start: new Date(0).toISOString(), end: now.toISOString() };
  const runs = await deps.ledger.listRuns({ pipeline: name, interval: window });
  const { due, deferred } = dueIntervals(schedule, runs, now);
  const recent = await deps.ledger.listRuns({ pipeline: name, limit: RECENT_LATENESS_RUNS });
  const lateness = recent.flatMap((r) => (r.latenessMs === undefined ? [] : [r.latenessMs])).slice(0, RECENT_LATENESS_RUNS);
  const pastSla = slaMs === undefined ? {} : { pastSla: countPastSla(schedule, runs, now, slaMs) };
  return { due: { count: due.length + deferred, ...(due[0] ? { oldest: due[0].interval.start } : {}), ...pastSla }, ...(lateness.length ? { recentLateness: lateness } : {}) };
}

// SLA (sla branch) ↓
/** How many of `runs` (newest first) breached an SLA, and the newest breach; undefined when none did (pure). */
export function summarizeSlaBreaches(runs: readonly RunRecord[]): SlaBreachSummary | undefined {
  const breached = runs.filter((run) => (run.slaBreaches?.length ?? 0) > 0);
  const newest = breached[0];
  if (!newest) return undefined;
  const latest = newest.slaBreaches!.reduce((a, b) => (b.at > a.at ? b : a));
  return { runs: breached.length, of: runs.length, latest: { runId: newest.runId, ...latest } };
}

/** Due intervals (all of them, past `max_catchup`) whose tick + `sla` is before `now`: not started within their SLA. */
function countPastSla(schedule: NonNullable<PipelineSpec['schedule']>, runs: Parameters<typeof dueIntervals>[1], now: Date, slaMs: number): number {
  const { due } = dueIntervals({ ...schedule, max_catchup: Number.MAX_SAFE_INTEGER }, runs, now);
  return due.filter((next) => Date.parse(next.tick) + slaMs < now.getTime()).length;
}
