/** What the status site shows, as data: built by the `site` use case, rendered by the pages here. */
import type { RunRecord } from '../ledger/run-record.ts';
import type { PipelineStatus } from '../use-cases/status.ts';

export interface PipelineOverview {
  pipeline: string;
  /** The cron, or undefined for a pipeline run by hand (or one only the ledger knows). */
  schedule?: string;
  timezone?: string;
  /** ISO instant of the next cron tick. */
  nextTick?: string;
  /** Start of the newest succeeded run, among all runs in the ledger. */
  lastSuccess?: string;
  /** Its recent runs, newest first (at most the site's `runsPerPipeline`). */
  runs: RunRecord[];
  /** Whether pipelines/ defines it (a pipeline only the ledger knows was deleted or renamed). */
  defined: boolean;
  // sla branch ↓ the same facts as `weir status` (status.ts computes both).
  /** Intervals a schedule trigger would run now, and the oldest one's start; absent for a pipeline run by hand. */
  due?: PipelineStatus['due'];
  /** Lateness (start − tick, ms) of the latest scheduled runs, newest first. */
  recentLateness?: number[];
  /** Set while the pipeline is paused. */
  paused?: PipelineStatus['paused'];
  /** SLA breaches among the runs shown. */
  slaBreaches?: PipelineStatus['slaBreaches'];
}

export interface SiteModel {
  /** ISO 8601: when the site was generated. */
  generatedAt: string;
  pipelines: PipelineOverview[];
}

/** Succeeded runs over finished ones (running runs are not counted); undefined when none finished. */
export function successRate(runs: readonly RunRecord[]): { succeeded: number; finished: number; percent: number } | undefined {
  const finished = runs.filter((run) => run.status !== 'running' && run.status !== 'waiting'); // gates: a parked run has not finished
  if (finished.length === 0) return undefined;
  const succeeded = finished.filter((run) => run.status === 'succeeded').length;
  return { succeeded, finished: finished.length, percent: Math.round((succeeded / finished.length) * 100) };
}
