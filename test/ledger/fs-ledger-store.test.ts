import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsLedgerStore } from '../../src/ledger/fs-ledger-store.ts';
import { applyEvent, foldEvents, type RunRecord } from '../../src/ledger/run-record.ts';
import type { RunEvent } from '../../src/model/events.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weir-ledger-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function events(runId: string, at: string, fail = false): RunEvent[] {
  return [
    { type: 'run.started', runId, at, pipeline: 'p', params: { n: 1 }, interval: { start: '2026-11-01T00:00:00.000Z', end: '2026-11-02T00:00:00.000Z' }, trigger: 'manual', stages: ['a', 'b'] },
    { type: 'stage.started', runId, at, stage: 'a', attempt: 1 },
    { type: 'stage.retrying', runId, at, stage: 'a', attempt: 1, delayMs: 500, error: { code: 'stage_failed', name: 'StageFailedError', message: 'HTTP 503' } },
    { type: 'stage.succeeded', runId, at, stage: 'a', attempt: 2, durationMs: 700, rows: 10, table: 'a' },
    fail
      ? { type: 'stage.failed', runId, at, stage: 'b', attempt: 1, durationMs: 5, error: { code: 'check_failed', name: 'CheckFailedError', message: 'not_null failed' } }
      : { type: 'stage.skipped', runId, at, stage: 'b', reason: 'condition_false' },
    { type: 'run.finished', runId, at, status: fail ? 'failed' : 'succeeded', durationMs: 800 },
  ];
}

describe('run records as a fold over events', () => {
  it('records attempts, retries, rows and the final status', () => {
    const record = foldEvents(events('r1', '2026-11-02T06:00:00.000Z'))!;
    expect(record.status).toBe('succeeded');
    expect(record.stages.a).toMatchObject({ status: 'succeeded', rows: 10, table: 'a' });
    expect(record.stages.a.attempts).toHaveLength(2);
    expect(record.stages.a.attempts[0]).toMatchObject({ attempt: 1, delayMs: 500, error: { message: 'HTTP 503' } });
    expect(record.stages.b).toMatchObject({ status: 'skipped', skipReason: 'condition_false' });
  });

  it('refuses events for a run that never started', () => {
    expect(() => applyEvent(undefined, { type: 'stage.started', runId: 'x', at: '', stage: 'a', attempt: 1 })).toThrow(/before run.started/);
  });
});

describe('FsLedgerStore', () => {
  it('keeps finished runs in month shards and lists them newest first', async () => {
    const store = new FsLedgerStore(dir);
    await store.finishRun(foldEvents(events('r1', '2026-10-31T23:00:00.000Z'))!);
    await store.finishRun(foldEvents(events('r2', '2026-11-01T01:00:00.000Z', true))!);
    expect(await readdir(join(dir, 'p', 'runs'))).toEqual(['2026-10.jsonl', '2026-11.jsonl']);
    const runs = await store.listRuns({ pipeline: 'p' });
    expect(runs.map((r) => [r.runId, r.status])).toEqual([
      ['r2', 'failed'],
      ['r1', 'succeeded'],
    ]);
    expect(await store.getRun('r2')).toMatchObject({ stages: { b: { status: 'failed' } } });
  });

  it('shows a run killed mid-way from its active record', async () => {
    const store = new FsLedgerStore(dir);
    const partial = foldEvents(events('r3', '2026-11-02T00:00:00.000Z').slice(0, 2))!;
    await store.saveActive(partial);
    const [run] = await store.listRuns();
    expect(run).toMatchObject({ runId: 'r3', status: 'running', stages: { a: { status: 'running' } } });
  });

  it('finishing a run twice records it once and applies its state once', async () => {
    const store = new FsLedgerStore(dir);
    const record = foldEvents(events('r4', '2026-11-02T00:00:00.000Z'))!;
    const commit = { processedFiles: [{ hash: 'h1', path: 'in/a.csv', bytes: 3 }], watermarks: { cursor: '42' } };
    await store.finishRun(record, commit);
    await store.finishRun(record, commit);
    expect(await store.listRuns()).toHaveLength(1);
    const state = await store.readState('p');
    expect(state.watermarks).toEqual({ cursor: '42' });
    expect(state.processedFiles.h1).toMatchObject({ path: 'in/a.csv', runId: 'r4' });
  });

  it('never applies the state commit of a failed run', async () => {
    const store = new FsLedgerStore(dir);
    await store.finishRun(foldEvents(events('r5', '2026-11-02T00:00:00.000Z', true))!, { watermarks: { cursor: '9' } });
    expect((await store.readState('p')).watermarks).toEqual({});
  });

  it('removes the active record when the run finishes and leaves no temp files', async () => {
    const store = new FsLedgerStore(dir);
    const record: RunRecord = foldEvents(events('r6', '2026-11-02T00:00:00.000Z'))!;
    await store.saveActive(record);
    await store.finishRun(record, { watermarks: { a: '1' } });
    expect(await readdir(join(dir, 'p', 'active'))).toEqual([]);
    expect((await readdir(join(dir, 'p'))).sort()).toEqual(['active', 'runs', 'state.json']);
  });

  it('skips an unreadable line instead of hiding all history', async () => {
    const store = new FsLedgerStore(dir);
    await store.finishRun(foldEvents(events('r7', '2026-11-02T00:00:00.000Z'))!);
    const shard = join(dir, 'p', 'runs', '2026-11.jsonl');
    await writeFile(shard, `{"torn\n${await readFile(shard, 'utf8')}`);
    expect((await store.listRuns()).map((r) => r.runId)).toEqual(['r7']);
  });
});
