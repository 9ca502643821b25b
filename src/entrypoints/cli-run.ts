/** `weir validate`, `weir plan` and `weir run`. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Diagnostic } from '../model/diagnostic.ts';
import { formatDiagnostic, hasErrors } from '../model/diagnostic.ts';
import type { RunEvent } from '../model/events.ts';
import type { LoadedPipeline } from '../model/pipeline.ts';
import type { PolicyConfig } from '../policies/policy.ts';
import { createPlan, PlanError } from '../planner/plan.ts';
import { COLOR, PLAIN, formatEventLine, renderMermaid, renderPlan } from '../report/terminal.ts';
import { parseIntervalOption } from '../planner/interval.ts';
import { parseParamPairs } from '../use-cases/params.ts';
import { runPipeline, type RunSummary } from '../use-cases/run-pipeline.ts';
import { CancelledError } from '../model/errors.ts';
import { createLocalRunDeps } from './local-run-deps.ts';
import { suggest } from '../model/did-you-mean.ts';
import { findPipeline } from '../definitions/discover.ts';
import { validateProject } from '../definitions/validate-project.ts';
import { defaultStageKinds } from '../stages/registry.ts';
import type { CliValues } from './cli.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';

const PIPELINES_DIR = 'pipelines';

function rootOf(values: CliValues, io: Io): string {
  return resolve(io.cwd, values.root ?? '.');
}

/** The offending line with a caret under the column, like a compiler. */
function codeFrame(root: string, d: Diagnostic): string | undefined {
  try {
    const line = readFileSync(resolve(root, d.file), 'utf8').split(/\r?\n/)[d.line - 1];
    if (line === undefined) return undefined;
    const width = Math.max(1, (d.endLine === d.line && d.endColumn ? d.endColumn : d.column + 1) - d.column);
    return `  ${String(d.line).padStart(4)} │ ${line}\n       │ ${' '.repeat(Math.max(0, d.column - 1))}${'^'.repeat(width)}`;
  } catch {
    return undefined;
  }
}

function printDiagnostics(diagnostics: readonly Diagnostic[], root: string, io: Io): void {
  const style = io.color ? COLOR : PLAIN;
  for (const d of diagnostics) {
    const text = formatDiagnostic(d);
    io.err(d.severity === 'error' ? style.red(text) : style.yellow(text));
    const frame = codeFrame(root, d);
    if (frame) io.err(style.dim(frame));
  }
}

