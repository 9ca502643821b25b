/**
 * The jobs of the workflow `weir compile` writes for a pipeline on several runners, each run as the
 * runner runs the Action (dist/index.js, a process of its own, in a workspace of its own, with a
 * runtime token for its own job), handing tables on through the real @actions/artifact client and
 * the local emulator of the Actions results service.
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mintRuntimeToken, startActionsResultsEmulator } from '../support/actions-results-emulator.ts';
import { FANOUT_FILES, tableDigest } from '../fanout/fixtures.ts';
import { runBundle, tempFolder } from './bundle-runner.ts';

const RUN = 'a1b2c3d4-0000-4000-8000-000000000001';

function workspace(): string {
  const dir = tempFolder(FANOUT_FILES);
  chmodSync(join(dir, 'scripts/embed.sh'), 0o755);
  return dir;
}

describe('the Action runs a run split into segments, job by job, through artifacts', { timeout: 120_000 }, () => {
  it('plan → one job per segment and shard → finalize: the record is whole and the tables are those of one process', async () => {
    await using emulator = await startActionsResultsEmulator({ runBackendId: RUN, anyJobOfRun: true });
    let job = 0;
    const jobEnv = (extra: Record<string, string> = {}) => ({
      ...emulator.env,
      ACTIONS_RUNTIME_TOKEN: mintRuntimeToken(`Actions.Results:${RUN}:job-${++job}`),
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: '777',
      WEIR_GPU: '1',
      ...extra,
    });
    const planned = await runBundle(workspace(), { inputs: { command: 'plan', pipeline: 'fanout', handoff: 'artifacts', date: '2026-11-30' }, env: jobEnv() });
    expect(planned.code, planned.stdout + planned.stderr).toBe(0);
    const runId = planned.outputs['run-id'];
    expect(runId).toMatch(/^\d{8}T/);
    const matrix = JSON.parse(planned.outputs.matrix) as { include: { segment: string; shard: number; shards: number }[] };
    expect(matrix.include).toHaveLength(7);
    expect(planned.summary).toMatch(/\| embed \| self-hosted, gpu \| embed \| 3 \|/);

    const dirs: Record<string, string> = {};
    for (const entry of matrix.include) {
      const part = entry.shards > 1 ? `${entry.segment}.shard-${entry.shard}` : entry.segment;
      dirs[part] = workspace();
      const inputs = { command: 'run', pipeline: 'fanout', segment: entry.segment, 'run-id': runId, ...(entry.shards > 1 ? { shard: `${entry.shard}/${entry.shards}` } : {}) };
      const result = await runBundle(dirs[part], { inputs, env: jobEnv() });
      expect(result.code, `${part}: ${result.stdout}${result.stderr}`).toBe(0);
      expect(result.outputs.status).toBe('succeeded');
    }
    const names = emulator.artifacts().map((a) => a.name).sort();
    expect(names).toEqual([`weir-${runId}-context`, `weir-${runId}-docs`, `weir-${runId}-embed.shard-1`, `weir-${runId}-embed.shard-2`, `weir-${runId}-embed.shard-3`, `weir-${runId}-rank`, `weir-${runId}-summary`, `weir-${runId}-topics`].sort());

    const final = workspace();
    const finalized = await runBundle(final, { inputs: { command: 'finalize', pipeline: 'fanout', 'run-id': runId }, env: jobEnv() });
    expect(finalized.code, finalized.stdout + finalized.stderr).toBe(0);
    expect(finalized.outputs.status).toBe('succeeded');
    expect(finalized.outputs['report-artifact']).toBe(`weir-fanout-${runId}`);
    expect(finalized.summary).toMatch(/fanout/);

    // One process, for comparison.
    const single = workspace();
    const one = await runBundle(single, { inputs: { command: 'run', pipeline: 'fanout', date: '2026-11-30' }, env: { WEIR_GPU: '1' } });
    expect(one.code, one.stdout + one.stderr).toBe(0);
    const singleDb = join(single, '.weir', 'runs', 'fanout', one.outputs['run-id'], 'weir.duckdb');
    const summaryDb = join(dirs.summary, '.weir', 'runs', 'fanout', `${runId}.summary`, 'weir.duckdb');
    expect(await tableDigest(summaryDb, 'summary')).toEqual(await tableDigest(singleDb, 'summary'));
  });

  it('a segment job without the results service, or without run-id, fails the step with the fix', async () => {
    const noService = await runBundle(workspace(), { inputs: { command: 'run', pipeline: 'fanout', segment: 'docs', 'run-id': 'x' } });
    expect(noService.code).not.toBe(0);
    expect(noService.stdout).toMatch(/::error::weir: a segment job hands tables between jobs as artifacts, and this step has no Actions results service/);
    await using emulator = await startActionsResultsEmulator({ runBackendId: RUN });
    const noRun = await runBundle(workspace(), { inputs: { command: 'run', pipeline: 'fanout', segment: 'docs' }, env: { ...emulator.env, GITHUB_SERVER_URL: 'https://github.com' } });
    expect(noRun.code).not.toBe(0);
    expect(noRun.stdout).toMatch(/needs the run's id: pass 'run-id: \$\{\{ needs.plan.outputs.run-id \}\}'/);
    const badShard = await runBundle(workspace(), { inputs: { command: 'run', pipeline: 'fanout', segment: 'embed', shard: '0/3', 'run-id': 'x' }, env: { ...emulator.env } });
    expect(badShard.stdout).toMatch(/input 'shard': '0\/3' is not a shard/);
  });
});
