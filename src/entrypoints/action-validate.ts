/**
 * `command: validate` and `command: plan`: every named pipeline validated (never executed, so safe
 * on pull requests from forks), each diagnostic an annotation on its line, the DAG and the plan in
 * the job summary, and the `matrix` output (runner labels per stage) for fan-out jobs.
 */
import { relative, resolve } from 'node:path';
import type { Diagnostic } from '../model/diagnostic.ts';
import { createPlan, type Plan } from '../planner/plan.ts';
import { renderValidationSummary } from '../report/run-summary.ts';
import { findPipeline } from '../definitions/discover.ts';
import { validatePipelines, type ValidateResult } from '../use-cases/validate.ts';
import type { ActionsRuntime, Annotation } from '../adapters/github-actions.ts';
import { defaultStageKinds } from '../stages/registry.ts';
import type { ActionInputs } from './action-inputs.ts';

/** GitHub shows at most 10 annotations of each severity per step; more are dropped silently. */
export const ANNOTATIONS_PER_STEP = 10;

/** A pipeline named in the `pipeline` input that the project does not have. */
export class UnknownPipelineError extends Error {
  constructor(name: string, known: readonly string[]) {
    super(`input 'pipeline': no pipeline '${name}' in pipelines/; ${known.length ? `pipelines: ${known.join(', ')}` : 'the project has none yet'}`);
    this.name = 'UnknownPipelineError';
  }
}

/**
 * Annotations for diagnostics, at most ANNOTATIONS_PER_STEP per severity, less one error kept for
 * the step's own failure message (setFailed is an error annotation too): when there are more, the
 * last one shown says how many more there are and points at the job summary, which lists them all.
 */
export function toAnnotations(diagnostics: readonly Diagnostic[], pathOf: (file: string) => string): Annotation[] {
  const annotations: Annotation[] = [];
  for (const severity of ['error', 'warning'] as const) {
    const limit = severity === 'error' ? ANNOTATIONS_PER_STEP - 1 : ANNOTATIONS_PER_STEP;
    const found = diagnostics.filter((d) => d.severity === severity);
    const shown = found.length > limit ? found.slice(0, limit - 1) : found;
    for (const d of shown) {
      annotations.push({ severity, message: d.message, title: d.code, file: pathOf(d.file), startLine: d.line, startColumn: d.column, endLine: d.endLine ?? d.line, endColumn: d.endColumn });
    }
    const folded = found.slice(shown.length);
    if (folded.length) {
      const codes = [...new Set(folded.map((d) => d.code))].join(', ');
      annotations.push({ severity, title: `${folded.length} more ${severity}s`, message: `${folded.length} more ${severity}s (${codes}) are not annotated here: GitHub shows ${ANNOTATIONS_PER_STEP} per step. The job summary lists every diagnostic.` });
    }
  }
  return annotations;
}

/** `{ include: [{ pipeline, stage, level, runs-on }] }`: one matrix entry per stage, for fan-out jobs. */
export function planMatrix(plans: readonly Plan[]): string {
  const include = plans.flatMap((plan) => plan.stages.map((s) => ({ pipeline: plan.pipeline, stage: s.name, level: s.level, 'runs-on': s.runnerLabels })));
  return JSON.stringify({ include });
}

/** Pipeline names from the input → files; none → every pipeline (validatePipelines' default). */
export async function resolvePipelineFiles(names: readonly string[], root: string): Promise<string[]> {
  return Promise.all(
    names.map(async (name) => {
      const found = await findPipeline(name, root);
      if (!found.found) throw new UnknownPipelineError(name, found.knownNames);
      return found.file;
    }),
  );
}

function annotate(result: ValidateResult, inputs: ActionInputs, runtime: ActionsRuntime): void {
  // Annotations name files relative to the repository, which may be above working-directory.
  const pathOf = (file: string) => relative(inputs.workspace, resolve(inputs.root, file)).replaceAll('\\', '/');
  for (const annotation of toAnnotations(result.diagnostics, pathOf)) runtime.annotate(annotation);
}

/** Validates (and plans) the pipelines of the inputs; returns whether they are valid. */
export async function validateAction(inputs: ActionInputs, runtime: ActionsRuntime): Promise<boolean> {
  const kinds = defaultStageKinds();
  const result = await validatePipelines({ root: inputs.root, paths: await resolvePipelineFiles(inputs.pipelines, inputs.root) }, { kinds });
  annotate(result, inputs, runtime);
  const plans = result.ok ? result.pipelines.map((p) => createPlan(p.spec, { policies: result.policies, kinds })) : [];
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  const line = `${result.files.length} pipeline file${result.files.length === 1 ? '' : 's'} checked: ${errors} error${errors === 1 ? '' : 's'}, ${result.diagnostics.length - errors} warning${result.diagnostics.length - errors === 1 ? '' : 's'}`;
  runtime.info(line);
  await runtime.appendSummary(renderValidationSummary({ ok: result.ok, files: result.files, diagnostics: result.diagnostics, plans }).markdown);
  runtime.setOutput('status', result.ok ? 'valid' : 'invalid');
  runtime.setOutput('summary', line);
  runtime.setOutput('matrix', planMatrix(plans));
  runtime.setOutput('run-id', '');
  runtime.setOutput('report-artifact', '');
  if (!result.ok) runtime.setFailed(`weir validate: ${line}; see the annotations and the job summary`);
  return result.ok;
}
