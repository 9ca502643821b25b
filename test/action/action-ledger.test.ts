/** The Action records runs on the repository's ledger branch, as the runner would run it in a checkout. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloneOf, createBareRemote, git, ledgerLog, openStore } from '../ledger/git-fixtures.ts';
import { runBundle } from './bundle-runner.ts';

const PIPELINE = 'name: hello\nstages:\n  a: { uses: sql, with: { query: select 1 as x } }\n';

describe('command: run with the ledger on a git branch', () => {
  it('commits the finished run to the ledger branch of origin, which a fresh clone then reads', async () => {
    const bare = await createBareRemote();
    const workspace = await cloneOf(bare);
    mkdirSync(join(workspace, 'pipelines'));
    writeFileSync(join(workspace, 'pipelines', 'hello.yml'), PIPELINE);

    const result = await runBundle(workspace, { inputs: { command: 'run', pipeline: 'hello' }, env: { GITHUB_RUN_ID: '77', GITHUB_RUN_ATTEMPT: '1' } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runId = result.outputs['run-id'];
    expect(await ledgerLog(bare)).toEqual(expect.arrayContaining([expect.stringContaining('[skip ci]')]));
    // The checkout's own branch is untouched: the ledger lives on its own orphan branch.
    expect(await git(bare, 'log', '--format=%s', 'main')).toBe('first');

    const reader = await openStore(await cloneOf(bare));
    await reader.refresh();
    expect(await reader.getRun(runId)).toMatchObject({ runId, pipeline: 'hello', status: 'succeeded' });
  });

  it('records both of two runs racing on the ledger branch from separate checkouts', async () => {
    const bare = await createBareRemote();
    const checkouts = await Promise.all([cloneOf(bare), cloneOf(bare)]);
    for (const dir of checkouts) {
      mkdirSync(join(dir, 'pipelines'));
      writeFileSync(join(dir, 'pipelines', 'hello.yml'), PIPELINE);
    }
    const results = await Promise.all(
      checkouts.map((dir, i) => runBundle(dir, { inputs: { command: 'run', pipeline: 'hello' }, env: { GITHUB_RUN_ID: String(100 + i), GITHUB_RUN_ATTEMPT: '1' } })),
    );
    for (const result of results) expect(result.code, result.stdout + result.stderr).toBe(0);
    const reader = await openStore(await cloneOf(bare));
    await reader.refresh();
    const runs = await reader.listRuns({ pipeline: 'hello' });
    expect(runs.map((r) => r.runId).sort()).toEqual(results.map((r) => r.outputs['run-id']).sort());
  });

  it('falls back to the file ledger, with a warning, outside a git checkout', async () => {
    const { tempFolder } = await import('./bundle-runner.ts');
    const workspace = tempFolder({ 'pipelines/hello.yml': PIPELINE });
    const result = await runBundle(workspace, { inputs: { command: 'run', pipeline: 'hello' } });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/::warning::the ledger branch 'weir-ledger' is not used because .* is not a git checkout/);
  });
});
