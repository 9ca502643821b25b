/** `weir run`, and the params part of `weir run <pipeline> --help`. */
import type { RunEvent } from '../model/events.ts';
import type { LoadedPipeline, Param } from '../model/pipeline.ts';
import type { PolicyConfig } from '../policies/policy.ts';
import type { ChannelConfigs } from '../notify/channel-config.ts';
import { COLOR, PLAIN, formatEventLine } from '../report/terminal.ts';
import { parseIntervalOption } from '../planner/interval.ts';
import { parseParamPairs, resolveParams } from '../use-cases/params.ts';
import { findUnknownStage } from '../use-cases/plan.ts';
import { runPipeline, type RunRequest, type RunSummary } from '../use-cases/run-pipeline.ts';
import { assertNotPaused, runScheduled } from '../use-cases/scheduled-run.ts';
import { validatePipelines } from '../use-cases/validate.ts';
import { createLocalRunDeps } from './local-run-deps.ts';
import { defaultStageKinds } from '../stages/registry.ts';
import type { CliValues } from './cli.ts';
import { createCliDeps } from './cli-deps.ts';
import { cancelOnSignals } from './cancel-on-signals.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { printDiagnostics, resolvePipelineArgs, rootOf, summarize } from './cli-pipelines.ts';

/**
 * Loads and validates pipelines, prints diagnostics, then checks what depends on them: stage
 * selection and params. Returns undefined when any pipeline has an error.
 */
async function loadValid(paths: string[], values: CliValues, io: Io): Promise<{ pipelines: LoadedPipeline[]; policies: PolicyConfig; allowWritePaths: string[]; channels: ChannelConfigs } | undefined> {
  const root = rootOf(values, io);
  const result = await validatePipelines({ root, paths }, createCliDeps(root));
  if (!values.json) printDiagnostics(result.diagnostics, root, io);
  if (!result.ok) {
    if (values.json) io.out(JSON.stringify({ ok: false, diagnostics: result.diagnostics }, null, 2));
    else io.err(`weir: ${summarize(result.diagnostics)}; nothing was run`);
    return undefined;
  }
  for (const pipeline of result.pipelines) {
    const unknown = findUnknownStage(pipeline.spec, { only: values.only, from: values.from });
    if (unknown) throw new UsageError(unknown);
  }
  // Checked here, where the file is known, so the message can name it; the run checks again.
  if (result.pipelines.length === 1) resolveParams(result.pipelines[0].spec, parseParamPairs(values.param ?? []), result.pipelines[0].file);
  return { pipelines: result.pipelines, policies: result.policies, allowWritePaths: result.allowWritePaths, channels: result.channels };
}

/** `--date` is one UTC day; anything else is refused naming `--date`, not `--interval`. */
function assertDateOption(text: string | undefined): void {
  if (text === undefined) return;
  const day = new Date(`${text}T00:00:00Z`);
  const valid = /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(day.getTime()) && day.toISOString().startsWith(text);
  if (!valid) throw new UsageError(`--date '${text}' is not a date: write YYYY-MM-DD (for a range, use --interval START..END)`);
}

/** Every check of the run's arguments that needs no pipeline file. */
export function assertRunArguments(values: CliValues): void {
  if (values.interval !== undefined && values.date !== undefined) throw new UsageError('give --interval or --date, not both');
  assertDateOption(values.date);
  if (values.interval !== undefined) parseIntervalOption(values.interval);
  // catch-up issue: the two triggers a person or a workflow can ask for.
  if (values.trigger !== undefined && values.trigger !== 'manual' && values.trigger !== 'schedule') {
    throw new UsageError(`--trigger '${values.trigger}' is not a trigger: use manual (the default) or schedule`);
  }
  if (values.trigger === 'schedule' && (values.resume !== undefined || values.only || values.from)) {
    throw new UsageError('--trigger schedule runs whole due intervals: drop --resume, --only and --from');
  }
  if (values.concurrency !== undefined) {
    const concurrency = Number(values.concurrency);
    if (!(Number.isInteger(concurrency) && concurrency > 0)) throw new UsageError(`--concurrency must be a positive whole number, got '${values.concurrency}'`);
  }
}

export function progressPrinter(values: CliValues, io: Io): (event: RunEvent) => void {
  if (values.json) return () => {};
  const style = io.color ? COLOR : PLAIN;
  const running = new Set<string>();
  let statusShown = false;
  let pipeline = '';
  // Quiet output is often read in CI logs of several pipelines: each line says which one.
  const label = (line: string) => (values.quiet ? `${pipeline}: ${line.trimStart().replaceAll('\n', '\n    ')}` : line);
  return (event) => {
    if (event.type === 'run.started' || event.type === 'run.resumed') pipeline = event.pipeline;
    if (event.type === 'stage.started') running.add(event.stage);
    if (event.type === 'stage.succeeded' || event.type === 'stage.failed') running.delete(event.stage);
    const quietOk = !values.quiet || event.type === 'run.finished' || event.type === 'stage.failed' || event.type === 'run.parked';
    const line = quietOk ? formatEventLine(event, style, values.verbose) : undefined;
    if (io.isTty && statusShown) io.write('\r\x1b[K');
    if (line !== undefined) io.out(label(line));
    statusShown = io.isTty && !values.quiet && running.size > 0 && event.type !== 'run.finished';
    if (statusShown) io.write(style.dim(`  running: ${[...running].join(', ')}`));
  };
}

