/** The fan-out workflow: plan → one job per segment (a matrix for shards) → finalize, from the planner's segments. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { LoadedPipeline } from '../../src/model/pipeline.ts';
import { segmentJobId } from '../../src/use-cases/compile-workflows.ts';
import { compile, loadPipeline, OPTIONS } from './helpers.ts';
import { GPU_PIPELINE, THREE_RUNNERS_PIPELINE } from './variants.ts';

type Step = { name: string; id?: string; uses: string; with?: Record<string, unknown> };
type Job = {
  name: string;
  needs?: string[];
  if?: string;
  'runs-on': unknown;
  'timeout-minutes'?: number;
  permissions: Record<string, string>;
  strategy?: { 'fail-fast': boolean; matrix: Record<string, unknown> };
  outputs?: Record<string, string>;
  steps: Step[];
};

function compiled(pipeline: LoadedPipeline): { text: string; jobs: Record<string, Job> } {
  const result = compile([pipeline]);
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  const file = result.files.find((f) => f.path === `.github/workflows/weir-${pipeline.spec.name}.yml`);
  if (!file) throw new Error(`no workflow for ${pipeline.spec.name}`);
  return { text: file.text, jobs: (parse(file.text) as { jobs: Record<string, Job> }).jobs };
}

function actionStep(job: Job): Step {
  const step = job.steps.find((s) => s.uses === OPTIONS.action);
  if (!step) throw new Error(`job ${job.name} has no weir step`);
  return step;
}

/** `pipeline` with `change` applied to the spec of one stage: shapes validation refuses, which compile must refuse too. */
function withStage(pipeline: LoadedPipeline, stage: string, change: Record<string, unknown>): LoadedPipeline {
  const stages = { ...pipeline.spec.stages, [stage]: { ...pipeline.spec.stages[stage], ...change } };
  return { ...pipeline, spec: { ...pipeline.spec, stages } } as LoadedPipeline;
}

const THREE = () => loadPipeline(THREE_RUNNERS_PIPELINE, 'pipelines/three.yml');

