/**
 * A separate process recording runs on the git ledger, for the multi-writer test:
 *
 *   finish <clone dir> <pipeline> <worker> <count>   on 'go' from stdin, finish the worker's runs (worker-runs.ts)
 */
import { createGit } from '../../src/adapters/git.ts';
import { GitLedgerStore } from '../../src/ledger/git-ledger-store.ts';
import { GIT_ENV } from './git-fixtures.ts';
import { workerRuns } from './worker-runs.ts';

const [mode, dir, pipeline, worker, count] = process.argv.slice(2);
if (mode !== 'finish') throw new Error(`unknown mode '${mode}'`);
const store = new GitLedgerStore(await createGit(dir!, { env: GIT_ENV }));
// Start together: print 'ready', wait for the test's 'go' on stdin, so the finishes overlap.
process.stdout.write('ready\n');
await new Promise((go) => process.stdin.once('data', go));
process.stdin.destroy();
for (const { record, commit } of workerRuns(pipeline!, Number(worker), Number(count))) {
  await store.finishRun(record, commit);
  // Finishing again (a retried finalize) must add nothing.
  await store.finishRun(record, commit);
}
