/**
 * `requires: [gpu]` through the whole run use case, with the CLI's own composition root
 * (createLocalRunDeps) and a fake nvidia-smi on PATH: fail fast on a machine without a GPU, and the
 * GPU's facts on the stage's record where there is one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import { createLocalRunDeps } from '../../src/entrypoints/local-run-deps.ts';
import type { RunEvent } from '../../src/model/events.ts';
import { renderRunDetail } from '../../src/report/terminal.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { runPipeline } from '../../src/use-cases/run-pipeline.ts';
import { fakeNvidiaSmi } from '../adapters/fake-nvidia-smi.ts';

const GPU_PIPELINE = `name: p
stages:
  extract: { uses: sql, with: { query: "select 1 as x" } }
  embed:
    uses: command
    needs: [extract]
    runs-on: [self-hosted, gpu]
    requires: [gpu]
    policy: { retries: 3, backoff: fixed, initial_delay: 1s }
    with: { run: 'echo embedding' }
  load: { uses: sql, needs: [embed], with: { query: "select 2 as y" } }
`;

async function run(yaml: string, env: Record<string, string | undefined>, request: { only?: string[] } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'weir-gpu-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  const { pipeline, diagnostics } = loadPipelineSource(yaml, 'pipelines/p.yml', { kinds: defaultStageKinds(), fileExists: () => true });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const events: RunEvent[] = [];
  const sleeps: number[] = [];
  const deps = createLocalRunDeps(
    { root, env: { ...process.env, WEIR_GPU: undefined, CUDA_VISIBLE_DEVICES: undefined, ...env } },
    { clock: { now: Date.now, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 } },
  );
  const summary = await runPipeline({ pipeline: pipeline!, root, kinds: defaultStageKinds(), listeners: [(e) => events.push(e)], ...request }, deps);
  return { ...summary, events, sleeps };
}

describe('a stage that requires a GPU', () => {
  it('fails at once on a machine without one, naming the runner labels and the WEIR_GPU=1 override, with one attempt and no retry', async () => {
    const { record, sleeps, events } = await run(GPU_PIPELINE, { WEIR_GPU: '0' });
    expect(record.status).toBe('failed');
    const embed = record.stages.embed;
    expect(embed).toMatchObject({ status: 'failed', error: { code: 'resource_unavailable' } });
    expect(embed.attempts).toHaveLength(1);
    expect(embed.error!.message).toContain("stage 'embed' requires a gpu and this machine has none (WEIR_GPU=0)");
    expect(embed.error!.message).toContain('run it on a runner with the labels [self-hosted, gpu] (its runs-on)');
    expect(embed.error!.message).toContain('set WEIR_GPU=1');
    expect(embed.resources).toBeUndefined();
    expect(sleeps).toEqual([]);
    expect(events.filter((e) => e.type === 'stage.retrying')).toEqual([]);
    expect(record.stages.load).toMatchObject({ status: 'skipped', skipReason: 'upstream_failed' });
    expect(record.stages.extract.status).toBe('succeeded');
  });

  it('tells a stage without runs-on to add one, and says why detection found nothing', async () => {
    const smi = fakeNvidiaSmi({ kind: 'exit', code: 9, stderr: 'driver not loaded' });
    const yaml = `name: p\nstages:\n  train:\n    uses: command\n    requires: [gpu]\n    with: { run: 'echo never' }\n`;
    const { record } = await run(yaml, { PATH: smi.path });
    const message = record.stages.train.error!.message;
    expect(message).toContain("add 'runs-on: [self-hosted, gpu]' to the stage");
    expect(message).toContain('nvidia-smi exited with code 9: driver not loaded');
  });

  it('records the GPUs, driver and CUDA version nvidia-smi reports on the stage that ran on them, and shows them in the run detail', async () => {
    const smi = fakeNvidiaSmi({ kind: 'gpus' });
    const { record, events } = await run(GPU_PIPELINE, { PATH: smi.path });
    expect(record.status).toBe('succeeded');
    const gpu = { source: 'nvidia-smi', devices: [{ index: 0, name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559 }, { index: 1, name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559 }], driver: '550.54.15', cuda: '12.4' };
    expect(record.stages.embed.resources).toEqual({ gpu });
    expect(events.find((e) => e.type === 'stage.started' && e.stage === 'embed')).toMatchObject({ resources: { gpu } });
    expect(record.stages.extract.resources).toBeUndefined();
    expect(renderRunDetail(record)).toContain('resources:\n  embed: 2 × NVIDIA H100 80GB HBM3 (81559 MiB) · driver 550.54.15 · CUDA 12.4 (nvidia-smi)');
    expect(smi.calls()).toHaveLength(2);
  });

  it('runs where WEIR_GPU=1 lifts the requirement, recording the override as the source', async () => {
    const { record } = await run(GPU_PIPELINE, { WEIR_GPU: '1' });
    expect(record.status).toBe('succeeded');
    expect(record.stages.embed.resources).toEqual({ gpu: { source: 'override', devices: [] } });
  });

  it('never runs nvidia-smi for a pipeline without GPU stages, nor for a GPU stage that is disabled or left out of the run', async () => {
    const smi = fakeNvidiaSmi({ kind: 'gpus' });
    const disabled = await run(`name: p\nstages:\n  a: { uses: sql, with: { query: "select 1 as x" } }\n  g:\n    uses: command\n    requires: [gpu]\n    enabled: false\n    with: { run: 'echo no' }\n`, { PATH: smi.path });
    expect(disabled.record.status).toBe('succeeded');
    expect(disabled.record.stages.g.status).toBe('skipped');
    const only = await run(GPU_PIPELINE, { PATH: smi.path }, { only: ['extract'] });
    expect(only.record.status).toBe('succeeded');
    expect(only.record.stages.embed.status).toBe('skipped');
    expect(smi.calls()).toEqual([]);
  });
});
