/**
 * The CLI's composition root: the one place that constructs adapters (the ledger store, the clock,
 * the stage kinds) and hands them to use cases as one dependencies object.
 */
import { join } from 'node:path';
import { findPipeline } from '../definitions/discover.ts';
import { FsLedgerStore } from '../ledger/fs-ledger-store.ts';
import { defaultStageKinds, type StageKindRegistry } from '../stages/registry.ts';

export interface CliDeps {
  ledger: FsLedgerStore;
  clock: () => Date;
  kinds: StageKindRegistry;
  /** Whether the project defines a pipeline of this name (by file name or `name:`). */
  isPipeline: (name: string) => Promise<boolean>;
}

/** Adapters for a project at `root`: the local ledger lives in `<root>/.weir/ledger`. */
export function createCliDeps(root: string): CliDeps {
  return {
    ledger: new FsLedgerStore(join(root, '.weir', 'ledger')),
    clock: () => new Date(),
    kinds: defaultStageKinds(),
    isPipeline: async (name) => (await findPipeline(name, root)).found,
  };
}