describe('the fan-out workflow', () => {
  it('has a plan job, one job per segment with needs from the segment DAG, and a finalize job that needs them all', () => {
    const { jobs } = compiled(THREE());
    expect(Object.keys(jobs)).toEqual(['plan', 'segment-extract', 'segment-embed', 'segment-index', 'segment-publish', 'finalize']);
    expect(Object.fromEntries(Object.entries(jobs).map(([id, job]) => [id, job.needs]))).toEqual({
      plan: undefined,
      'segment-extract': ['plan'],
      'segment-embed': ['plan', 'segment-extract'],
      'segment-index': ['plan', 'segment-embed'],
      'segment-publish': ['plan', 'segment-extract', 'segment-index'],
      finalize: ['plan', 'segment-extract', 'segment-embed', 'segment-index', 'segment-publish'],
    });
  });

  it('runs each segment job on its labels: the default runner for none, a string for one, a list for several', () => {
    const { jobs } = compiled(THREE());
    expect(jobs['segment-extract']['runs-on']).toBe('ubuntu-latest');
    expect(jobs['segment-index']['runs-on']).toBe('big-memory');
    expect(jobs['segment-embed']['runs-on']).toEqual(['self-hosted', 'gpu']);
    expect(jobs['segment-index'].name).toBe('index on big-memory');
    expect(jobs['segment-embed'].name).toBe('embed ${{ matrix.shard }}/4 on self-hosted, gpu');
    for (const id of ['plan', 'finalize']) expect(jobs[id]['runs-on']).toBe('ubuntu-latest');
  });

  it('starts the run in the plan job (artifacts hand-off, dispatched params) and hands its run id to every other job', () => {
    const { jobs } = compiled(THREE());
    expect(jobs.plan.outputs).toEqual({ 'run-id': '${{ steps.plan.outputs.run-id }}' });
    expect(actionStep(jobs.plan)).toMatchObject({ id: 'plan', with: { command: 'plan', pipeline: 'three-runners', handoff: 'artifacts', params: '${{ toJSON(inputs) }}' } });
    expect(actionStep(jobs['segment-publish']).with).toEqual({ command: 'run', pipeline: 'three-runners', segment: 'publish', 'run-id': '${{ needs.plan.outputs.run-id }}' });
    expect(actionStep(jobs.finalize).with).toEqual({ command: 'finalize', pipeline: 'three-runners', 'run-id': '${{ needs.plan.outputs.run-id }}' });
  });

  it('runs a sharded segment as a matrix of N jobs that all run to the end, each told its shard as i/N', () => {
    const { jobs } = compiled(THREE());
    expect(jobs['segment-embed'].strategy).toEqual({ 'fail-fast': false, matrix: { shard: [1, 2, 3, 4] } });
    expect(actionStep(jobs['segment-embed']).with).toEqual({ command: 'run', pipeline: 'three-runners', segment: 'embed', shard: '${{ matrix.shard }}/4', 'run-id': '${{ needs.plan.outputs.run-id }}' });
    expect(jobs['segment-index'].strategy).toBeUndefined();
  });

  it('skips a segment whose upstream job failed or when the plan started no run, and always finalizes a started run', () => {
    const { jobs } = compiled(THREE());
    // success() spelled out: GitHub adds it to an if: without a status function; always() here would run a segment on a failed upstream.
    for (const id of ['segment-extract', 'segment-embed', 'segment-index', 'segment-publish']) expect(jobs[id].if).toBe("${{ success() && needs.plan.outputs.run-id != '' }}");
    expect(jobs.finalize.if).toBe("${{ always() && needs.plan.outputs.run-id != '' }}");
  });

  it('grants contents: write to finalize alone and bounds segment jobs by the pipeline timeout plus the setup margin', () => {
    const { jobs } = compiled(THREE());
    expect(Object.fromEntries(Object.entries(jobs).map(([id, job]) => [id, job.permissions.contents]))).toEqual({
      plan: 'read',
      'segment-extract': 'read',
      'segment-embed': 'read',
      'segment-index': 'read',
      'segment-publish': 'read',
      finalize: 'write',
    });
    expect(jobs['segment-embed']['timeout-minutes']).toBe(65);
    expect(jobs.plan['timeout-minutes']).toBe(10);
  });

  it('says above each segment job which stages it runs, its shards and the tables it hands on', () => {
    const { text } = compiled(THREE());
    expect(text).toContain('  # Segment extract: stages extract, prepare, audit; hands on extract, prepare, audit.\n  segment-extract:');
    expect(text).toContain('  # Segment embed: stage embed, in 4 shards of prepare (by id); hands on vectors.\n  segment-embed:');
    expect(text).toContain('  # Segment publish: stage publish.\n  segment-publish:');
    expect(text).toMatch(/# Starts a run split into 4 segments;.*\n {2}# \(a failure skips everything downstream\)/);
  });

  it('omits timeout-minutes on segment jobs of a pipeline without a timeout', () => {
    const { jobs } = compiled(loadPipeline(GPU_PIPELINE.replace('timeout: 50m\n', '')));
    expect(jobs['segment-embed']['timeout-minutes']).toBeUndefined();
  });
});

describe('pipelines that keep the one-job workflow', () => {
  it('runs a pipeline without runs-on in one job, even when its stages form disconnected segments', () => {
    const yaml = 'name: two\nschedule: { cron: "0 1 * * *" }\nstages:\n  a: { uses: sql, with: { query: "select 1 as x" } }\n  b: { uses: sql, with: { query: "select 2 as y" } }\n';
    const { jobs } = compiled(loadPipeline(yaml));
    expect(Object.keys(jobs)).toEqual(['run']);
    expect(jobs.run['runs-on']).toBe('ubuntu-latest');
    expect(actionStep(jobs.run).with).toEqual({ command: 'run', pipeline: 'two', params: '${{ toJSON(inputs) }}' });
  });

  it('runs a pipeline whose every stage has the same labels in one job on those labels', () => {
    const yaml = 'name: all-gpu\nschedule: { cron: "0 1 * * *" }\nstages:\n  a: { uses: sql, runs-on: [self-hosted, gpu], with: { query: "select 1 as x" } }\n  b: { uses: sql, needs: [a], runs-on: [gpu, self-hosted], with: { query: "select * from a" } }\n';
    const { jobs } = compiled(loadPipeline(yaml));
    expect(Object.keys(jobs)).toEqual(['run']);
    expect(jobs.run['runs-on']).toEqual(['self-hosted', 'gpu']);
    expect(jobs.run.permissions).toEqual({ contents: 'write' });
  });
});

describe('segments compile refuses', () => {
  it('refuses a stage with more than 256 shards with WEIR702 at its shards field, and writes no file', () => {
    const result = compile([withStage(THREE(), 'embed', { shards: 257 })]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnostics).toMatchObject([{ code: 'WEIR702', severity: 'error', file: 'pipelines/three.yml', line: 16 }]);
    expect(result.diagnostics[0].message).toBe("stage 'embed' has 257 shards, and GitHub runs at most 256 jobs of one matrix: set shards to 256 or fewer");
  });

  it('refuses a sharded stage with no single input table to partition with WEIR703, naming the fix', () => {
    const result = compile([withStage(THREE(), 'embed', { needs: ['prepare', 'audit'] })]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnostics).toMatchObject([{ code: 'WEIR703', file: 'pipelines/three.yml', line: 8 }]);
    expect(result.diagnostics[0].message).toContain("pipeline 'three-runners' cannot be split into jobs: stage 'embed' has shards but no single input table");
    expect(result.diagnostics[0].message).toContain('shard_table');
  });

  it('accepts exactly 256 shards', () => {
    const { jobs } = compiled(withStage(THREE(), 'embed', { shards: 256 }));
    expect((jobs['segment-embed'].strategy?.matrix.shard as number[]).at(-1)).toBe(256);
  });
});

describe('segmentJobId', () => {
  it('prefixes segment- and turns characters a job id may not hold into _', () => {
    expect(segmentJobId('load_2-b')).toBe('segment-load_2-b');
    expect(segmentJobId('a.b c')).toBe('segment-a_b_c');
  });
});

describe('a gate in a pipeline that runs as several jobs', () => {
  it('is refused with WEIR704 at the gate stage, and nothing is written', async () => {
    const { compileWorkflows } = await import('../../src/use-cases/compile.ts');
    const { loadPipeline } = await import('./helpers.ts');
    const yaml = `name: gated-gpu
schedule: { cron: "0 6 * * *" }
stages:
  a: { uses: sql, with: { query: "select 1 as x" } }
  wait: { uses: gate, needs: a, with: { condition: "flags.ready == true" } }
  b: { uses: command, needs: wait, runs-on: gpu, with: { run: "true" } }
`;
    const result = compileWorkflows({ pipelines: [loadPipeline(yaml, 'pipelines/gated-gpu.yml')], options: { action: 'acme/weir@v1', regenerate: 'npx weir compile', cliPackage: 'weir-pipelines' }, now: new Date('2026-12-01T00:00:00Z') });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnostics).toEqual([expect.objectContaining({ code: 'WEIR704', line: 5, file: 'pipelines/gated-gpu.yml' })]);
    expect(result.diagnostics[0].message).toMatch(/stage 'wait' is a gate, and pipeline 'gated-gpu' runs as several jobs/);
  });
});
