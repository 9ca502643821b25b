/**
 * A separate process driving a real FsLedgerStore, for the multi-process ledger tests:
 *
 *   finish <dir> <pipeline> <worker> <count>   finish the worker's runs (worker-runs.ts) on 'go' from stdin
 *   lease <dir> <pipeline> <maxActive> <runId> try to take a lease, print the result, hold it until stdin closes
 *   crash <dir> <runId>                        finish one run, SIGKILLed after step $WEIR_TEST_KILL_AT
 */
import { hostname } from 'node:os';
import { FsLedgerStore } from '../../src/ledger/fs-ledger-store.ts';
import type { LedgerStep } from '../../src/ledger/ledger-step.ts';
import { activeRun, files, finishedRun } from './ledger-fixtures.ts';
import { workerRuns } from './worker-runs.ts';

const [mode, dir, ...args] = process.argv.slice(2);
const me = (runId: string) => {
  const now = new Date().toISOString();
  return { runId, host: hostname(), pid: process.pid, startedAt: now, heartbeatAt: now };
};

if (mode === 'finish') {
  const [pipeline, worker, count] = args;
  const store = new FsLedgerStore(dir);
  // Start together: print 'ready', wait for the test's 'go' on stdin, so the finishes overlap.
  process.stdout.write('ready\n');
  await new Promise((go) => process.stdin.once('data', go));
  process.stdin.destroy();
  for (const { record, commit } of workerRuns(pipeline, Number(worker), Number(count))) {
    await store.saveActive({ ...record, status: 'running', owner: me(record.runId) });
    await store.finishRun(record, commit);
  }
} else if (mode === 'lease') {
  const [pipeline, maxActive, runId] = args;
  const result = await new FsLedgerStore(dir).acquireLease(pipeline, me(runId), { maxActive: Number(maxActive) });
  process.stdout.write(`${JSON.stringify({ acquired: result.acquired })}\n`);
  process.stdin.resume();
  await new Promise((done) => process.stdin.on('end', done));
} else if (mode === 'crash') {
  const [runId] = args;
  const killAt = process.env.WEIR_TEST_KILL_AT as LedgerStep | undefined;
  const store = new FsLedgerStore(dir, { hooks: { afterStep: (step) => void (step === killAt && process.kill(process.pid, 'SIGKILL')) } });
  await store.saveActive(activeRun(runId, me(runId)));
  await store.finishRun(finishedRun(runId), { processedFiles: files('f1', 'f2', 'f3'), watermarks: { cursor: '3' } });
} else {
  throw new Error(`unknown mode '${mode}'`);
}
