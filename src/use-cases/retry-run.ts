/**
 * The `retry` use case: a new attempt of a run that did not succeed. Its failed, cancelled or
 * abandoned stages and everything downstream of them run again; the stages that succeeded are
 * reused (their outputs restored from the run's folder), with the run's params and interval.
 * Built on `runPipeline({ resume })`; the attempt is recorded with `retryOf` (the first run's id)
 * and `attempt` (2, 3, …), so `weir history <run id>` lists the attempts together.
 */
import { ConfigError } from '../model/errors.ts';
import type { LedgerStore } from '../ledger/ledger-store.ts';
import type { RunRecord } from '../ledger/run-record.ts';
import type { RunDeps } from './run-deps.ts';
import { failedFolderKey, openOrRestoreRunFolder } from './kept-run-folders.ts';
import { runPipeline, type RunRequest, type RunSummary } from './run-pipeline.ts';

/** Refused: the run is unknown, still running, or one of its attempts already succeeded. Nothing ran. */
export class RetryRefusedError extends ConfigError {}

export interface RunAttempts {
  /** The first run's id: what every attempt's `retryOf` names. */
  firstRunId: string;
  /** Every attempt of the run, the first one first. */
  attempts: RunRecord[];
}

/** The attempts of the run `runId` belongs to (it may itself be a retry). */
export async function findAttempts(ledger: Pick<LedgerStore, 'getRun' | 'listRuns'>, runId: string): Promise<RunAttempts | undefined> {
  const run = await ledger.getRun(runId);
  if (!run) return undefined;
  const firstRunId = run.retryOf ?? run.runId;
  const runs = await ledger.listRuns({ pipeline: run.pipeline });
  const attempts = runs.filter((r) => r.runId === firstRunId || r.retryOf === firstRunId).sort((a, b) => attemptOf(a) - attemptOf(b));
  return { firstRunId, attempts };
}

function attemptOf(run: RunRecord): number {
  return run.attempt ?? 1;
}

/** The attempt a retry continues (the latest), or a refusal saying why nothing is to be retried. */
export async function retryTarget(ledger: Pick<LedgerStore, 'getRun' | 'listRuns'>, runId: string): Promise<{ resume: RunRecord; firstRunId: string; attempt: number }> {
  const found = await findAttempts(ledger, runId);
  if (!found) throw new RetryRefusedError(`retry: no run '${runId}' in the ledger; 'weir history' lists the runs`);
  const { firstRunId, attempts } = found;
  const succeeded = attempts.find((r) => r.status === 'succeeded');
  if (succeeded) {
    const which = succeeded.runId === firstRunId ? '' : ` (attempt ${attemptOf(succeeded)}: run ${succeeded.runId})`;
    throw new RetryRefusedError(`retry: run ${firstRunId} of '${succeeded.pipeline}' succeeded${which}; there is nothing to retry (to run its interval again: weir run ${succeeded.pipeline} --interval ${succeeded.interval.start}..${succeeded.interval.end})`);
  }
  const running = attempts.find((r) => r.status === 'running');
  if (running) throw new RetryRefusedError(`retry: run ${running.runId} of '${running.pipeline}' is still running; wait for it to finish, then retry`);
  // gates ↓ a parked run is not over: the next trigger resumes it.
  const parked = attempts.find((r) => r.status === 'waiting');
  if (parked) throw new RetryRefusedError(`retry: run ${parked.runId} of '${parked.pipeline}' is parked on ${parked.waitingOn?.join(', ') ?? 'a gate'}; set the flag it waits for ('weir flags set …') and 'weir run ${parked.pipeline}' resumes it`);
  const latest = attempts.at(-1)!;
  return { resume: latest, firstRunId, attempt: Math.max(...attempts.map(attemptOf)) + 1 };
}

/** Runs the next attempt of `runId`. `request.pipeline` must be the run's pipeline. */
export async function retryRun(runId: string, request: Omit<RunRequest, 'resume' | 'trigger' | 'interval' | 'params' | 'only' | 'from'>, deps: RunDeps): Promise<RunSummary> {
  const target = await retryTarget(deps.ledger, runId);
  if (target.resume.pipeline !== request.pipeline.spec.name) {
    throw new RetryRefusedError(`retry: run ${runId} belongs to '${target.resume.pipeline}', not '${request.pipeline.spec.name}'`);
  }
  // On a runner that keeps nothing, the failed attempt's folder comes back from the cache.
  await openOrRestoreRunFolder(deps, target.resume, failedFolderKey(target.resume));
  return runPipeline({ ...request, resume: target.resume.runId, trigger: 'retry', retryOf: target.firstRunId, attempt: target.attempt }, deps);
}
