/**
 * Run folders kept between jobs where runs have a cache (GitHub Actions, whose runners keep
 * nothing): a parked run's folder, so a later trigger resumes it on another runner, and a failed
 * run's folder, so `weir retry` (the Action's `retry` command) reuses the stages that succeeded.
 * Cache entries are immutable: each key names one state of one folder.
 */
import type { RunRecord } from '../ledger/run-record.ts';
import type { RunDeps, RunWorkspace } from './run-deps.ts';

/** A parked run's folder, one entry per park (counted by its resumes). */
export function parkedFolderKey(record: Pick<RunRecord, 'pipeline' | 'runId' | 'resumes'>): string {
  return `weir-parked-${record.pipeline}-${record.runId}-${record.resumes?.length ?? 0}`;
}

/** The folder of a run that did not succeed, for its retry. */
export function failedFolderKey(record: Pick<RunRecord, 'pipeline' | 'runId'>): string {
  return `weir-run-${record.pipeline}-${record.runId}`;
}

/** Saves a run's folder under `key`, where there is a cache; a failure is a warning saying what is lost. */
export async function keepRunFolder(deps: Pick<RunDeps, 'stageCache'>, dir: string, key: string, warn: (message: string) => void, lost: string): Promise<void> {
  if (!deps.stageCache) return;
  await deps.stageCache.save([dir], key).catch((error: Error) => warn(`the run folder was not kept in the cache as ${key} (${error.message}): ${lost}`));
}

/** A run's folder on this machine, else restored from the cache under `key`; undefined when neither has it. */
export async function openOrRestoreRunFolder(deps: Pick<RunDeps, 'workspaces' | 'stageCache'>, record: Pick<RunRecord, 'pipeline' | 'runId'>, key: string): Promise<RunWorkspace | undefined> {
  const here = await deps.workspaces.open(record.pipeline, record.runId);
  if (here) return here;
  const folder = deps.workspaces.folderOf?.(record.pipeline, record.runId);
  if (!deps.stageCache || folder === undefined) return undefined;
  const hit = await deps.stageCache.restore([folder], key).catch(() => false);
  return hit ? deps.workspaces.open(record.pipeline, record.runId) : undefined;
}
