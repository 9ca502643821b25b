import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptLedgerBranchError, ForeignLedgerBranchError } from '../../src/ledger/git-errors.ts';
import { describeLedgerContract, idAt } from './contract.ts';
import { cloneOf, createBareRemote, git, ledgerLog, openStore } from './git-fixtures.ts';
import { activeRun, fakeLiveness, files, finishedRun, owner, runEvents } from './ledger-fixtures.ts';

describeLedgerContract('GitLedgerStore', {
  create: async (liveness) => openStore(await cloneOf(await createBareRemote()), { liveness }),
});

describe('GitLedgerStore on a bare remote', () => {
  it('creates the orphan ledger branch with a marker, one [skip ci] commit per run by weir, and leaves main alone', async () => {
    const bare = await createBareRemote();
    const mainBefore = await git(bare, 'rev-parse', 'main');
    const store = await openStore(await cloneOf(bare));
    await store.finishRun(finishedRun(idAt(1)), { watermarks: { cursor: '1' } });
    await store.finishRun(finishedRun(idAt(2), { status: 'failed' }));
    expect(await git(bare, 'rev-parse', 'main')).toBe(mainBefore);
    expect(await ledgerLog(bare)).toEqual([`weir: p run ${idAt(2)} failed [skip ci]`, `weir: p run ${idAt(1)} succeeded [skip ci]`]);
    expect(await git(bare, 'log', '--format=%an <%ae>|%cn', '-1', 'weir-ledger')).toBe('weir <weir@users.noreply.github.com>|weir');
    // Orphan: no commit of main is in the ledger's history.
    expect(await git(bare, 'rev-list', '--max-parents=0', 'weir-ledger')).not.toBe(await git(bare, 'rev-list', '--max-parents=0', 'main'));
    const tree = (await git(bare, 'ls-tree', '-r', '--name-only', 'weir-ledger')).split('\n');
    expect(tree).toEqual(['.weir-ledger', `p/runs/2026-11/02/${idAt(1)}.json`, `p/runs/2026-11/02/${idAt(2)}.json`, 'p/state.json']);
  });

  it('adds no commit when a finished run is finished again, from the same clone or another', async () => {
    const bare = await createBareRemote();
    const run = finishedRun(idAt(1));
    await (await openStore(await cloneOf(bare))).finishRun(run, { processedFiles: files('h1') });
    const before = await ledgerLog(bare);
    await (await openStore(await cloneOf(bare))).finishRun(run, { processedFiles: files('h2') });
    expect(await ledgerLog(bare)).toEqual(before);
  });

  it('adds nothing when a finish is retried after its push landed but the reply was lost', async () => {
    const bare = await createBareRemote();
    const dir = await cloneOf(bare);
    const lost = await openStore(dir, { hooks: { afterPush: () => Promise.reject(new Error('connection reset after the push')) } });
    const run = finishedRun(idAt(1));
    await expect(lost.finishRun(run, { processedFiles: files('h1') })).rejects.toThrow(/connection reset/);
    expect(await ledgerLog(bare)).toHaveLength(1);
    const retry = await openStore(dir);
    await retry.finishRun(run, { processedFiles: files('h1') });
    expect(await ledgerLog(bare)).toHaveLength(1);
    expect(Object.keys((await retry.readState('p')).processedFiles)).toEqual(['h1']);
  });

  it('rebuilds its commit on the new tip when another clone pushed first, re-deriving the state', async () => {
    const bare = await createBareRemote();
    const other = await openStore(await cloneOf(bare));
    await other.finishRun(finishedRun(idAt(1)), { watermarks: { n: '5' }, processedFiles: files('h1') });
    const sleeps: number[] = [];
    // Between building its commit and pushing it, another writer records a run: the push is rejected.
    const racing = async (attempt: number) => {
      if (attempt === 1) await other.finishRun(finishedRun(idAt(2)), { watermarks: { n: '9' }, processedFiles: files('h2') });
    };
    const store = await openStore(await cloneOf(bare), { hooks: { beforePush: racing }, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 });
    await store.finishRun(finishedRun(idAt(3)), { watermarks: { n: '7' }, processedFiles: files('h3') });
    expect(sleeps).toEqual([38]);
    const state = await store.readState('p');
    expect(state.watermarks).toEqual({ n: '9' });
    expect(Object.keys(state.processedFiles).sort()).toEqual(['h1', 'h2', 'h3']);
    expect(await ledgerLog(bare)).toHaveLength(3);
  });

  it('gives up after the bounded number of attempts with an error that says what to do', async () => {
    const bare = await createBareRemote();
    const other = await openStore(await cloneOf(bare));
    let n = 10;
    const alwaysFirst = async () => other.finishRun(finishedRun(idAt(n++)));
    const store = await openStore(await cloneOf(bare), { hooks: { beforePush: alwaysFirst }, maxAttempts: 3 });
    await expect(store.finishRun(finishedRun(idAt(1)))).rejects.toThrow(/could not record run .* under 3 push attempts in a row; finish the run again later/);
    expect(await ledgerLog(bare)).toHaveLength(3);
  });

  it('works from a shallow clone', async () => {
    const bare = await createBareRemote();
    await (await openStore(await cloneOf(bare))).finishRun(finishedRun(idAt(1)), { processedFiles: files('h1') });
    const shallow = await cloneOf(bare, { shallow: true });
    expect(await git(shallow, 'rev-parse', '--is-shallow-repository')).toBe('true');
    const store = await openStore(shallow);
    await store.finishRun(finishedRun(idAt(2)), { processedFiles: files('h2') });
    expect(Object.keys((await store.readState('p')).processedFiles).sort()).toEqual(['h1', 'h2']);
    expect((await store.listRuns()).map((r) => r.runId)).toEqual([idAt(2), idAt(1)]);
    expect(await ledgerLog(bare)).toHaveLength(2);
  });

  it('refuses a branch it did not create, naming the branch and the fix, and writes nothing', async () => {
    const bare = await createBareRemote();
    const store = await openStore(await cloneOf(bare), { branch: 'main' });
    await expect(store.finishRun(finishedRun(idAt(1)))).rejects.toThrow(ForeignLedgerBranchError);
    await expect(store.finishRun(finishedRun(idAt(1)))).rejects.toThrow(/branch 'main' is not a weir ledger.*--ledger git:<branch>/);
    await store.refresh();
    await expect(store.listRuns()).rejects.toThrow(ForeignLedgerBranchError);
    expect(await git(bare, 'ls-tree', '-r', '--name-only', 'main')).toBe('README.md');
  });

  it('names the file and the branch when a run file on it is damaged', async () => {
    const bare = await createBareRemote();
    const dir = await cloneOf(bare);
    await (await openStore(dir)).finishRun(finishedRun(idAt(1)));
    const path = `p/runs/2026-11/02/${idAt(1)}.json`;
    await git(dir, 'checkout', '--quiet', 'weir-ledger');
    await writeFile(join(dir, path), '{ torn');
    await git(dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-am', 'hand edit');
    await git(dir, 'push', '--quiet', 'origin', 'weir-ledger');
    const store = await openStore(await cloneOf(bare));
    await store.refresh();
    await expect(store.listRuns()).rejects.toThrow(CorruptLedgerBranchError);
    await expect(store.listRuns()).rejects.toThrow(new RegExp(`ledger branch 'weir-ledger': ${path} is not valid JSON; restore it`));
  });

  it('closes a CI run whose job was killed before recording it, from the branch, in the next CI run', async () => {
    const bare = await createBareRemote();
    const id = idAt(1);
    const ciOwner = owner(id, 7, '2026-11-15T12:00:00.000Z', { host: 'runner-a', ciRunId: '100' });
    const killedJob = await openStore(await cloneOf(bare), { ciRunId: '100', liveness: fakeLiveness() });
    await killedJob.saveActive(activeRun(id, ciOwner));
    await killedJob.saveActive(activeRun(id, ciOwner));
    expect(await ledgerLog(bare)).toEqual([`weir: p run ${id} started [skip ci]`]);

    const liveness = fakeLiveness();
    const loadEvents = async () => runEvents(id, {}, 3);
    const sameCiRun = await openStore(await cloneOf(bare), { ciRunId: '100', liveness });
    const nextCiRun = await openStore(await cloneOf(bare), { ciRunId: '101', liveness });
    liveness.nowMs += 30_000;
    expect(await nextCiRun.recover({ loadEvents })).toEqual([]);
    expect((await nextCiRun.listRuns()).map((r) => r.status)).toEqual(['running']);
    liveness.nowMs += 31_000;
    expect(await sameCiRun.recover({ loadEvents })).toEqual([]);
    expect(await nextCiRun.recover({ loadEvents })).toEqual([{ pipeline: 'p', runId: id, status: 'abandoned', owner: ciOwner, killedProcessGroup: undefined }]);
    expect(await nextCiRun.recover({ loadEvents })).toEqual([]);
    expect((await nextCiRun.getRun(id))?.error?.message).toMatch(/\(pid 7 on host runner-a \(CI run 100\)\) died without finishing/);
    expect(await git(bare, 'ls-tree', '-r', '--name-only', 'weir-ledger')).toBe(`.weir-ledger\np/runs/2026-11/02/${id}.json`);
    expect(await ledgerLog(bare)).toHaveLength(2);
  });
});
