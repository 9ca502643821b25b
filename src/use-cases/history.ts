/**
 * The `history` use case: past runs from the ledger, newest first, or one run by id (a unique
 * prefix is enough). Read-only.
 */
import { AmbiguousRunIdError } from '../ledger/errors.ts';
import type { LedgerStore } from '../ledger/ledger-store.ts';
import type { RunRecord } from '../ledger/run-record.ts';

export interface HistoryDeps {
  ledger: Pick<LedgerStore, 'listRuns' | 'pipelines' | 'getRun'>;
  /** Whether the project defines a pipeline of this name (it may have no runs yet). */
  isPipeline: (name: string) => Promise<boolean>;
}

export interface HistoryRequest {
  /** A pipeline name, a run id or a prefix of one; all pipelines when absent. */
  target?: string;
  /** Most runs to list. */
  limit: number;
}

export type HistoryResult =
  | { kind: 'runs'; runs: RunRecord[] }
  /** `attempts` (retry, backfill branch): every attempt of the run, the first first, when it was retried. */
  | { kind: 'run'; run: RunRecord; attempts?: RunRecord[] }
  /** Neither a pipeline with runs nor a run id; `pipelines` are those with runs. */
  | { kind: 'not_found'; target: string; pipelines: string[] }
  /** A run-id prefix matching several runs. */
  | { kind: 'ambiguous'; target: string; matches: string[] };

/** How many matching run ids an ambiguous prefix lists. */
const MAX_MATCHES_SHOWN = 10;

export async function readHistory(request: HistoryRequest, deps: HistoryDeps): Promise<HistoryResult> {
  const { target, limit } = request;
  const pipelines = await deps.ledger.pipelines();
  if (target === undefined || pipelines.includes(target) || (await deps.isPipeline(target))) {
    return { kind: 'runs', runs: await deps.ledger.listRuns({ pipeline: target, limit }) };
  }
  // A run id or a unique prefix of one: the ledger reads only what the prefix can match.
  try {
    const run = await deps.ledger.getRun(target);
    if (run) return { kind: 'run', run, ...(await attemptsOf(run, deps)) };
  } catch (error) {
    if (error instanceof AmbiguousRunIdError) return { kind: 'ambiguous', target, matches: error.matches.slice(0, MAX_MATCHES_SHOWN) };
    throw error;
  }
  return { kind: 'not_found', target, pipelines };
}

// retry (backfill branch) ↓ the attempts share the first run's id in `retryOf`.
async function attemptsOf(run: RunRecord, deps: HistoryDeps): Promise<{ attempts?: RunRecord[] }> {
  const first = run.retryOf ?? run.runId;
  const runs = await deps.ledger.listRuns({ pipeline: run.pipeline });
  const attempts = runs.filter((r) => r.runId === first || r.retryOf === first).sort((a, b) => (a.attempt ?? 1) - (b.attempt ?? 1));
  return attempts.length > 1 ? { attempts } : {};
}
