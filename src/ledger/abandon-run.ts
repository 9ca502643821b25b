/**
 * Pure parts of recovery: which record of a dead run to trust, and how to close it. Shared by every
 * store so they close dead runs the same way.
 */
import { AbandonedError, toErrorRecord } from '../model/errors.ts';
import type { RunEvent } from '../model/events.ts';
import { describeOwner } from './owner-liveness.ts';
import { foldEvents, type RunRecord } from './run-record.ts';

/** The latest instant a record mentions: how far the run is known to have got. */
export function lastActivity(record: RunRecord): string {
  let latest = record.finishedAt ?? record.startedAt;
  for (const stage of Object.values(record.stages)) {
    for (const at of [stage.startedAt, stage.finishedAt, ...stage.attempts.flatMap((a) => [a.startedAt, a.finishedAt])]) {
      if (at && at > latest) latest = at;
    }
  }
  return latest;
}

/** Events recorded: attempts started and stages settled (timestamps alone tie within a millisecond). */
function stepsRecorded(record: RunRecord): number {
  return Object.values(record.stages).reduce((n, s) => n + s.attempts.length + (s.status === 'pending' || s.status === 'running' ? 0 : 1), 0);
}

function isAtLeastAsFar(a: RunRecord, b: RunRecord): boolean {
  const at = lastActivity(a);
  const bt = lastActivity(b);
  return at > bt || (at === bt && stepsRecorded(a) >= stepsRecorded(b));
}

/**
 * The record rebuilt from the run's events when they got at least as far as the saved active record
 * (the active record is saved with a delay; the event log may lose its last buffered lines), else
 * the active record. The owner is kept either way.
 */
export function latestRecord(active: RunRecord, events: RunEvent[] | undefined): RunRecord {
  const folded = events?.length ? foldEvents(events) : undefined;
  if (!folded || folded.runId !== active.runId) return active;
  // Notification events (reports issue) may follow run.finished: look for it, not only at the end.
  const finished = events?.some((event) => event.type === 'run.finished') ?? false;
  return finished || isAtLeastAsFar(folded, active) ? { ...folded, owner: active.owner } : active;
}

/** True when the run's own events say it finished: it died while being recorded, not while running. */
export function hasFinished(record: RunRecord): boolean {
  return record.status !== 'running' && record.finishedAt !== undefined;
}

/** Closes a dead run: unfinished stages `cancelled`, the run `abandoned` with an AbandonedError. */
export function abandonRun(record: RunRecord, nowMs: number): RunRecord {
  const at = new Date(nowMs).toISOString();
  const closed: RunRecord = structuredClone(record);
  for (const stage of Object.values(closed.stages)) {
    if (stage.status !== 'running' && stage.status !== 'pending') continue;
    stage.status = 'cancelled';
    stage.finishedAt = at;
    const attempt = stage.attempts.at(-1);
    if (attempt && !attempt.finishedAt) attempt.finishedAt = at;
  }
  const who = closed.owner ? describeOwner(closed.owner) : 'an unknown process (no owner recorded)';
  const error = new AbandonedError(
    `run ${closed.runId} of '${closed.pipeline}' was abandoned: its process (${who}) died without finishing it; rerun the pipeline (weir run ${closed.pipeline})`,
  );
  return { ...closed, status: 'abandoned', finishedAt: at, durationMs: Math.max(0, nowMs - Date.parse(closed.startedAt)), error: toErrorRecord(error) };
}

/** How a read shows an active run whose owner is gone, before recovery has written anything. */
export function asAbandoned(record: RunRecord): RunRecord {
  return { ...record, status: 'abandoned' };
}
