/**
 * The `compile` use case, pure: validated pipelines → the GitHub Actions workflow files that
 * schedule, dispatch and validate them, as text; and the comparison of those files with what is on
 * disk, for `weir compile --check`. Reading and writing files is the entry point's job.
 */
import { createTwoFilesPatch } from 'diff';
import type { Diagnostic } from '../model/diagnostic.ts';
import { type LoadedPipeline, MAX_SHARDS } from '../model/pipeline.ts';
import { createPlan, PlanError, type PlanningKind } from '../planner/plan.ts';
import { type Segment, splitSegments } from '../planner/segments.ts';
import { renderWorkflowYaml } from '../report/workflow-yaml.ts';
import { defaultStageKinds } from '../stages/registry.ts';
import { toUtcSchedule } from './compile-cron.ts';
import { controlWorkflow, dispatchInputs, GENERATED_MARKER, isFannedOut, pipelineWorkflow, validateWorkflow, type WorkflowOptions } from './compile-workflows.ts';

/** GitHub refuses a `workflow_dispatch` with more inputs than this. */
export const MAX_DISPATCH_INPUTS = 25;
export const COMPILE_CODES = { tooManyInputs: 'WEIR701', tooManyShards: 'WEIR702', unsplittable: 'WEIR703', gateInFanOut: 'WEIR704' } as const;

export interface CompileRequest {
  pipelines: readonly LoadedPipeline[];
  options: WorkflowOptions;
  /** Which year's time-zone offsets convert crons to UTC. */
  now: Date;
  /** Stage kinds, so the plan knows which stages produce tables (a sharded stage's input). Default: weir's built-in kinds. */
  kinds?: ReadonlyMap<string, PlanningKind>;
}

export interface WorkflowFile {
  /** Relative to the project root. */
  path: string;
  text: string;
}

export type CompileResult = { ok: true; files: WorkflowFile[] } | { ok: false; diagnostics: Diagnostic[] };

export function compileWorkflows(request: CompileRequest): CompileResult {
  const triggered = request.pipelines.filter(isTriggered);
  const kinds = request.kinds ?? defaultStageKinds();
  const split = triggered.map((pipeline) => segmentsOf(pipeline, kinds));
  const diagnostics = [...request.pipelines.flatMap(checkDispatchInputs), ...split.flatMap((s) => (Array.isArray(s) ? [] : [s]))];
  if (diagnostics.length) return { ok: false, diagnostics };
  const documents = triggered.map((pipeline, i) => {
    const schedule = pipeline.spec.schedule && toUtcSchedule(pipeline.spec.schedule.cron, pipeline.spec.schedule.timezone, request.now);
    return pipelineWorkflow(pipeline, schedule, request.options, split[i] as Segment[]);
  });
  documents.push(validateWorkflow(request.options));
  if (triggered.length > 0) documents.push(controlWorkflow(triggered.map((p) => p.spec.name).sort(), request.options));
  const files = documents.map((document) => ({ path: document.path, text: renderWorkflowYaml(document) }));
  return { ok: true, files: files.sort((a, b) => a.path.localeCompare(b.path)) };
}

/**
 * The pipeline's segments, as the plan splits them (every stage: a workflow runs the whole
 * pipeline), or a diagnostic when a segment cannot become a job. Validation refuses both cases
 * first; compile checks again because a workflow GitHub rejects is worse than no workflow.
 */
function segmentsOf(pipeline: LoadedPipeline, kinds: ReadonlyMap<string, PlanningKind>): Segment[] | Diagnostic {
  let segments: Segment[];
  try {
    segments = splitSegments(createPlan(pipeline.spec, { kinds }));
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    return diagnostic(pipeline, ['stages'], COMPILE_CODES.unsplittable, `pipeline '${pipeline.spec.name}' cannot be split into jobs: ${error.message}`);
  }
  // A parked run ends its job; a run split into jobs has no way yet to park and resume as one.
  const gate = Object.entries(pipeline.spec.stages).find(([, stage]) => stage.uses === 'gate');
  if (gate && isFannedOut(segments)) {
    return diagnostic(pipeline, ['stages', gate[0], 'uses'], COMPILE_CODES.gateInFanOut, `stage '${gate[0]}' is a gate, and pipeline '${pipeline.spec.name}' runs as several jobs (runs-on or shards): a run split into jobs cannot park on a gate yet; move the gate to a pipeline of its own that runs on one runner, or drop runs-on/shards here`);
  }
  const oversized = segments.find((s) => (s.shards?.count ?? 0) > MAX_SHARDS);
  if (!oversized) return segments;
  return diagnostic(
    pipeline,
    ['stages', oversized.id, 'shards'],
    COMPILE_CODES.tooManyShards,
    `stage '${oversized.id}' has ${oversized.shards!.count} shards, and GitHub runs at most ${MAX_SHARDS} jobs of one matrix: set shards to ${MAX_SHARDS} or fewer`,
  );
}

function diagnostic(pipeline: LoadedPipeline, path: (string | number)[], code: string, message: string): Diagnostic {
  const { line, column } = pipeline.locate(path);
  return { code, severity: 'error', file: pipeline.file, line, column, message };
}

/** A pipeline gets a workflow when something can start it: a schedule, or params to dispatch it with. */
export function isTriggered(pipeline: LoadedPipeline): boolean {
  return pipeline.spec.schedule !== undefined || Object.keys(pipeline.spec.params ?? {}).length > 0;
}

function checkDispatchInputs(pipeline: LoadedPipeline): Diagnostic[] {
  const count = Object.keys(dispatchInputs(pipeline.spec.params ?? {})).length;
  if (count <= MAX_DISPATCH_INPUTS) return [];
  const { line, column } = pipeline.locate(['params']);
  return [
    {
      code: COMPILE_CODES.tooManyInputs,
      severity: 'error',
      file: pipeline.file,
      line,
      column,
      message: `pipeline '${pipeline.spec.name}' has ${count} params, and GitHub's workflow_dispatch takes at most ${MAX_DISPATCH_INPUTS} inputs: group some into one string param (e.g. a JSON object) or mark values that never change by hand as constants`,
    },
  ];
}

/** One generated file that differs from the disk. */
export type StaleWorkflow =
  | { path: string; reason: 'missing' | 'changed'; diff: string }
  /** A file weir generated earlier for a pipeline that no longer has a trigger (or exists). */
  | { path: string; reason: 'orphaned'; diff: string };

/**
 * Compares generated files with `onDisk` (path → text, for every `.github/workflows/*.yml`).
 * A file on disk that weir generated and no longer would is orphaned; other files are the user's.
 */
export function findStaleWorkflows(files: readonly WorkflowFile[], onDisk: ReadonlyMap<string, string>): StaleWorkflow[] {
  const stale: StaleWorkflow[] = [];
  for (const file of files) {
    const current = onDisk.get(file.path);
    if (current === file.text) continue;
    const diff = createTwoFilesPatch(file.path, file.path, current ?? '', file.text, current === undefined ? 'missing' : 'on disk', 'generated');
    stale.push({ path: file.path, reason: current === undefined ? 'missing' : 'changed', diff });
  }
  const generated = new Set(files.map((f) => f.path));
  for (const [path, text] of onDisk) {
    if (generated.has(path) || !isGeneratedByWeir(text)) continue;
    stale.push({ path, reason: 'orphaned', diff: createTwoFilesPatch(path, path, text, '', 'on disk', 'no longer generated') });
  }
  return stale.sort((a, b) => a.path.localeCompare(b.path));
}

export function isGeneratedByWeir(text: string): boolean {
  return text.startsWith(`# ${GENERATED_MARKER}`);
}
