/**
 * The `history` use case: past runs from the ledger, newest first, or one run by id (a unique
 * prefix is enough). Read-only.
 */
import type { LedgerStore } from '../ledger/ledger-store.ts';
import type { RunRecord } from '../ledger/run-record.ts';

export interface HistoryDeps {
  ledger: Pick<LedgerStore, 'listRuns' | 'pipelines'>;
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
  | { kind: 'run'; run: RunRecord }
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
  // A run id: matched here rather than with getRun, which takes the first of several prefixes.
  const matches = (await deps.ledger.listRuns()).filter((run) => run.runId.startsWith(target));
  const exact = matches.find((run) => run.runId === target);
  if (exact) return { kind: 'run', run: exact };
  if (matches.length === 1) return { kind: 'run', run: matches[0] };
  if (matches.length > 1) return { kind: 'ambiguous', target, matches: matches.slice(0, MAX_MATCHES_SHOWN).map((run) => run.runId) };
  return { kind: 'not_found', target, pipelines };
}
