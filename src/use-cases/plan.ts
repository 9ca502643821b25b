/**
 * The `plan` use case: validates the named pipeline files and builds each one's immutable Plan
 * (with the stage kinds, so it knows which stages leave tables, and weir.yml's policies), with the
 * stage selection (`--only`/`--from`) checked first so a typo gets a did-you-mean.
 */
import { didYouMean } from '../model/did-you-mean.ts';
import type { Diagnostic } from '../model/diagnostic.ts';
import type { PipelineSpec } from '../model/pipeline.ts';
import { createPlan, type Plan, type PlanOptions } from '../planner/plan.ts';
import { type Segment, type SegmentMatrixEntry, segmentMatrix, splitSegments } from '../planner/segments.ts';
import { validatePipelines, type ValidateDeps } from './validate.ts';

export type PlanDeps = ValidateDeps;

export interface PlanRequest extends PlanOptions {
  root: string;
  /** Pipeline files, absolute or relative to the root. */
  files: readonly string[];
}

export type PlanResult =
  | { ok: true; plans: Plan[]; diagnostics: Diagnostic[] }
  | { ok: false; reason: 'invalid'; diagnostics: Diagnostic[] }
  | { ok: false; reason: 'selection'; message: string };

export async function planPipelines(request: PlanRequest, deps: PlanDeps): Promise<PlanResult> {
  const validation = await validatePipelines({ root: request.root, paths: request.files }, deps);
  if (!validation.ok) return { ok: false, reason: 'invalid', diagnostics: validation.diagnostics };
  const plans: Plan[] = [];
  for (const pipeline of validation.pipelines) {
    const unknown = findUnknownStage(pipeline.spec, request);
    if (unknown) return { ok: false, reason: 'selection', message: unknown };
    plans.push(createPlan(pipeline.spec, { only: request.only, from: request.from, policies: validation.policies, kinds: deps.kinds }));
  }
  return { ok: true, plans, diagnostics: validation.diagnostics };
}

/** A message for the first `--only`/`--from` stage the pipeline does not have, else undefined. */
export function findUnknownStage(spec: PipelineSpec, selection: PlanOptions): string | undefined {
  const stages = Object.keys(spec.stages);
  for (const [flag, names] of [['--only', selection.only], ['--from', selection.from]] as const) {
    for (const name of names ?? []) {
      if (stages.includes(name)) continue;
      return `${flag} names stage '${name}', which pipeline '${spec.name}' does not have${didYouMean(name, stages)}; its stages: ${stages.join(', ')}`;
    }
  }
  return undefined;
}

/** A plan split into the jobs of the generated workflow: its segments and the matrix of segment jobs. */
export interface SegmentedPlan {
  pipeline: string;
  segments: Segment[];
  matrix: { include: SegmentMatrixEntry[] };
}

export function segmentPlan(plan: Plan): SegmentedPlan {
  const segments = splitSegments(plan);
  return { pipeline: plan.pipeline, segments, matrix: segmentMatrix(segments) };
}
