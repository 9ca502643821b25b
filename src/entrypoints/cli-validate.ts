/** `weir validate` and `weir plan` (with `--segments`): parse, call the use case, render. */
import { relative, resolve } from 'node:path';
import { PIPELINES_DIR } from '../definitions/discover.ts';
import { renderMermaid, renderPlan } from '../report/terminal.ts';
import type { Plan } from '../planner/plan.ts';
import { renderSegments, renderSegmentsMermaid } from '../report/render-segments.ts';
import { planPipelines, segmentPlan } from '../use-cases/plan.ts';
import { validatePipelines } from '../use-cases/validate.ts';
import type { CliValues } from './cli.ts';
import { createCliDeps } from './cli-deps.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { isExistingPath, printDiagnostics, resolvePipelineArgs, rootOf, summarize } from './cli-pipelines.ts';

const START_HINT = `create a file such as ${PIPELINES_DIR}/hello.yml:
  name: hello
  stages:
    greet: { uses: sql, with: { query: "select 'hello' as greeting" } }
then run 'weir validate' and 'weir run hello' (docs/pipeline-reference.md has every field)`;

export async function validateCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  const root = rootOf(values, io);
  // Paths are typed relative to the current folder, which may be below the project root.
  const missing = args.find((arg) => !isExistingPath(arg, io));
  if (missing !== undefined) throw new UsageError(`'${missing}' does not exist in ${io.cwd}: pass pipeline files or folders of them, or no path for ${PIPELINES_DIR}/`);
  const paths = args.map((arg) => resolve(io.cwd, arg));
  const result = await validatePipelines({ root, paths }, createCliDeps(root));
  if (values.json) {
    const { ok, files, diagnostics } = result;
    io.out(JSON.stringify({ ok, files, pipelines: result.pipelines.map((p) => p.spec.name), diagnostics }, null, 2));
    return ok ? EXIT.ok : EXIT.usage;
  }
  printDiagnostics(result.diagnostics, root, io);
  if ('empty' in result) {
    io.out(`no pipelines yet in ${relative(io.cwd, resolve(root, PIPELINES_DIR)) || PIPELINES_DIR}/: ${START_HINT}`);
    return EXIT.ok;
  }
  const line = `${result.files.length} file${result.files.length === 1 ? '' : 's'} checked: ${summarize(result.diagnostics)}`;
  if (result.ok) io.out(line);
  else io.err(line);
  return result.ok ? EXIT.ok : EXIT.usage;
}

export async function planCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  // fan-out: start a run split into segments in a hand-off folder.
  if (values.handoff !== undefined) return (await import('./cli-segments.ts')).planHandoffCommand(args, values, io);
  if (values.json && values.mermaid) throw new UsageError("'weir plan' prints JSON or Mermaid, not both: pass --json or --mermaid");
  const root = rootOf(values, io);
  const files = await resolvePipelineArgs(args, values, io, false);
  const result = await planPipelines({ root, files, only: values.only, from: values.from }, createCliDeps(root));
  if (!result.ok) {
    if (result.reason === 'selection') throw new UsageError(result.message);
    if (values.json) io.out(JSON.stringify({ ok: false, diagnostics: result.diagnostics }, null, 2));
    else printDiagnostics(result.diagnostics, root, io);
    if (!values.json) io.err(`weir: ${summarize(result.diagnostics)}; nothing was planned`);
    return EXIT.usage;
  }
  if (!values.json) printDiagnostics(result.diagnostics, root, io);
  for (const plan of result.plans) io.out(values.segments ? renderSegmented(plan, values) : renderPlanned(plan, values));
  return EXIT.ok;
}

function planJson(plan: Plan): Record<string, unknown> {
  return { pipeline: plan.pipeline, levels: plan.levels, stages: plan.stages.map(({ spec: _spec, ...s }) => s) };
}

function renderPlanned(plan: Plan, values: CliValues): string {
  if (values.json) return JSON.stringify(planJson(plan), null, 2);
  return values.mermaid ? renderMermaid(plan) : renderPlan(plan);
}

// --segments (issue 10): the lead's --handoff <dir> starts a run from here.
function renderSegmented(plan: Plan, values: CliValues): string {
  const { segments, matrix } = segmentPlan(plan);
  if (values.json) return JSON.stringify({ ...planJson(plan), segments, matrix }, null, 2);
  return values.mermaid ? renderSegmentsMermaid(plan, segments) : renderSegments(plan, segments);
}
