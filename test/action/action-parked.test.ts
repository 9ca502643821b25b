/**
 * A run parked on a gate in one Actions job resumes in a later job on another runner: its record
 * and the flag are on the ledger branch, its folder in the Actions cache (through the emulator).
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { weir } from '../cli/helpers.ts';
import { cloneOf, createBareRemote, git, GIT_ENV } from '../ledger/git-fixtures.ts';
import { startActionsResultsEmulator } from '../support/actions-results-emulator.ts';
import { runBundle, tempFolder } from './bundle-runner.ts';

const PIPELINE = `name: gated
stages:
  upstream:
    uses: command
    with: { run: 'echo ran >> "$UPSTREAM_LOG"' }
  extract:
    uses: sql
    needs: upstream
    with: { query: "select 42 as n" }
  wait_ready:
    uses: gate
    needs: [extract]
    with: { condition: "flags.ready == true", timeout: 2d }
  publish:
    uses: sql
    needs: [wait_ready]
    with: { query: "select n from extract" }
`;

/** A fresh checkout of the repository (another runner), holding the pipeline. */
async function checkout(bare: string, name = 'gated', yaml = PIPELINE): Promise<string> {
  const dir = await cloneOf(bare);
  mkdirSync(join(dir, 'pipelines'));
  writeFileSync(join(dir, 'pipelines', `${name}.yml`), yaml);
  return dir;
}

describe('a parked run on GitHub', { timeout: 120_000 }, () => {
  it('parks in one job and resumes in a later job on another runner, without running its upstream again', async () => {
    await using emulator = await startActionsResultsEmulator();
    const bare = await createBareRemote();
    const log = join(tempFolder(), 'upstream.log');
    const env = (runId: string, dir: string) => ({ ...emulator.env, GITHUB_SERVER_URL: 'https://github.com', GITHUB_RUN_ID: runId, RUNNER_TEMP: dir, UPSTREAM_LOG: log, ...GIT_ENV });

    const first = await checkout(bare);
    const parked = await runBundle(first, { inputs: { command: 'run', pipeline: 'gated' }, env: env('1', first) });
    expect(parked.code, parked.stdout + parked.stderr).toBe(0);
    expect(parked.outputs.status).toBe('waiting');
    const runId = parked.outputs['run-id'];

    // Someone sets the flag from a laptop: it lands on the ledger branch.
    const laptop = await checkout(bare);
    await git(laptop, 'fetch', '--quiet', 'origin', 'weir-ledger:refs/remotes/origin/weir-ledger');
    const set = await weir(laptop, ['flags', 'set', 'ready=true', '--root', laptop, '--ledger', 'git'], GIT_ENV);
    expect(set.code, set.stderr).toBe(0);

    // The next trigger runs on a fresh runner: the folder comes back from the cache.
    const second = await checkout(bare);
    const resumed = await runBundle(second, { inputs: { command: 'run', pipeline: 'gated' }, env: env('2', second) });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.outputs['run-id']).toBe(runId);
    expect(resumed.outputs.status).toBe('succeeded');
    expect(readFileSync(log, 'utf8')).toBe('ran\n');
  });
});

const FLAKY = `name: flaky
stages:
  upstream:
    uses: command
    with: { run: 'echo ran >> "$UPSTREAM_LOG"' }
  extract:
    uses: sql
    needs: upstream
    with: { query: "select 7 as n" }
  load:
    uses: command
    needs: extract
    with: { run: 'test -z "$FAIL_LOAD" || { echo "the warehouse refused the load" >&2; exit 3; }' }
`;

describe('retry on GitHub', { timeout: 120_000 }, () => {
  it('a failed run keeps its folder in the cache; command: retry on another runner reuses what succeeded', async () => {
    await using emulator = await startActionsResultsEmulator();
    const bare = await createBareRemote();
    const log = join(tempFolder(), 'upstream.log');
    const env = (runId: string, dir: string, extra: Record<string, string> = {}) => ({ ...emulator.env, GITHUB_SERVER_URL: 'https://github.com', GITHUB_RUN_ID: runId, RUNNER_TEMP: dir, UPSTREAM_LOG: log, ...GIT_ENV, ...extra });
    const checkoutFlaky = () => checkout(bare, 'flaky', FLAKY);
    const first = await checkoutFlaky();
    const failed = await runBundle(first, { inputs: { command: 'run', pipeline: 'flaky' }, env: env('1', first, { FAIL_LOAD: '1' }) });
    expect(failed.code).not.toBe(0);
    expect(failed.outputs.status).toBe('failed');
    const runId = failed.outputs['run-id'];

    const second = await checkoutFlaky();
    const retried = await runBundle(second, { inputs: { command: 'retry', pipeline: 'flaky', 'run-id': runId }, env: env('2', second) });
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    expect(retried.outputs.status).toBe('succeeded');
    expect(retried.outputs.summary).toMatch(new RegExp(`flaky: attempt 2 of run ${runId}: succeeded \\(2 stage\\(s\\) reused\\)`));
    expect(readFileSync(log, 'utf8')).toBe('ran\n');
  });

  it('command: retry without run-id fails the step with the fix', async () => {
    const dir = tempFolder({ 'pipelines/flaky.yml': FLAKY });
    const result = await runBundle(dir, { inputs: { command: 'retry', pipeline: 'flaky' } });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/command: retry needs input 'run-id'/);
  });
});
