/**
 * Parked runs (gates issue). A run whose gate is not met ends its process with the run `waiting`:
 * its record stays in the ledger as an active record without an owner (recovery leaves it alone),
 * and its folder keeps its event log and database. The next trigger finds it (`findParkedRun`),
 * claims it under the lease (`claimParkedRun`) and continues it with the same run id.
 */
import { ConfigError, RunConflictError } from '../model/errors.ts';
import type { StateCommit } from '../model/state.ts';
import type { LedgerStore } from '../ledger/ledger-store.ts';
import type { RunRecord } from '../ledger/run-record.ts';
import type { RunDeps, RunWorkspace } from './run-deps.ts';

/** The oldest parked run of a pipeline: triggers resume runs in the order they parked. */
export async function findParkedRun(ledger: Pick<LedgerStore, 'listRuns'>, pipeline: string): Promise<RunRecord | undefined> {
  const unfinished = await ledger.listRuns({ pipeline, unfinished: true });
  return unfinished.filter((r) => r.status === 'waiting').at(-1);
}

/** Saves a parked run's record without an owner: no process runs it now, and none should be waited for. */
export async function parkRun(ledger: Pick<LedgerStore, 'saveActive'>, record: RunRecord): Promise<void> {
  const { owner: _owner, ...parked } = record;
  await ledger.saveActive(parked);
}

/**
 * Called with the lease held: the run must still be parked (a trigger that won the race before us
 * resumed it already), and its folder must be on this machine. Returns its workspace.
 */
export async function claimParkedRun(deps: Pick<RunDeps, 'ledger' | 'workspaces'>, parked: RunRecord): Promise<RunWorkspace> {
  const current = await deps.ledger.getRun(parked.runId);
  if (current?.status !== 'waiting') {
    throw new RunConflictError(
      `run ${parked.runId} of '${parked.pipeline}' is no longer parked (it is ${current?.status ?? 'gone'}): another trigger resumed it; see 'weir history ${parked.pipeline}'`,
    );
  }
  const workspace = await deps.workspaces.open(parked.pipeline, parked.runId);
  if (!workspace) {
    throw new ConfigError(
      `parked run ${parked.runId} of '${parked.pipeline}' cannot resume here: its run folder is not on this machine (it parked elsewhere, or the folder was deleted); resume it on the machine where it parked`,
    );
  }
  return workspace;
}

/** Writes the flags a succeeded run's `sets:` produced (its commit's `flags`), after its record. */
export async function applyCommittedFlags(ledger: Pick<LedgerStore, 'setFlags'>, record: RunRecord, commit: StateCommit): Promise<void> {
  if (!commit.flags?.length) return;
  const at = record.finishedAt ?? new Date().toISOString();
  await ledger.setFlags(commit.flags.map((flag) => ({ ...flag, by: `run ${record.runId}`, at })));
}
