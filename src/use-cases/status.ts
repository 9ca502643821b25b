/**
 * The `status` use case: for each pipeline (in pipelines/ or in the ledger), its schedule and time
 * zone, last run, last success and next tick. Read-only.
 */
import type { LedgerStore } from '../ledger/ledger-store.ts';
import type { RunStatus } from '../model/events.ts';
import { didYouMean } from '../model/did-you-mean.ts';
import type { PipelineSpec } from '../model/pipeline.ts';
import { nextTicks } from '../planner/schedule.ts';
import type { StageKindRegistry } from '../stages/registry.ts';
import { validatePipelines } from './validate.ts';

export interface StatusDeps {
  ledger: Pick<LedgerStore, 'listRuns' | 'pipelines'>;
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
}

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

async function statusOf(name: string, spec: PipelineSpec | undefined, now: Date, deps: StatusDeps): Promise<PipelineStatus> {
  // Two bounded reads, whatever the history's length: the last run, and the last success when that is older.
  const [last] = await deps.ledger.listRuns({ pipeline: name, limit: 1 });
  const lastSuccess = last?.status === 'succeeded' ? last : (await deps.ledger.listRuns({ pipeline: name, status: 'succeeded', limit: 1 }))[0];
  const schedule = spec?.schedule;
  return {
    pipeline: name,
    schedule: schedule?.cron,
    timezone: schedule?.timezone,
    lastRun: last && { runId: last.runId, status: last.status, startedAt: last.startedAt },
    lastSuccess: lastSuccess?.startedAt,
    nextTick: schedule ? nextTicks(schedule.cron, schedule.timezone, now, 1)[0]?.toISOString() : undefined,
  };
}
