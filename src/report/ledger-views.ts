/** Pure text views of the ledger for the terminal: the history table and the status table. */
import { formatDuration } from '../model/duration.ts';
import type { RunRecord } from '../ledger/run-record.ts';
import type { PipelineStatus } from '../use-cases/status.ts';
import { renderTable } from './terminal.ts';

/** `2026-11-22T06:17:00.000Z` → `2026-11-22 06:17:00` (the header says UTC). */
function utc(instant: string | undefined, length = 19): string {
  return instant?.slice(0, length).replace('T', ' ') ?? '';
}

/** Stage counts by outcome, e.g. `3✔ 1✖ 2○ 1■ 2↻` (■ cancelled, ↻ retries). */
export function summarizeStages(record: RunRecord): string {
  const stages = Object.values(record.stages);
  const count = (status: string) => stages.filter((s) => s.status === status).length;
  const retries = stages.reduce((n, s) => n + Math.max(0, s.attempts.length - 1), 0);
  const cancelled = count('cancelled');
  return `${count('succeeded')}✔ ${count('failed')}✖ ${count('skipped')}○${cancelled ? ` ${cancelled}■` : ''}${retries ? ` ${retries}↻` : ''}`;
}

/** The failed stages and their error codes (`b: stage_failed`), else the run's own error code. */
export function summarizeErrors(record: RunRecord): string {
  const failed = Object.entries(record.stages).filter(([, s]) => s.status === 'failed' && s.error);
  if (failed.length) return failed.map(([name, s]) => `${name}: ${s.error!.code}`).join(', ');
  return record.error?.code ?? record.skipReason ?? ''; // catch-up issue: why a paused trigger was skipped
}

export function renderHistoryTable(runs: readonly RunRecord[], pipeline?: string): string {
  if (runs.length === 0) return pipeline ? `no runs of '${pipeline}' yet: start one with 'weir run ${pipeline}'` : "no runs yet: start one with 'weir run <pipeline>'";
  const rows = runs.map((r) => [
    r.runId,
    r.pipeline,
    r.status,
    utc(r.startedAt),
    r.durationMs === undefined ? '' : formatDuration(r.durationMs),
    summarizeStages(r),
    r.trigger,
    summarizeErrors(r),
  ]);
  return renderTable(['run', 'pipeline', 'status', 'started (UTC)', 'took', 'stages', 'trigger', 'error'], rows);
}

function scheduleText(status: PipelineStatus): string {
  return status.schedule === undefined ? 'manual' : `${status.schedule} (${status.timezone ?? 'UTC'})`;
}

export function renderStatusTable(statuses: readonly PipelineStatus[]): string {
  if (statuses.length === 0) return "no pipelines yet: add one to pipelines/ (see 'weir help validate')";
  const rows = statuses.map((s) => [s.pipeline, scheduleText(s), s.lastRun?.status ?? 'never run', utc(s.lastRun?.startedAt), utc(s.lastSuccess), utc(s.nextTick, 16), dueText(s), latenessText(s), pausedText(s), slaText(s)]);
  return renderTable(['pipeline', 'schedule (time zone)', 'last run', 'started (UTC)', 'last success (UTC)', 'next tick (UTC)', 'due', 'late', 'paused', 'sla'], rows);
}

// Catch-up (catch-up issue) ↓
/** `3 from 2026-06-01 06:17`, or empty for a manual pipeline. */
function dueText(status: PipelineStatus): string {
  if (!status.due) return '';
  const pastSla = status.due.pastSla ? ` (${status.due.pastSla} past sla)` : ''; // sla branch
  return status.due.count === 0 ? '0' : `${status.due.count} from ${utc(status.due.oldest, 16)}${pastSla}`;
}

/** The latest scheduled run's lateness, e.g. `4m`. */
function latenessText(status: PipelineStatus): string {
  const latest = status.recentLateness?.[0];
  return latest === undefined ? '' : formatDuration(latest);
}

function pausedText(status: PipelineStatus): string {
  return status.paused ? `by ${status.paused.by}${status.paused.reason ? `: ${status.paused.reason}` : ''}` : '';
}

// SLA (sla branch) ↓
/** `2 of last 5 runs (start)`: recent runs that breached an SLA, and the newest breach's scope. */
function slaText(status: PipelineStatus): string {
  const sla = status.slaBreaches;
  if (!sla) return '';
  const scope = sla.latest.scope === 'stage' ? `stage ${sla.latest.stage}` : sla.latest.scope;
  return `${sla.runs} of last ${sla.of} run${sla.of === 1 ? '' : 's'} (${scope})`;
}
