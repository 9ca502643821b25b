/** The Action uploads each run's report artifact through the real @actions/artifact client (bundled in dist/). */
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { startActionsResultsEmulator } from '../support/actions-results-emulator.ts';
import { runBundle, tempFolder } from './bundle-runner.ts';

const PIPELINE = 'name: hello\nartifacts: ["out/*.csv"]\nstages:\n  a: { uses: sql, with: { query: select 1 as x } }\n  save: { uses: export, needs: [a], with: { table: a, path: out/a.csv } }\n';

describe('command: run uploads the report artifact', () => {
  it('uploads weir-<pipeline>-<run id> with the reports and the listed files, and names it in report-artifact', async () => {
    await using emulator = await startActionsResultsEmulator();
    const workspace = tempFolder({ 'pipelines/hello.yml': PIPELINE });
    const result = await runBundle(workspace, { inputs: { command: 'run', pipeline: 'hello' }, env: { ...emulator.env, GITHUB_SERVER_URL: 'https://github.com', RUNNER_TEMP: workspace } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const name = `weir-hello-${result.outputs['run-id']}`;
    expect(result.outputs['report-artifact']).toBe(name);
    const zip = emulator.artifactBytes(name);
    expect(zip).toBeDefined();
    const files = Object.keys(unzipSync(new Uint8Array(zip!)));
    expect(files).toEqual(expect.arrayContaining(['report.md', 'report.html', 'stages.csv', 'checks.csv', 'run.json', 'files/out/a.csv']));
  });

  it('warns and still succeeds when the results service fails', async () => {
    await using emulator = await startActionsResultsEmulator();
    emulator.failNext('CreateArtifact', 400, 10);
    const workspace = tempFolder({ 'pipelines/hello.yml': PIPELINE });
    const result = await runBundle(workspace, { inputs: { command: 'run', pipeline: 'hello' }, env: { ...emulator.env, GITHUB_SERVER_URL: 'https://github.com', RUNNER_TEMP: workspace } });
    expect(result.code).toBe(0);
    expect(result.outputs.status).toBe('succeeded');
    expect(result.outputs['report-artifact']).toBe('');
    expect(result.stdout).toMatch(/::warning::.*report artifact/);
  });
});
