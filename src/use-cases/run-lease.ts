/**
 * One active run per pipeline per ledger (or `max_active_runs`): the run holds a lease in the
 * ledger for as long as it runs, renews its heartbeat, and hands it back at the end. A run that
 * finds the lease held fails with RunConflictError naming the holder, or waits for it (`--wait`).
 */
import { readFileSync } from 'node:fs';
import { CancelledError, RunConflictError } from '../model/errors.ts';
import type { Lease, LeaseOwner } from '../ledger/ledger-store.ts';
import type { RunDeps } from './run-deps.ts';

/** How often a running run renews its lease; the ledger treats an owner silent for 60 s as gone. */
export const HEARTBEAT_INTERVAL_MS = 10_000;
/** How often `--wait` looks at the lease again. */
const WAIT_POLL_MS = 1_000;

export interface HeldLease {
  lease: Lease;
  owner: LeaseOwner;
  release(): Promise<void>;
}

/**
 * This process's group id when it leads its group (so recovery may kill the whole group after it
 * died); undefined otherwise — killing a group led by a shell or npm would take unrelated processes.
 */
function ownProcessGroup(): number | undefined {
  try {
    // /proc/self/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces, so split after the ')'.
    const fields = readFileSync('/proc/self/stat', 'utf8').split(')').pop()!.trim().split(' ');
    const pgrp = Number(fields[2]);
    return pgrp === process.pid ? pgrp : undefined;
  } catch {
    return undefined;
  }
}

function describeHolders(pipeline: string, holders: readonly LeaseOwner[], maxActive: number): string {
  const list = holders.map((h) => `run ${h.runId} on ${h.host} (pid ${h.pid}${h.ciRunId ? `, CI run ${h.ciRunId}` : ''}) since ${h.startedAt}`).join('; ');
  return (
    `pipeline '${pipeline}' is already running (max_active_runs: ${maxActive}): ${list || 'a run holds its lease'}. ` +
    `Wait for it with --wait, or raise max_active_runs in the pipeline if its runs are safe to overlap`
  );
}

export async function acquireRunLease(
  deps: RunDeps,
  run: { pipeline: string; runId: string; maxActive: number; wait: boolean; signal?: AbortSignal },
): Promise<HeldLease> {
  const now = () => new Date(deps.clock.now()).toISOString();
  const owner: LeaseOwner = { runId: run.runId, host: deps.host.hostname, pid: deps.host.pid, pgid: ownProcessGroup(), startedAt: now(), ciRunId: deps.host.ciRunId, heartbeatAt: now() };
  const poll = new AbortController();
  const signal = run.signal ? AbortSignal.any([run.signal, poll.signal]) : poll.signal;
  while (true) {
    const result = await deps.ledger.acquireLease(run.pipeline, { ...owner, heartbeatAt: now() }, { maxActive: run.maxActive });
    if (result.acquired) return hold(deps, result.lease);
    if (!run.wait) throw new RunConflictError(describeHolders(run.pipeline, result.holders, run.maxActive));
    if (signal.aborted) throw signal.reason ?? new CancelledError('cancelled while waiting for the lease');
    await deps.clock.sleep(WAIT_POLL_MS, signal).catch(() => undefined);
    if (signal.aborted) throw signal.reason ?? new CancelledError('cancelled while waiting for the lease');
  }
}

function hold(deps: RunDeps, first: Lease): HeldLease {
  let lease = first;
  const timer = setInterval(() => {
    deps.ledger
      .renewLease(lease)
      .then((result) => {
        if (result.renewed) lease = result.lease;
      })
      .catch(() => undefined);
  }, HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return {
    get lease() {
      return lease;
    },
    owner: first.owner,
    async release() {
      clearInterval(timer);
      await deps.ledger.releaseLease(lease);
    },
  };
}
