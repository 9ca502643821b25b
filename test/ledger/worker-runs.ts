/** The runs a ledger worker process finishes, shared with the test that checks the result. */
import { newRunId } from '../../src/ledger/run-id.ts';
import type { RunRecord } from '../../src/ledger/run-record.ts';
import type { CommittedRun, StateCommit } from '../../src/model/state.ts';
import { finishedRun } from './ledger-fixtures.ts';

export interface WorkerRun {
  record: RunRecord;
  commit: StateCommit;
}

const BASE_MS = Date.parse('2026-11-20T00:00:00.000Z');

/** Run `i` of `worker`: its own files, a file every worker shares, and watermarks that grow. */
export function workerRuns(pipeline: string, worker: number, count: number): WorkerRun[] {
  return Array.from({ length: count }, (_, i) => {
    const startedMs = BASE_MS + i * 60_000 + worker * 1000;
    const runId = newRunId(startedMs, () => `w${worker}i${i}`);
    const record = finishedRun(runId, { pipeline, startedAt: new Date(startedMs).toISOString() });
    const hashes = [`${pipeline}-w${worker}-${i}`, `shared-${i % 5}`];
    const commit: StateCommit = {
      processedFiles: hashes.map((hash) => ({ hash, path: `in/${hash}.csv`, bytes: 1 })),
      watermarks: { cursor: String(worker * 1000 + i), [`w${worker}`]: new Date(startedMs).toISOString() },
    };
    return { record, commit };
  });
}

export function asCommitted(runs: WorkerRun[]): CommittedRun[] {
  return runs.map(({ record, commit }) => ({ runId: record.runId, at: record.finishedAt!, commit }));
}
