/**
 * Recovery of one active run, the same for every store: if its owner is gone, rebuild the record
 * from its events, close it (abandoned, or finished as its events say), kill its leftover process
 * group, record it and free its lease.
 */
import type { StateCommit } from '../model/state.ts';
import { flagWritesOf, type FlagWrite } from './flags.ts';
import { abandonRun, hasFinished, latestRecord } from './abandon-run.ts';
import type { LeaseOwner, RecoveredRun, RecoverOptions } from './ledger-store.ts';
import type { OwnerLiveness } from './owner-liveness.ts';
import { isActiveRunGone } from './run-query.ts';
import type { RunRecord } from './run-record.ts';

export interface RecoveryDeps {
  liveness: OwnerLiveness;
  options: RecoverOptions;
  /** The commit the run made durable before it died, if it got that far. */
  pendingCommit(): Promise<StateCommit | undefined>;
  /** Records the run; false when another process recorded it first. */
  finish(record: RunRecord, commit: StateCommit | undefined): Promise<boolean>;
  dropPendingCommit(): Promise<void>;
  /** Writes the flags of a recovered succeeded run's `sets:` (gates; idempotent: the same values again). */
  setFlags?(writes: FlagWrite[]): Promise<void>;
}

async function killLeftovers(owner: LeaseOwner | undefined, deps: RecoveryDeps): Promise<number | undefined> {
  if (owner?.pgid === undefined || owner.host !== deps.liveness.host || !deps.options.killProcessGroup) return undefined;
  await deps.options.killProcessGroup(owner.pgid);
  return owner.pgid;
}

/** Undefined when the run's owner is alive, or another process recovered it first. */
export async function recoverActiveRun(active: RunRecord, leases: LeaseOwner[], deps: RecoveryDeps): Promise<RecoveredRun | undefined> {
  // A parked run (gates) has no process on purpose: it waits for a trigger, not for recovery.
  if (active.status === 'waiting') return undefined;
  if (!isActiveRunGone(active, leases, deps.liveness)) return undefined;
  const latest = latestRecord(active, await deps.options.loadEvents(active.pipeline, active.runId));
  // Died while being recorded: the run ended, so keep its status and the commit it made durable.
  const finished = hasFinished(latest);
  const record = finished ? latest : abandonRun(latest, deps.liveness.now());
  const commit = record.status === 'succeeded'
    ? ((await deps.pendingCommit()) ?? active.commit ?? (await deps.options.loadCommit?.(active.pipeline, active.runId)))
    : undefined;
  const killedProcessGroup = await killLeftovers(active.owner, deps);
  // Gates: a run killed between its commit and its run file may not have written its flags yet.
  if (commit?.flags?.length) await deps.setFlags?.(flagWritesOf(record.runId, record.finishedAt ?? record.startedAt, commit.flags));
  const linked = await deps.finish(record, commit);
  if (!linked) return undefined;
  if (record.status !== 'succeeded') await deps.dropPendingCommit();
  return { pipeline: record.pipeline, runId: record.runId, status: record.status, owner: active.owner, killedProcessGroup };
}
