/** `weir history` and `weir status` reading the ledger branch that runs elsewhere pushed. */
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/ledger/run-record.ts';
import { weir } from '../cli/helpers.ts';
import { idAt } from './contract.ts';
import { cloneOf, createBareRemote, git, GIT_ENV, openStore } from './git-fixtures.ts';
import { files, finishedRun } from './ledger-fixtures.ts';

/** A clone made before the runs, then `git fetch origin weir-ledger`, as the docs say. */
async function laptopAfterCiRuns(): Promise<string> {
  const bare = await createBareRemote();
  const laptop = await cloneOf(bare);
  const ci = await openStore(await cloneOf(bare));
  await ci.finishRun(finishedRun(idAt(1)), { processedFiles: files('h1') });
  await ci.finishRun(finishedRun(idAt(2), { status: 'failed' }));
  await git(laptop, 'fetch', '--quiet', 'origin', 'weir-ledger:refs/remotes/origin/weir-ledger');
  return laptop;
}

const ids = (stdout: string) => (JSON.parse(stdout) as RunRecord[]).map((r) => [r.runId, r.status]);

describe('the CLI on the ledger branch', () => {
  it('shows the runs of the fetched branch with --ledger git, and by itself when .weir/ledger is absent', async () => {
    const laptop = await laptopAfterCiRuns();
    const expected = [[idAt(2), 'failed'], [idAt(1), 'succeeded']];
    const explicit = await weir(laptop, ['history', '--root', laptop, '--ledger', 'git', '--json'], GIT_ENV);
    expect([explicit.code, explicit.stderr]).toEqual([0, '']);
    expect(ids(explicit.stdout)).toEqual(expected);
    const automatic = await weir(laptop, ['history', 'p', '--root', laptop, '--json'], GIT_ENV);
    expect(ids(automatic.stdout)).toEqual(expected);
    const one = await weir(laptop, ['history', idAt(1).slice(0, 20), '--root', laptop, '--ledger', 'git:weir-ledger', '--json'], GIT_ENV);
    expect((JSON.parse(one.stdout) as RunRecord).runId).toBe(idAt(1));
    const status = await weir(laptop, ['status', '--root', laptop, '--ledger', 'git', '--json'], GIT_ENV);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(idAt(2));
    expect(await weir(laptop, ['history', '--root', laptop, '--ledger', 'fs', '--json'], GIT_ENV)).toMatchObject({ code: 0, stdout: '[]\n' });
  }, 60_000);

  it('says how to fetch a missing branch and refuses an unknown --ledger value', async () => {
    const laptop = await laptopAfterCiRuns();
    const missing = await weir(laptop, ['history', '--root', laptop, '--ledger', 'git:other'], GIT_ENV);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no ledger branch 'other' in .*: run 'git fetch origin other' first/);
    const bogus = await weir(laptop, ['status', '--root', laptop, '--ledger', 'svn'], GIT_ENV);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/--ledger must be 'fs', 'git' or 'git:<branch>', got 'svn'/);
  }, 60_000);
});
