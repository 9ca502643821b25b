/** Pure helpers shared by the stores: query filters, ordering, and how a read shows a dead run. */
import { asAbandoned, lastActivity } from './abandon-run.ts';
import type { LeaseOwner, RunQuery } from './ledger-store.ts';
import { isOwnerGone, type OwnerLiveness } from './owner-liveness.ts';
import { compareRunIds } from './run-id.ts';
import type { RunRecord } from './run-record.ts';

export function matchesQuery(record: RunRecord, query: RunQuery): boolean {
  if (query.status && record.status !== query.status) return false;
  if (query.unfinished && record.finishedAt !== undefined) return false;
  if (query.interval) {
    const { start, end } = query.interval;
    if (!(Date.parse(record.interval.start) < Date.parse(end) && Date.parse(start) < Date.parse(record.interval.end))) return false;
  }
  return true;
}

export const newestFirst = (a: RunRecord, b: RunRecord) => compareRunIds(b.runId, a.runId);

/**
 * Whether an active run's owner is gone. A lease of the same run may carry a fresher heartbeat. A
 * record without an owner (written by an older weir) is judged by its last activity alone.
 */
export function isActiveRunGone(record: RunRecord, leases: LeaseOwner[], liveness: OwnerLiveness): boolean {
  const owner: LeaseOwner = record.owner ?? { runId: record.runId, host: '', pid: 0, startedAt: record.startedAt, heartbeatAt: lastActivity(record) };
  const beats = [owner.heartbeatAt, ...leases.filter((l) => l.runId === record.runId).map((l) => l.heartbeatAt)];
  return isOwnerGone(owner, liveness, beats.sort().at(-1));
}

/** An active record as reads show it: `abandoned` once its owner is gone (nothing is written). */
export function presentActive(record: RunRecord, leases: LeaseOwner[], liveness: OwnerLiveness): RunRecord {
  return record.status === 'running' && isActiveRunGone(record, leases, liveness) ? asAbandoned(record) : record;
}

/** The newest `limit` records matching `query`, duplicates by run id dropped (the first wins). */
export function selectRuns(records: RunRecord[], query: RunQuery): RunRecord[] {
  const seen = new Set<string>();
  const unique = records.filter((r) => !seen.has(r.runId) && seen.add(r.runId) && matchesQuery(r, query));
  unique.sort(newestFirst);
  return query.limit === undefined ? unique : unique.slice(0, query.limit);
}
