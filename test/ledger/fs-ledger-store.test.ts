import { cp, mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsLedgerStore } from '../../src/ledger/fs-ledger-store.ts';
import { newRunId } from '../../src/ledger/run-id.ts';
import { applyEvent, foldEvents } from '../../src/ledger/run-record.ts';
import { idAt } from './contract.ts';
import { activeRun, fakeLiveness, files, finishedRun, owner, runEvents, tempDir } from './ledger-fixtures.ts';

const V1_FIXTURE = join(import.meta.dirname, 'fixtures', 'v1');

async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

describe('run records as a fold over events', () => {
  it('records attempts, rows and the final status', () => {
    const record = foldEvents(runEvents('r1', { status: 'failed' }))!;
    expect(record.status).toBe('failed');
    expect(record.stages.a).toMatchObject({ status: 'succeeded', rows: 3, table: 'a' });
    expect(record.stages.b).toMatchObject({ status: 'failed', error: { message: 'boom' } });
  });

  it('refuses events for a run that never started', () => {
    expect(() => applyEvent(undefined, { type: 'stage.started', runId: 'x', at: '', stage: 'a', attempt: 1 })).toThrow(/before run.started/);
  });
});

describe('FsLedgerStore on disk', () => {
  it('writes each finished run once under the day its id started, with no temp files and a version 2 snapshot', async () => {
    const dir = await tempDir();
    const store = new FsLedgerStore(dir, { liveness: fakeLiveness() });
    const id = idAt(1);
    await store.saveActive(activeRun(id, owner(id, process.pid)));
    await store.finishRun(finishedRun(id), { processedFiles: files('h1'), watermarks: { c: '1' } });
    const october = newRunId(Date.parse('2026-10-31T23:59:00.000Z'));
    await store.finishRun(finishedRun(october, { startedAt: '2026-10-31T23:59:00.000Z' }));
    expect(await tree(dir)).toEqual([`p/runs/2026-10/31/${october}.json`, `p/runs/2026-11/02/${id}.json`, 'p/state.json']);
    const snapshot = JSON.parse(await readFile(join(dir, 'p', 'state.json'), 'utf8'));
    expect(snapshot).toMatchObject({ version: 2, watermarks: { c: '1' }, applied: [id] });
    expect(JSON.parse(await readFile(join(dir, 'p', 'runs', '2026-11', '02', `${id}.json`), 'utf8')).commit).toEqual({ processedFiles: files('h1'), watermarks: { c: '1' } });
  });

  it('reads only as many run files as the limit needs', async () => {
    const dir = await tempDir();
    const store = new FsLedgerStore(dir, { liveness: fakeLiveness() });
    for (const n of [1, 2, 3]) await store.finishRun(finishedRun(idAt(n)));
    // Damage the oldest record: a read of it would throw.
    await writeFile(join(dir, 'p', 'runs', '2026-11', '02', `${idAt(1)}.json`), '{"torn');
    expect((await store.listRuns({ limit: 2 })).map((r) => r.runId)).toEqual([idAt(3), idAt(2)]);
    await expect(store.listRuns()).rejects.toThrow(/is not valid JSON/);
  });

  it('answers readState correctly while another process holds the compaction lock, and compacts once it is free', async () => {
    const dir = await tempDir();
    const liveness = fakeLiveness();
    liveness.alive.add(4242);
    const store = new FsLedgerStore(dir, { liveness });
    await store.finishRun(finishedRun(idAt(1)), { processedFiles: files('h1') });
    await writeFile(join(dir, 'p', 'state.lock'), JSON.stringify({ host: liveness.host, pid: 4242, at: liveness.nowMs }));
    await store.finishRun(finishedRun(idAt(2)), { processedFiles: files('h2'), watermarks: { c: '2' } });
    expect(await readdir(join(dir, 'p', 'pending'))).toEqual([`${idAt(2)}.json`]);
    expect(await store.readState('p')).toMatchObject({ watermarks: { c: '2' }, processedFiles: { h1: { runId: idAt(1) }, h2: { runId: idAt(2) } } });
    liveness.alive.delete(4242);
    await store.readState('p');
    expect(await readdir(join(dir, 'p', 'pending'))).toEqual([]);
    expect(await tree(dir)).not.toContain('p/state.lock');
  });

  it('ignores a pending commit whose run file was never written', async () => {
    const dir = await tempDir();
    const store = new FsLedgerStore(dir, { liveness: fakeLiveness() });
    await store.finishRun(finishedRun(idAt(1)));
    await mkdir(join(dir, 'p', 'pending'));
    await writeFile(join(dir, 'p', 'pending', `${idAt(2)}.json`), JSON.stringify({ runId: idAt(2), at: '2026-11-02T06:00:01.000Z', day: '2026-11/02', commit: { watermarks: { c: '9' } } }));
    expect((await store.readState('p')).watermarks).toEqual({});
  });

  it('recovery sweeps temp files older than a minute and stale active records of finished runs', async () => {
    const dir = await tempDir();
    const liveness = fakeLiveness();
    liveness.alive.add(process.pid);
    const store = new FsLedgerStore(dir, { liveness });
    const id = idAt(1);
    await store.finishRun(finishedRun(id));
    await mkdir(join(dir, 'p', 'active'), { recursive: true });
    await writeFile(join(dir, 'p', 'active', `${id}.json`), JSON.stringify(activeRun(id, owner(id, process.pid))));
    const old = join(dir, 'p', 'runs', '2026-11', '02', `.${id}.json.1.dead.tmp`);
    const fresh = join(dir, 'p', 'runs', '2026-11', '02', '.x.json.2.live.tmp');
    await writeFile(old, '');
    await writeFile(fresh, '');
    await utimes(old, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    expect(await store.recover({ loadEvents: async () => undefined })).toEqual([]);
    expect(await tree(dir)).toEqual([`p/runs/2026-11/02/.x.json.2.live.tmp`, `p/runs/2026-11/02/${id}.json`]);
  });

  it('migrates a first-format ledger once on recovery, keeping its state', async () => {
    const dir = await tempDir();
    await cp(V1_FIXTURE, dir, { recursive: true });
    const store = new FsLedgerStore(dir, { liveness: fakeLiveness() });
    const recovered = await store.recover({ loadEvents: async () => undefined });
    expect(recovered.map((r) => [r.runId, r.status])).toEqual([['20261101T060000Z-cc33', 'abandoned']]);
    expect(await tree(dir)).toEqual([
      'daily/runs/2026-10.jsonl.migrated',
      'daily/runs/2026-10/30/20261030T060000Z-aa11.json',
      'daily/runs/2026-10/31/20261031T060000Z-bb22.json',
      'daily/runs/2026-11/01/20261101T060000Z-cc33.json',
      'daily/state.json',
    ]);
    const id = idAt(1);
    await store.finishRun(finishedRun(id, { pipeline: 'daily' }), { processedFiles: files('h1'), watermarks: { cursor: '8' } });
    expect(Object.keys((await store.readState('daily')).processedFiles).sort()).toEqual(['h0', 'h1']);
    expect((await new FsLedgerStore(dir).listRuns()).map((r) => r.runId)).toEqual([id, '20261101T060000Z-cc33', '20261031T060000Z-bb22', '20261030T060000Z-aa11']);
  });
});
