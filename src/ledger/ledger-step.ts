/**
 * Named points between the ledger's writes. The fs store calls `hooks.afterStep` at each, so a test
 * can kill the process at an exact point (never by timing) and prove that recovery loses nothing.
 */
export type LedgerStep =
  /** A succeeded run's commit is durable in `pending/<run id>.json`; its run file is not yet written. */
  | 'pending-written'
  /** The run file `runs/<YYYY-MM>/<run id>.json` exists. */
  | 'run-linked'
  /** `state.json` holds the pending commits it applied (listed in `applied`). */
  | 'snapshot-written'
  /** The applied pending markers are deleted. */
  | 'markers-deleted'
  /** The run's active record is removed. */
  | 'active-removed';

export const LEDGER_STEPS: readonly LedgerStep[] = ['pending-written', 'run-linked', 'snapshot-written', 'markers-deleted', 'active-removed'];

export interface LedgerHooks {
  afterStep?(step: LedgerStep): void | Promise<void>;
}
