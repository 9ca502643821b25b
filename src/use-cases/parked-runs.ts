/**
 * Parked runs (gates issue). A run whose gate is not met ends its process with the run `waiting`:
 * its record stays in the ledger as an active record without an owner (recovery leaves it alone),
 * and its folder keeps its event log and database. The next trigger finds it (`findParkedRun`),
 * claims it under the lease (`claimParkedRun`) and continues it with the same run id.
 */
import { AbandonedError, RunConflictError, toErrorRecord } from '../model/errors.ts';
import { abandonRun } from '../ledger/abandon-run.ts';
import { flagWritesOf } from '../ledger/flags.ts';
import type { StateCommit } from '../model/state.ts';
import type { LedgerStore } from '../ledger/ledger-store.ts';
import type { RunRecord } from '../ledger/run-record.ts';
import type { RunDeps, RunWorkspace } from './run-deps.ts';
import { keepRunFolder, openOrRestoreRunFolder, parkedFolderKey } from './kept-run-folders.ts';

/** The oldest parked run of a pipeline: triggers resume runs in the order they parked. */
export async function findParkedRun(ledger: Pick<LedgerStore, 'listRuns'>, pipeline: string): Promise<RunRecord | undefined> {
  const unfinished = await ledger.listRuns({ pipeline, unfinished: true });
  return unfinished.filter((r) => r.status === 'waiting').at(-1);
}

/**
 * Saves a parked run's record without an owner: no process runs it now, and none should be waited
 * for. Where runs have a cache (GitHub Actions), its folder goes there too, so the trigger that
 * resumes it may run on another runner. A folder that cannot be kept is a warning: the run then
 * resumes only where it parked.
 */
export async function parkRun(deps: Pick<RunDeps, 'ledger' | 'stageCache'>, record: RunRecord, workspace: RunWorkspace, warn: (message: string) => void): Promise<void> {
  const { owner: _owner, ...parked } = record;
  await deps.ledger.saveActive(parked);
  await keepRunFolder(deps, workspace.dir, parkedFolderKey(record), warn, `parked run ${record.runId} resumes only on this machine`);
}

/**
 * Called with the lease held: the run must still be parked (a trigger that won the race before us
 * resumed it already). Returns its workspace, or, when its folder is not on this machine (it parked
 * on another runner, or the folder was deleted), closes it as `abandoned` and returns that record:
 * a parked run that cannot resume must not block the pipeline's next runs.
 */
export async function claimParkedRun(deps: Pick<RunDeps, 'ledger' | 'workspaces' | 'clock' | 'stageCache'>, parked: RunRecord): Promise<{ workspace: RunWorkspace } | { abandoned: RunRecord }> {
  const current = await deps.ledger.getRun(parked.runId);
  if (current?.status !== 'waiting') {
    throw new RunConflictError(
      `run ${parked.runId} of '${parked.pipeline}' is no longer parked (it is ${current?.status ?? 'gone'}): another trigger resumed it; see 'weir history ${parked.pipeline}'`,
    );
  }
  const workspace = await openOrRestoreRunFolder(deps, parked, parkedFolderKey(parked));
  if (workspace) return { workspace };
  const error = new AbandonedError(
    `parked run ${parked.runId} of '${parked.pipeline}' could not resume: its run folder (outputs, database) is not on this machine (it parked on another runner, or the folder was deleted); ` +
      `it is closed as abandoned and the next trigger starts afresh (resume parked runs on the machine where they parked; in GitHub Actions the folder is kept in the Actions cache)`,
  );
  const abandoned = { ...abandonRun(current, deps.clock.now()), error: toErrorRecord(error) };
  for (const stage of Object.values(abandoned.stages)) if (stage.status === 'waiting') stage.status = 'cancelled';
  await deps.ledger.finishRun(abandoned);
  return { abandoned };
}

/**
 * Writes the flags a succeeded run's `sets:` produced (its commit's `flags`). Called after the
 * commit is durable on the active record and before the run file: a kill in between is recovered
 * as a succeeded run and recovery writes them again (recover-run.ts), so they are never lost.
 */
export async function applyCommittedFlags(ledger: Pick<LedgerStore, 'setFlags'>, record: RunRecord, commit: StateCommit): Promise<void> {
  if (!commit.flags?.length) return;
  await ledger.setFlags(flagWritesOf(record.runId, record.finishedAt ?? record.startedAt, commit.flags));
}
