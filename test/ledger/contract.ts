/**
 * The LedgerStore contract: every store (fs, memory, later git) runs these same tests.
 * `describeLedgerContract('fs', { create })` in a test file registers them.
 */
import { describe, expect, it } from 'vitest';
import { AmbiguousRunIdError } from '../../src/ledger/errors.ts';
import type { LedgerStore } from '../../src/ledger/ledger-store.ts';
import { newRunId } from '../../src/ledger/run-id.ts';
import { GLOBAL_FLAG_SCOPE } from '../../src/ledger/flags.ts';
import { activeRun, type FakeLiveness, fakeLiveness, files, finishedRun, owner, runEvents } from './ledger-fixtures.ts';

export interface ContractFactory {
  /** A fresh, empty store judging owners with `liveness`; cleaned up by the factory. */
  create(liveness: FakeLiveness): Promise<LedgerStore>;
  /** A store over a copy of test/ledger/fixtures/v1 (first-format ledger), if the store can read one. */
  openV1?(liveness: FakeLiveness): Promise<LedgerStore>;
}

/** Run id `n` minutes after 2026-11-02 06:00 UTC: ids made in order sort in order. */
export const idAt = (n: number, suffix = 'a1b2c3') => newRunId(Date.parse('2026-11-02T06:00:00.000Z') + n * 60_000, () => suffix);

