/** A stage's `cache:` folder kept in the Actions cache between runners (the real @actions/cache client, through the emulator). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startActionsResultsEmulator } from '../support/actions-results-emulator.ts';
import { runBundle, tempFolder } from './bundle-runner.ts';

const PIPELINE = `name: cached
stages:
  model:
    uses: command
    cache: { path: models, key: model-v1 }
    with:
      run: |
        if [ -f models/weights.bin ]; then echo "model found: $(cat models/weights.bin)"
        else mkdir -p models && echo weights-1 > models/weights.bin && echo downloaded && echo x >> "$DOWNLOADS"; fi
`;

describe('stage cache: in Actions', { timeout: 90_000 }, () => {
  it('saves the folder after the first run and restores it on another runner, so the model is fetched once', async () => {
    await using emulator = await startActionsResultsEmulator();
    const counter = join(tempFolder(), 'downloads');
    const env = { ...emulator.env, GITHUB_SERVER_URL: 'https://github.com', DOWNLOADS: counter };
    const first = tempFolder({ 'pipelines/cached.yml': PIPELINE });
    const one = await runBundle(first, { inputs: { command: 'run', pipeline: 'cached' }, env: { ...env, RUNNER_TEMP: first } });
    expect(one.code, one.stdout + one.stderr).toBe(0);
    expect(one.stdout).toMatch(/cache model-v1: not found; saved after the stage succeeds/);
    expect(one.stdout).toMatch(/downloaded/);

    const second = tempFolder({ 'pipelines/cached.yml': PIPELINE });
    const two = await runBundle(second, { inputs: { command: 'run', pipeline: 'cached' }, env: { ...env, RUNNER_TEMP: second } });
    expect(two.code, two.stdout + two.stderr).toBe(0);
    expect(two.stdout).toMatch(/cache model-v1: restored/);
    expect(two.stdout).toMatch(/model found: weights-1/);
    expect(readFileSync(counter, 'utf8')).toBe('x\n');
  });

  it('a cache service that fails makes the stage run without it, never fails the run', async () => {
    await using emulator = await startActionsResultsEmulator();
    emulator.failNext('GetCacheEntryDownloadURL', 500, 20);
    emulator.failNext('CreateCacheEntry', 500, 20);
    const counter = join(tempFolder(), 'downloads');
    const dir = tempFolder({ 'pipelines/cached.yml': PIPELINE });
    const run = await runBundle(dir, { inputs: { command: 'run', pipeline: 'cached' }, env: { ...emulator.env, GITHUB_SERVER_URL: 'https://github.com', DOWNLOADS: counter, RUNNER_TEMP: dir } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs.status).toBe('succeeded');
    expect(run.stdout).toMatch(/downloaded/);
  });
});
