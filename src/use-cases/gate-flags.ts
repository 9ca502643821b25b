/** What a gate of a pipeline sees as `flags` (gates issue): the pipeline's and the global flags, for a key when given. */
import { flagsForGate, GLOBAL_FLAG_SCOPE } from '../ledger/flags.ts';
import type { LedgerStore } from '../ledger/ledger-store.ts';

export async function readGateFlags(ledger: Pick<LedgerStore, 'readFlags'>, pipeline: string, key?: string): Promise<Record<string, unknown>> {
  const [own, global] = await Promise.all([ledger.readFlags(pipeline), ledger.readFlags(GLOBAL_FLAG_SCOPE)]);
  return flagsForGate(own, global, key);
}