export function describeLedgerContract(name: string, factory: ContractFactory): void {
  const setup = async () => {
    const liveness = fakeLiveness();
    return { liveness, store: await factory.create(liveness) };
  };

  describe(`LedgerStore contract: ${name}`, () => {
    describe('finished runs and state', () => {
      it('records a run finished twice once and applies its commit once', async () => {
        const { store } = await setup();
        const run = finishedRun(idAt(1));
        await store.finishRun(run, { processedFiles: files('h1'), watermarks: { cursor: '42' } });
        await store.finishRun(run, { processedFiles: files('h1', 'h2'), watermarks: { cursor: '43' } });
        expect((await store.listRuns()).map((r) => r.runId)).toEqual([run.runId]);
        const state = await store.readState('p');
        expect(state.watermarks).toEqual({ cursor: '42' });
        expect(Object.keys(state.processedFiles)).toEqual(['h1']);
        expect(state.processedFiles.h1).toMatchObject({ runId: run.runId, path: 'in/h1.csv' });
      });

      it('folds the commits of every succeeded run and ignores failed ones', async () => {
        const { store } = await setup();
        await store.finishRun(finishedRun(idAt(1)), { processedFiles: files('h1') });
        await store.finishRun(finishedRun(idAt(2), { status: 'failed' }), { processedFiles: files('h2'), watermarks: { cursor: '9' } });
        await store.finishRun(finishedRun(idAt(3)), { processedFiles: files('h3') });
        await store.finishRun(finishedRun(idAt(4), { pipeline: 'other' }), { processedFiles: files('h4') });
        const state = await store.readState('p');
        expect(Object.keys(state.processedFiles).sort()).toEqual(['h1', 'h3']);
        expect(state.watermarks).toEqual({});
        expect((await store.listRuns({ pipeline: 'p' })).find((r) => r.runId === idAt(3))?.commit).toEqual({ processedFiles: files('h3') });
      });

      it('never moves a watermark backwards when commits arrive out of order', async () => {
        const { store } = await setup();
        const late = finishedRun(idAt(1), { startedAt: '2026-11-02T07:00:00.000Z' });
        await store.finishRun(late, { watermarks: { n: '10', at: '2026-11-02T00:00:00.000Z' } });
        await store.finishRun(finishedRun(idAt(2)), { watermarks: { n: '9', at: '2026-11-01T00:00:00.000Z', other: 'x' } });
        expect((await store.readState('p')).watermarks).toEqual({ n: '10', at: '2026-11-02T00:00:00.000Z', other: 'x' });
      });

      it('keeps the earliest run of a file processed by two runs', async () => {
        const { store } = await setup();
        await store.finishRun(finishedRun(idAt(2), { startedAt: '2026-11-02T08:00:00.000Z' }), { processedFiles: files('same', 'b') });
        await store.finishRun(finishedRun(idAt(1), { startedAt: '2026-11-02T07:00:00.000Z' }), { processedFiles: files('same', 'a') });
        const { processedFiles } = await store.readState('p');
        expect(Object.keys(processedFiles).sort()).toEqual(['a', 'b', 'same']);
        expect(processedFiles.same.runId).toBe(idAt(1));
      });
    });

    // Pause control (catch-up issue) ↓
    describe('pause control', () => {
      it('reads back who paused a pipeline, when and why, and the unpause that replaces it, per pipeline', async () => {
        const { store } = await setup();
        expect(await store.readControl('daily')).toBeUndefined();
        const paused = { paused: true, by: 'ada', at: '2026-11-02T06:00:00.000Z', reason: 'source API down' };
        await store.writeControl('daily', paused);
        expect(await store.readControl('daily')).toEqual(paused);
        expect(await store.readControl('hourly')).toBeUndefined();
        await store.writeControl('daily', { paused: false, by: 'bob', at: '2026-11-02T07:00:00.000Z' });
        expect(await store.readControl('daily')).toEqual({ paused: false, by: 'bob', at: '2026-11-02T07:00:00.000Z' });
      });
    });

    // Gates (gates issue) ↓
    describe('flags', () => {
      const at = '2026-11-02T06:00:00.000Z';
      it('reads back flags per scope and key with who and when; a later set replaces, unset removes', async () => {
        const { store } = await setup();
        expect(await store.readFlags('docs')).toEqual([]);
        await store.setFlags([
          { scope: 'docs', name: 'ready', value: true, by: 'ada', at },
          { scope: 'docs', name: 'ready', key: 'doc/42.pdf', value: { pages: 3 }, by: 'ada', at },
          { scope: GLOBAL_FLAG_SCOPE, name: 'freeze', value: 'until monday', by: 'bob', at },
        ]);
        expect(await store.readFlags('docs')).toEqual([
          { scope: 'docs', name: 'ready', value: true, by: 'ada', at },
          { scope: 'docs', name: 'ready', key: 'doc/42.pdf', value: { pages: 3 }, by: 'ada', at },
        ]);
        expect(await store.readFlags(GLOBAL_FLAG_SCOPE)).toEqual([{ scope: GLOBAL_FLAG_SCOPE, name: 'freeze', value: 'until monday', by: 'bob', at }]);
        expect(await store.readFlags('other')).toEqual([]);
        await store.setFlags([{ scope: 'docs', name: 'ready', value: false, by: 'bob', at }]);
        await store.setFlags([{ scope: 'docs', name: 'ready', key: 'doc/42.pdf', by: 'bob', at, unset: true }]);
        expect(await store.readFlags('docs')).toEqual([{ scope: 'docs', name: 'ready', value: false, by: 'bob', at }]);
        expect((await store.pipelines()).includes(GLOBAL_FLAG_SCOPE)).toBe(false);
      });

      it('loses no update when two writers set different flags at once', async () => {
        const { store } = await setup();
        const writes = (who: string) => Array.from({ length: 3 }, (_, i) => store.setFlags([{ scope: 'docs', name: `${who}${i}`, value: i, by: who, at }]));
        await Promise.all([...writes('a'), ...writes('b')]);
        expect((await store.readFlags('docs')).map((f) => f.name).sort()).toEqual([...Array.from({ length: 3 }, (_, i) => `a${i}`), ...Array.from({ length: 3 }, (_, i) => `b${i}`)].sort());
      });

      it('keeps a parked (waiting) run readable as waiting, unfinished, and never recovers it as abandoned', async () => {
        const { store, liveness } = await setup();
        const parked = { ...activeRun(idAt(1), undefined), status: 'waiting' as const, parkedAt: at, waitingOn: ['gate'] };
        await store.saveActive(parked);
        await store.finishRun(finishedRun(idAt(2)));
        liveness.nowMs += 10 * 86_400_000;
        expect((await store.listRuns({ pipeline: 'p', unfinished: true })).map((r) => [r.runId, r.status])).toEqual([[idAt(1), 'waiting']]);
        expect((await store.getRun(idAt(1)))?.status).toBe('waiting');
        expect(await store.recover({ loadEvents: async () => undefined })).toEqual([]);
        expect((await store.getRun(idAt(1)))?.status).toBe('waiting');
      });
    });

    describe('reading runs', () => {
      it('lists newest first by run id, with limit, status and pipeline filters', async () => {
        const { store } = await setup();
        for (const n of [3, 1, 4, 2]) await store.finishRun(finishedRun(idAt(n), { status: n % 2 ? 'failed' : 'succeeded' }));
        await store.finishRun(finishedRun(idAt(5), { pipeline: 'q' }));
        expect((await store.listRuns()).map((r) => r.runId)).toEqual([5, 4, 3, 2, 1].map((n) => idAt(n)));
        expect((await store.listRuns({ pipeline: 'p', limit: 2 })).map((r) => r.runId)).toEqual([idAt(4), idAt(3)]);
        expect((await store.listRuns({ status: 'failed', limit: 1 })).map((r) => r.runId)).toEqual([idAt(3)]);
        expect(await store.pipelines()).toEqual(['p', 'q']);
      });

      it('lists runs whose data interval overlaps the one asked for', async () => {
        const { store } = await setup();
        const day = (d: number) => ({ start: `2026-11-0${d}T00:00:00.000Z`, end: `2026-11-0${d + 1}T00:00:00.000Z` });
        for (const d of [1, 2, 3]) await store.finishRun(finishedRun(idAt(d), { interval: day(d) }));
        const runs = await store.listRuns({ interval: { start: '2026-11-02T12:00:00.000Z', end: '2026-11-04T00:00:00.000Z' } });
        expect(runs.map((r) => r.runId)).toEqual([idAt(3), idAt(2)]);
      });

      it('finds a run by id or unique prefix and refuses an ambiguous prefix', async () => {
        const { store } = await setup();
        await store.finishRun(finishedRun(idAt(1, 'aaaaaa')));
        await store.finishRun(finishedRun(idAt(1, 'bbbbbb')));
        await store.finishRun(finishedRun(idAt(2, 'cccccc')));
        expect((await store.getRun(idAt(1, 'aaaaaa')))?.runId).toBe(idAt(1, 'aaaaaa'));
        expect((await store.getRun(idAt(2, 'cccccc').slice(0, 18)))?.runId).toBe(idAt(2, 'cccccc'));
        const prefix = idAt(1, '').slice(0, -1);
        await expect(store.getRun(prefix)).rejects.toThrow(AmbiguousRunIdError);
        await expect(store.getRun(prefix)).rejects.toThrow(/matches 2 runs/);
        expect(await store.getRun('20991231')).toBeUndefined();
      });

      it('lists a finished run once even if its active record is still there, and never resurrects it', async () => {
        const { store, liveness } = await setup();
        liveness.alive.add(100);
        const id = idAt(1);
        await store.saveActive(activeRun(id, owner(id, 100)));
        expect((await store.listRuns()).map((r) => r.status)).toEqual(['running']);
        await store.finishRun(finishedRun(id));
        await store.saveActive(activeRun(id, owner(id, 100)));
        expect((await store.listRuns()).map((r) => [r.runId, r.status])).toEqual([[id, 'succeeded']]);
      });

      it('shows an active run whose owner is gone as abandoned, before any recovery', async () => {
        const { store, liveness } = await setup();
        liveness.alive.add(100);
        await store.saveActive(activeRun(idAt(1), owner(idAt(1), 100)));
        await store.saveActive(activeRun(idAt(2), owner(idAt(2), 200, '2026-11-15T12:00:00.000Z', { host: 'elsewhere' })));
        expect((await store.listRuns()).map((r) => r.status)).toEqual(['running', 'running']);
        liveness.alive.delete(100);
        liveness.nowMs += 61_000;
        expect((await store.listRuns()).map((r) => r.status)).toEqual(['abandoned', 'abandoned']);
        expect((await store.getRun(idAt(1)))?.status).toBe('abandoned');
        expect(await store.listRuns({ status: 'running' })).toEqual([]);
      });
    });

    describe('leases', () => {
      it('lets one run hold the lease by default and names the holder to the next', async () => {
        const { store, liveness } = await setup();
        liveness.alive.add(1).add(2);
        const first = await store.acquireLease('p', owner('r1', 1));
        expect(first).toMatchObject({ acquired: true, lease: { pipeline: 'p', slot: 0 } });
        expect(await store.acquireLease('p', owner('r2', 2))).toEqual({ acquired: false, holders: [owner('r1', 1)] });
        expect(await store.acquireLease('other', owner('r2', 2))).toMatchObject({ acquired: true });
      });

      it('allows maxActive runs at once', async () => {
        const { store, liveness } = await setup();
        for (const pid of [1, 2, 3, 4]) liveness.alive.add(pid);
        const results = [];
        for (const pid of [1, 2, 3, 4]) results.push(await store.acquireLease('p', owner(`r${pid}`, pid), { maxActive: 3 }));
        expect(results.map((r) => r.acquired)).toEqual([true, true, true, false]);
        expect((await store.listLeases('p')).map((o) => o.runId).sort()).toEqual(['r1', 'r2', 'r3']);
      });

      it('takes over a lease whose owner died or stopped renewing, not a live one', async () => {
        const { store, liveness } = await setup();
        liveness.alive.add(1).add(2).add(3);
        await store.acquireLease('p', owner('r1', 1));
        expect((await store.acquireLease('p', owner('r2', 2))).acquired).toBe(false);
        liveness.alive.delete(1);
        expect(await store.acquireLease('p', owner('r2', 2))).toMatchObject({ acquired: true, lease: { owner: { runId: 'r2' } } });
        liveness.nowMs += 30_000;
        expect((await store.acquireLease('p', owner('r3', 3))).acquired).toBe(false);
        liveness.nowMs += 31_000;
        expect((await store.acquireLease('p', owner('r3', 3))).acquired).toBe(true);
      });

      it('renews and releases only its own lease', async () => {
        const { store, liveness } = await setup();
        liveness.alive.add(1).add(2);
        const result = await store.acquireLease('p', owner('r1', 1));
        if (!result.acquired) throw new Error('expected the lease');
        liveness.nowMs += 50_000;
        const renewed = await store.renewLease(result.lease);
        expect(renewed).toMatchObject({ renewed: true, lease: { owner: { heartbeatAt: new Date(liveness.nowMs).toISOString() } } });
        liveness.nowMs += 50_000;
        expect((await store.acquireLease('p', owner('r2', 2))).acquired).toBe(false);
        await store.releaseLease({ ...result.lease, owner: owner('r2', 2) });
        expect((await store.listLeases('p')).map((o) => o.runId)).toEqual(['r1']);
        await store.releaseLease(result.lease);
        expect(await store.listLeases('p')).toEqual([]);
        expect((await store.acquireLease('p', owner('r2', 2))).acquired).toBe(true);
        expect(await store.renewLease(result.lease)).toMatchObject({ renewed: false, holder: { runId: 'r2' } });
      });
    });

    describe('recovery', () => {
      it('closes a dead owner’s run as abandoned from its events, kills its process group and frees its lease', async () => {
        const { store, liveness } = await setup();
        liveness.alive.add(100);
        const dead = idAt(1);
        const live = idAt(2);
        await store.acquireLease('p', owner(dead, 200, undefined, { pgid: 200 }), { maxActive: 2 });
        await store.saveActive(activeRun(dead, owner(dead, 200, undefined, { pgid: 200 })));
        await store.saveActive(activeRun(live, owner(live, 100)));
        const killed: number[] = [];
        const loadEvents = async (_p: string, runId: string) => (runId === dead ? runEvents(dead, {}, 4) : undefined);
        const recovered = await store.recover({ loadEvents, killProcessGroup: (pgid) => void killed.push(pgid) });
        expect(recovered).toEqual([{ pipeline: 'p', runId: dead, status: 'abandoned', owner: owner(dead, 200, undefined, { pgid: 200 }), killedProcessGroup: 200 }]);
        expect(killed).toEqual([200]);
        const run = await store.getRun(dead);
        expect(run).toMatchObject({ status: 'abandoned', error: { code: 'abandoned' }, stages: { a: { status: 'succeeded' }, b: { status: 'cancelled' } } });
        expect(run?.error?.message).toMatch(/pid 200 on host test-host.*died without finishing.*weir run p/);
        expect(await store.listLeases('p')).toEqual([]);
        expect((await store.getRun(live))?.status).toBe('running');
        expect(await store.recover({ loadEvents })).toEqual([]);
        expect((await store.listRuns()).map((r) => r.runId)).toEqual([live, dead]);
      });

      it('records a run that died after it finished with its own status and commit', async () => {
        const { store } = await setup();
        const id = idAt(1);
        await store.saveActive({ ...activeRun(id, owner(id, 300)), commit: { processedFiles: files('h1') } });
        const [recovered] = await store.recover({ loadEvents: async () => runEvents(id) });
        expect(recovered).toMatchObject({ runId: id, status: 'succeeded' });
        expect(Object.keys((await store.readState('p')).processedFiles)).toEqual(['h1']);
      });
    });

    it.skipIf(!factory.openV1)('reads a first-format ledger: runs, active runs and state', async () => {
      const liveness = fakeLiveness();
      const store = await factory.openV1!(liveness);
      const runs = await store.listRuns({ pipeline: 'daily' });
      expect(runs.map((r) => [r.runId, r.status])).toEqual([
        ['20261101T060000Z-cc33', 'abandoned'],
        ['20261031T060000Z-bb22', 'failed'],
        ['20261030T060000Z-aa11', 'succeeded'],
      ]);
      expect((await store.getRun('20261031'))?.runId).toBe('20261031T060000Z-bb22');
      expect(await store.readState('daily')).toEqual({
        watermarks: { cursor: '7' },
        processedFiles: { h0: { hash: 'h0', path: 'in/0.csv', bytes: 1, runId: '20261030T060000Z-aa11', at: '2026-10-30T06:00:01.000Z' } },
      });
    });
  });
}
