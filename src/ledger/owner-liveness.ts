/**
 * Whether the process that owns a run or a lease is still there. Injected into the stores, so tests
 * decide which pids are alive and what time it is.
 */
import { hostname } from 'node:os';
import type { LeaseOwner } from './ledger-store.ts';

export interface OwnerLiveness {
  /** This machine's name, compared with an owner's `host`. */
  host: string;
  now(): number;
  /** An owner whose heartbeat is older than this is gone, wherever it runs. */
  ttlMs: number;
  isPidAlive(pid: number): boolean;
}

/** Default heartbeat TTL: a run renews its lease well within it (every few seconds). */
export const DEFAULT_LEASE_TTL_MS = 60_000;

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Kills what is left of a dead run's process group (its `command` children); a group already gone
 * is fine. For `recover({ killProcessGroup })` on this machine.
 */
export function killProcessGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export function localOwnerLiveness(ttlMs = DEFAULT_LEASE_TTL_MS): OwnerLiveness {
  return { host: hostname(), now: Date.now, ttlMs, isPidAlive };
}

/**
 * Gone: its pid is dead on this host, or it has been silent for longer than the TTL. `heartbeatAt`
 * may be overridden by a fresher one (the lease of the same run).
 */
export function isOwnerGone(owner: LeaseOwner, liveness: OwnerLiveness, heartbeatAt = owner.heartbeatAt): boolean {
  if (owner.host === liveness.host && !liveness.isPidAlive(owner.pid)) return true;
  return liveness.now() - Date.parse(heartbeatAt) > liveness.ttlMs;
}

/** The owner described for people: `pid 4242 on host runner-7`. */
export function describeOwner(owner: LeaseOwner): string {
  return `pid ${owner.pid} on host ${owner.host}${owner.ciRunId ? ` (CI run ${owner.ciRunId})` : ''}`;
}

/** The same run in the same process (a lease's heartbeat may differ). */
export function isSameOwner(a: LeaseOwner, b: LeaseOwner): boolean {
  return a.runId === b.runId && a.host === b.host && a.pid === b.pid;
}