export async function runCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  // fan-out: one segment of a run split across jobs.
  if (values.segment !== undefined) return (await import('./cli-segments.ts')).segmentRunCommand(args, values, io);
  if (values.shard !== undefined || values.handoff !== undefined) throw new UsageError('--shard and --handoff go with --segment <id>');
  assertRunArguments(values);
  const root = rootOf(values, io);
  const loaded = await loadValid(await resolvePipelineArgs(args, values, io), values, io);
  if (!loaded) return EXIT.usage;
  const { pipelines, policies, allowWritePaths, channels } = loaded;
  if (values.interval && values.date) throw new UsageError('give --interval or --date, not both');
  const interval = values.interval ?? values.date ? parseIntervalOption((values.interval ?? values.date)!) : undefined;
  const params = parseParamPairs(values.param ?? []);
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
    throw new UsageError(`--concurrency must be a positive integer, got '${values.concurrency}'`);
  }
  if (pipelines.length > 1 && Object.keys(params).length > 0) throw new UsageError('--param applies to one pipeline; run them one at a time');

  // GitHub's cancel sends SIGINT, then SIGTERM: either stops the run, recorded `cancelled`.
  const cancel = cancelOnSignals();
  const deps = createLocalRunDeps({ root, env: io.env });
  const summaries: RunSummary[] = [];
  try {
    for (const pipeline of pipelines) {
      if (cancel.signal.aborted) break;
      const request: RunRequest = {
        pipeline,
        root,
        kinds: defaultStageKinds(),
        policies,
        allowWritePaths,
        channels,
        params,
        interval,
        only: values.only,
        from: values.from,
        resume: values.resume === undefined ? undefined : values.resume === '' || values.resume === 'last' ? true : values.resume,
        concurrency,
        wait: values.wait,
        listeners: [progressPrinter(values, io)],
        signal: cancel.signal,
        warn: (message) => io.err(`weir: warning: ${message}`),
      };
      // catch-up issue ↓ a schedule trigger decides from the ledger; a manual run of a paused pipeline needs --force.
      if (values.trigger === 'schedule') {
        summaries.push(...(await runScheduledCommand(request, values, io, deps)));
        continue;
      }
      await assertNotPaused(deps.ledger, pipeline.spec.name, values.force ?? false);
      summaries.push(await runPipeline(request, deps));
    }
  } finally {
    cancel.dispose();
  }
  if (values.json) io.out(JSON.stringify(summaries.length === 1 ? summaries[0].record : summaries.map((s) => s.record), null, 2));
  const signalled = cancel.received();
  if (signalled) return EXIT.signal(signalled);
  // Gates: a parked run is not a failure (exit 0; --json shows status waiting): nothing sits idle waiting for it.
  return summaries.every((s) => s.record.status === 'succeeded' || s.record.status === 'waiting') ? EXIT.ok : EXIT.failed;
}

/** `--trigger schedule` for one pipeline: says what it decided (paused, nothing due, deferred) and returns the runs it made. */
async function runScheduledCommand(request: RunRequest, values: CliValues, io: Io, deps: ReturnType<typeof createLocalRunDeps>): Promise<RunSummary[]> {
  const { resume: _resume, trigger: _trigger, ...rest } = request;
  const result = await runScheduled({ ...rest, force: values.force }, deps);
  const name = request.pipeline.spec.name;
  const say = (line: string) => (values.json ? io.err(line) : io.out(line));
  if (result.outcome === 'paused') {
    say(`${name}: paused (${result.record.skipReason}); recorded skipped run ${result.record.runId}, nothing ran`);
    return [];
  }
  if (result.runs.length === 0) say(`${name}: nothing due; every interval up to now has succeeded or is running`);
  if (result.deferred > 0) say(`${name}: ${result.deferred} more due interval(s) left for the next trigger (schedule.max_catchup)`);
  return result.runs;
}

function paramLine(name: string, param: Param): [string, string] {
  const type = param.type === 'choice' ? `choice: ${param.options?.join(' | ')}` : param.type;
  const value = `--param ${name}=<${type}>`;
  const facts = [param.required ? 'required' : undefined, param.default === undefined ? undefined : `default: ${param.default}`].filter(Boolean);
  return [value, `${param.description ?? ''}${facts.length ? `${param.description ? ' ' : ''}(${facts.join(', ')})` : ''}`];
}

/** The params of the pipelines named on the command line, for `weir run <pipeline> --help`. */
export async function renderPipelineParams(args: string[], values: CliValues, io: Io): Promise<string> {
  const root = rootOf(values, io);
  const result = await validatePipelines({ root, paths: await resolvePipelineArgs(args, { ...values, all: false }, io) }, createCliDeps(root));
  if (!result.ok) {
    printDiagnostics(result.diagnostics, root, io);
    return `(the params cannot be listed: ${summarize(result.diagnostics)} in ${result.files.join(', ')})`;
  }
  return result.pipelines
    .map((pipeline) => {
      const lines = Object.entries(pipeline.spec.params ?? {}).map(([name, param]) => paramLine(name, param));
      if (lines.length === 0) return `Pipeline '${pipeline.spec.name}' (${pipeline.file}) takes no params.`;
      const width = Math.max(...lines.map(([value]) => value.length));
      return [`Params of '${pipeline.spec.name}' (${pipeline.file}):`, ...lines.map(([value, text]) => `  ${value.padEnd(width)}  ${text}`.trimEnd())].join('\n');
    })
    .join('\n\n');
}
