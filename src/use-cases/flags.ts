/**
 * `weir flags` (gates issue): list the ledger's flags, set and unset them by hand. Flags are what
 * `gate` stages wait on; a stage's `sets:` writes them when its run commits (run-pipeline.ts).
 */
import { ConfigError } from '../model/errors.ts';
import { NAME_PATTERN } from '../model/pipeline.ts';
import { GLOBAL_FLAG_SCOPE, type Flag, type FlagWrite } from '../ledger/flags.ts';
import type { LedgerStore } from '../ledger/ledger-store.ts';
import type { RunRecord } from '../ledger/run-record.ts';
import { findParkedRun } from './parked-runs.ts';

/** Flags of one pipeline (and the global ones it sees), or of every scope when no pipeline is given. */
export async function listFlags(ledger: Pick<LedgerStore, 'readFlags' | 'pipelines'>, pipeline?: string): Promise<Flag[]> {
  const scopes = pipeline ? [GLOBAL_FLAG_SCOPE, pipeline] : [GLOBAL_FLAG_SCOPE, ...(await ledger.pipelines())];
  return (await Promise.all(scopes.map((scope) => ledger.readFlags(scope)))).flat();
}

export interface FlagChange {
  /** Name and value pairs to set; names only (value undefined) to unset. */
  flags: { name: string; value?: unknown }[];
  unset: boolean;
  /** Default: global. */
  pipeline?: string;
  key?: string;
  by: string;
}

export interface FlagChangeResult {
  written: FlagWrite[];
  /** The pipeline's parked run, which its next trigger resumes (undefined for global flags or none parked). */
  parked?: RunRecord;
}

export async function changeFlags(change: FlagChange, deps: { ledger: Pick<LedgerStore, 'setFlags' | 'listRuns'>; now: () => Date }): Promise<FlagChangeResult> {
  for (const { name } of change.flags) {
    if (!NAME_PATTERN.test(name)) throw new ConfigError(`flag name '${name}' is not valid: use letters, digits, _ and -, starting with a letter or _`);
  }
  const at = deps.now().toISOString();
  const scope = change.pipeline ?? GLOBAL_FLAG_SCOPE;
  const key = change.key === undefined ? {} : { key: change.key };
  const written: FlagWrite[] = change.flags.map(({ name, value }) => (change.unset ? { scope, name, ...key, by: change.by, at, unset: true } : { scope, name, ...key, by: change.by, at, value }));
  await deps.ledger.setFlags(written);
  const parked = change.pipeline ? await findParkedRun(deps.ledger, change.pipeline) : undefined;
  return { written, parked };
}
