import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { FsLedgerStore } from '../../src/ledger/fs-ledger-store.ts';
import { MemoryLedgerStore } from '../../src/ledger/memory-ledger-store.ts';
import { describeLedgerContract } from './contract.ts';
import { tempDir } from './ledger-fixtures.ts';

const V1_FIXTURE = join(import.meta.dirname, 'fixtures', 'v1');

describeLedgerContract('FsLedgerStore', {
  create: async (liveness) => new FsLedgerStore(await tempDir(), { liveness }),
  openV1: async (liveness) => {
    const dir = await tempDir();
    await cp(V1_FIXTURE, dir, { recursive: true });
    return new FsLedgerStore(dir, { liveness });
  },
});

describeLedgerContract('MemoryLedgerStore', {
  create: async (liveness) => new MemoryLedgerStore({ liveness }),
});
