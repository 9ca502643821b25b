/** Many processes on one ledger, and processes killed between its writes. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { FsLedgerStore } from '../../src/ledger/fs-ledger-store.ts';
import { LEDGER_STEPS } from '../../src/ledger/ledger-step.ts';
import { emptyPipelineState, foldCommits } from '../../src/model/state.ts';
import { idAt } from './contract.ts';
import { files, finishedRun, runEvents, tempDir } from './ledger-fixtures.ts';
import { asCommitted, workerRuns } from './worker-runs.ts';

const NODE = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'node');
const WORKER = join(import.meta.dirname, 'ledger-worker.ts');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function startWorker(args: string[], env: Record<string, string> = {}): { child: ChildProcess; firstLine: Promise<string>; exit: Promise<Exit> } {
  const child = spawn(NODE, [WORKER, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const firstLine = new Promise<string>((resolve) => {
    child.stdout!.on('data', (d) => {
      stdout += d;
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]);
    });
  });
  const exit = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, firstLine, exit };
}

async function allFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
}

describe('many processes on one ledger', () => {
  it('8 processes finishing 25 runs each, on shared and separate pipelines, lose nothing and repeat nothing', async () => {
    const dir = await tempDir();
    const plan = [0, 1, 2, 3, 4, 5].map((w) => ({ pipeline: 'shared', worker: w })).concat([{ pipeline: 'solo-a', worker: 6 }, { pipeline: 'solo-b', worker: 7 }]);
    const workers = plan.map(({ pipeline, worker }) => startWorker(['finish', dir, pipeline, String(worker), '25']));
    await Promise.all(workers.map((w) => w.firstLine));
    for (const w of workers) w.child.stdin!.write('go\n');
    const exits = await Promise.all(workers.map((w) => w.exit));
    expect(exits.map((e) => [e.code, e.stderr])).toEqual(plan.map(() => [0, '']));
    const store = new FsLedgerStore(dir);
    for (const pipeline of ['shared', 'solo-a', 'solo-b']) {
      const expected = plan.filter((p) => p.pipeline === pipeline).flatMap((p) => workerRuns(pipeline, p.worker, 25));
      const listed = (await store.listRuns({ pipeline })).map((r) => r.runId);
      expect(listed.length).toBe(expected.length);
      expect(new Set(listed)).toEqual(new Set(expected.map((r) => r.record.runId)));
      expect(await store.readState(pipeline)).toEqual(foldCommits(emptyPipelineState(), asCommitted(expected)));
    }
    expect((await allFiles(dir)).filter((name) => name.endsWith('.tmp') || name === 'state.lock')).toEqual([]);
  }, 120_000);

  it.each([1, 3])('8 processes asking for a lease with maxActive %i: exactly that many get it', async (maxActive) => {
    const dir = await tempDir();
    const workers = Array.from({ length: 8 }, (_, i) => startWorker(['lease', dir, 'p', String(maxActive), `run-${i}`]));
    const results = (await Promise.all(workers.map((w) => w.firstLine))).map((line) => JSON.parse(line) as { acquired: boolean });
    expect(results.filter((r) => r.acquired)).toHaveLength(maxActive);
    expect(await new FsLedgerStore(dir).listLeases('p')).toHaveLength(maxActive);
    for (const w of workers) w.child.stdin!.end();
    expect((await Promise.all(workers.map((w) => w.exit))).map((e) => e.code)).toEqual(workers.map(() => 0));
  }, 60_000);
});

describe('a process killed between two ledger writes', () => {
  it.each(LEDGER_STEPS)('killed after %s: recovery and the next run neither lose nor repeat a processed file', async (step) => {
    const dir = await tempDir();
    const first = idAt(1);
    const killed = await startWorker(['crash', dir, first], { WEIR_TEST_KILL_AT: step }).exit;
    expect(killed.signal).toBe('SIGKILL');

    const store = new FsLedgerStore(dir);
    await store.recover({ loadEvents: async (_pipeline, runId) => (runId === first ? runEvents(first) : undefined) });
    // The next run processes only the files the ledger does not know, and records them.
    const state = await store.readState('p');
    const next = ['f1', 'f2', 'f3', 'f4'].filter((hash) => !(hash in state.processedFiles));
    expect(next).toEqual(['f4']);
    const second = idAt(2);
    await store.finishRun(finishedRun(second), { processedFiles: files(...next), watermarks: { cursor: '4' } });

    const runs = await store.listRuns();
    expect(runs.map((r) => [r.runId, r.status])).toEqual([
      [second, 'succeeded'],
      [first, 'succeeded'],
    ]);
    const after = await store.readState('p');
    expect(Object.fromEntries(Object.entries(after.processedFiles).map(([hash, f]) => [hash, f.runId]))).toEqual({ f1: first, f2: first, f3: first, f4: second });
    expect(after.watermarks).toEqual({ cursor: '4' });
    expect((await allFiles(dir)).filter((name) => name.endsWith('.tmp') || name === 'state.lock')).toEqual([]);
  }, 30_000);
});