function summarize(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  return `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
}

/** Loads and validates pipelines; prints diagnostics. Returns undefined when any has an error. */
async function loadValid(paths: string[], values: CliValues, io: Io): Promise<{ pipelines: LoadedPipeline[]; policies: PolicyConfig } | undefined> {
  const root = rootOf(values, io);
  const { pipelines, diagnostics, policies } = await validateProject(paths, { root, kinds: defaultStageKinds() });
  if (!values.json) printDiagnostics(diagnostics, root, io);
  if (hasErrors(diagnostics)) {
    if (values.json) io.out(JSON.stringify({ ok: false, diagnostics }, null, 2));
    else io.err(`weir: ${summarize(diagnostics)}; nothing was run`);
    return undefined;
  }
  return { pipelines, policies };
}

async function resolvePipelineArgs(args: string[], values: CliValues, io: Io): Promise<string[]> {
  if (values.all) return [PIPELINES_DIR];
  if (args.length === 0) throw new UsageError(`name a pipeline (or pass --all); see 'weir status' for the list`);
  const root = rootOf(values, io);
  return Promise.all(
    args.map(async (arg) => {
      const found = await findPipeline(arg, root);
      if (found.found) return found.file;
      const hint = suggest(arg, found.knownNames);
      const known = found.knownNames.length ? `; pipelines: ${found.knownNames.join(', ')}` : `; no pipelines found in ${PIPELINES_DIR}/`;
      throw new UsageError(`no pipeline '${arg}'${hint ? ` (did you mean '${hint}'?)` : ''}${known}`);
    }),
  );
}

export async function validateCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  const root = rootOf(values, io);
  const paths = args.length ? args : [PIPELINES_DIR];
  const { pipelines, diagnostics, files } = await validateProject(paths, { root, kinds: defaultStageKinds() });
  const ok = !hasErrors(diagnostics);
  if (values.json) {
    io.out(JSON.stringify({ ok, files, pipelines: pipelines.map((p) => p.spec.name), diagnostics }, null, 2));
  } else {
    printDiagnostics(diagnostics, root, io);
    const line = `${files.length} file${files.length === 1 ? '' : 's'} checked: ${summarize(diagnostics)}`;
    if (ok) io.out(line);
    else io.err(line);
  }
  return ok ? EXIT.ok : EXIT.usage;
}

export async function planCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  const loaded = await loadValid(await resolvePipelineArgs(args, values, io), values, io);
  if (!loaded) return EXIT.usage;
  for (const pipeline of loaded.pipelines) {
    let plan;
    try {
      plan = createPlan(pipeline.spec, { only: values.only, from: values.from });
    } catch (error) {
      if (error instanceof PlanError) throw new UsageError(error.message);
      throw error;
    }
    if (values.json) io.out(JSON.stringify({ pipeline: plan.pipeline, levels: plan.levels, stages: plan.stages.map(({ spec: _spec, ...s }) => s) }, null, 2));
    else io.out(values.mermaid ? renderMermaid(plan) : renderPlan(plan));
  }
  return EXIT.ok;
}

function progressPrinter(values: CliValues, io: Io): (event: RunEvent) => void {
  if (values.json) return () => {};
  const style = io.color ? COLOR : PLAIN;
  const running = new Set<string>();
  let statusShown = false;
  return (event) => {
    if (event.type === 'stage.started') running.add(event.stage);
    if (event.type === 'stage.succeeded' || event.type === 'stage.failed') running.delete(event.stage);
    const quietOk = !values.quiet || event.type === 'run.finished' || event.type === 'stage.failed';
    const line = quietOk ? formatEventLine(event, style, values.verbose) : undefined;
    if (io.isTty && statusShown) io.write('\r\x1b[K');
    if (line !== undefined) io.out(line);
    statusShown = io.isTty && !values.quiet && running.size > 0 && event.type !== 'run.finished';
    if (statusShown) io.write(style.dim(`  running: ${[...running].join(', ')}`));
  };
}

export async function runCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  const root = rootOf(values, io);
  const loaded = await loadValid(await resolvePipelineArgs(args, values, io), values, io);
  if (!loaded) return EXIT.usage;
  const { pipelines, policies } = loaded;
  if (values.interval && values.date) throw new UsageError('give --interval or --date, not both');
  const interval = values.interval ?? values.date ? parseIntervalOption((values.interval ?? values.date)!) : undefined;
  const params = parseParamPairs(values.param ?? []);
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
    throw new UsageError(`--concurrency must be a positive integer, got '${values.concurrency}'`);
  }
  if (pipelines.length > 1 && Object.keys(params).length > 0) throw new UsageError('--param applies to one pipeline; run them one at a time');

  // GitHub's cancel sends SIGINT, then SIGTERM: either stops the run, recorded `cancelled`.
  const controller = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    signalled ??= signal;
    if (!controller.signal.aborted) controller.abort(new CancelledError(`cancelled by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const deps = createLocalRunDeps({ root, env: io.env });
  const summaries: RunSummary[] = [];
  try {
    for (const pipeline of pipelines) {
      if (controller.signal.aborted) break;
      summaries.push(
        await runPipeline(
          {
            pipeline,
            root,
            kinds: defaultStageKinds(),
            policies,
            params,
            interval,
            only: values.only,
            from: values.from,
            resume: values.resume === undefined ? undefined : values.resume === '' || values.resume === 'last' ? true : values.resume,
            concurrency,
            listeners: [progressPrinter(values, io)],
            signal: controller.signal,
            warn: (message) => io.err(`weir: warning: ${message}`),
          },
          deps,
        ),
      );
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (values.json) io.out(JSON.stringify(summaries.length === 1 ? summaries[0].record : summaries.map((s) => s.record), null, 2));
  if (signalled) return EXIT.signal(signalled);
  return summaries.every((s) => s.record.status === 'succeeded') ? EXIT.ok : EXIT.failed;
}