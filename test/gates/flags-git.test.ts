/** `weir flags --ledger git`: flags written from a laptop land on the ledger branch, where runs elsewhere read them. */
import { describe, expect, it } from 'vitest';
import { GLOBAL_FLAG_SCOPE } from '../../src/ledger/flags.ts';
import { weir } from '../cli/helpers.ts';
import { idAt } from '../ledger/contract.ts';
import { cloneOf, createBareRemote, git, GIT_ENV, ledgerLog, openStore } from '../ledger/git-fixtures.ts';
import { finishedRun } from '../ledger/ledger-fixtures.ts';

describe('weir flags on the ledger branch', () => {
  it('sets a flag with a [skip ci] commit pushed to origin, lists it, and another clone reads it', async () => {
    const bare = await createBareRemote();
    const ci = await openStore(await cloneOf(bare));
    await ci.finishRun(finishedRun(idAt(1)));
    const laptop = await cloneOf(bare);
    await git(laptop, 'fetch', '--quiet', 'origin', 'weir-ledger:refs/remotes/origin/weir-ledger');

    const set = await weir(laptop, ['flags', 'set', 'pdf_ir_ready=true', '--root', laptop, '--ledger', 'git'], { ...GIT_ENV, USER: 'ada' });
    expect([set.code, set.stderr]).toEqual([0, '']);
    expect((await ledgerLog(bare))[0]).toBe('weir: flags @global/pdf_ir_ready [skip ci]');
    const listed = await weir(laptop, ['flags', '--root', laptop, '--ledger', 'git', '--json'], GIT_ENV);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ scope: GLOBAL_FLAG_SCOPE, name: 'pdf_ir_ready', value: true, by: 'ada' }]);
    // The local ledger is untouched: --ledger git is never picked implicitly for a write.
    expect(JSON.parse((await weir(laptop, ['flags', '--root', laptop, '--json'], GIT_ENV)).stdout)).toEqual([]);

    await ci.refresh();
    expect(await ci.readFlags(GLOBAL_FLAG_SCOPE)).toMatchObject([{ name: 'pdf_ir_ready', value: true }]);
  }, 60_000);
});
