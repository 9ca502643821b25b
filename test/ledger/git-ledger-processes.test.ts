/** Many processes, on many clones, recording runs on one ledger branch at once. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { emptyPipelineState, foldCommits } from '../../src/model/state.ts';
import { cloneOf, createBareRemote, ledgerLog, openStore } from './git-fixtures.ts';
import { asCommitted, workerRuns } from './worker-runs.ts';

const NODE = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'node');
const WORKER = join(import.meta.dirname, 'git-ledger-worker.ts');
const RUNS_EACH = 3;

function startWorker(args: string[]): { child: ChildProcess; ready: Promise<void>; exit: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(NODE, [WORKER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const ready = new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { child, ready, exit };
}

describe('many writers on one ledger branch', () => {
  it('9 processes finishing at once, on one pipeline and on separate ones, record every run once and state equal to the fold', async () => {
    const bare = await createBareRemote();
    // Workers 0–5 share a pipeline; 6 and 7 have one each; 8 shares worker 5's clone (two processes, one .git).
    const plan = [0, 1, 2, 3, 4, 5].map((w) => ({ pipeline: 'shared', worker: w })).concat([
      { pipeline: 'solo-a', worker: 6 },
      { pipeline: 'solo-b', worker: 7 },
      { pipeline: 'shared', worker: 8 },
    ]);
    const clones = await Promise.all(plan.slice(0, 8).map(() => cloneOf(bare)));
    const workers = plan.map(({ pipeline, worker }) => startWorker(['finish', clones[worker === 8 ? 5 : worker]!, pipeline, String(worker), String(RUNS_EACH)]));
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.child.stdin!.write('go\n');
    const exits = await Promise.all(workers.map((w) => w.exit));
    expect(exits.map((e) => [e.code, e.stderr])).toEqual(plan.map(() => [0, '']));

    expect(await ledgerLog(bare)).toHaveLength(plan.length * RUNS_EACH);
    const store = await openStore(await cloneOf(bare));
    await store.refresh();
    for (const pipeline of ['shared', 'solo-a', 'solo-b']) {
      const expected = plan.filter((p) => p.pipeline === pipeline).flatMap((p) => workerRuns(pipeline, p.worker, RUNS_EACH));
      const listed = (await store.listRuns({ pipeline })).map((r) => r.runId);
      expect(listed.length).toBe(expected.length);
      expect(new Set(listed)).toEqual(new Set(expected.map((r) => r.record.runId)));
      expect(await store.readState(pipeline)).toEqual(foldCommits(emptyPipelineState(), asCommitted(expected)));
    }
  }, 120_000);
});
