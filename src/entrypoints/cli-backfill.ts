/** `weir backfill`: parse the range and flags, plan from the ledger, run (or list with --dry-run), render. */
import type { LoadedPipeline } from '../model/pipeline.ts';
import type { PolicyConfig } from '../policies/policy.ts';
import type { ChannelConfigs } from '../notify/channel-config.ts';
import { renderTable } from '../report/terminal.ts';
import { defaultStageKinds } from '../stages/registry.ts';
import { describeDecision, isBackfillSucceeded, parseBackfillBound as parseBound, planBackfill, REPROCESS_MODES, runBackfill, type BackfillPlan, type BackfillResult, type Reprocess } from '../use-cases/backfill.ts';
import { parseParamPairs, resolveParams } from '../use-cases/params.ts';
import { validatePipelines } from '../use-cases/validate.ts';
import type { CliValues } from './cli.ts';
import { createCliDeps } from './cli-deps.ts';
import { cancelOnSignals } from './cancel-on-signals.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { printDiagnostics, resolvePipelineArgs, rootOf, summarize } from './cli-pipelines.ts';
import { createLocalRunDeps } from './local-run-deps.ts';

export interface LoadedProject {
  pipeline: LoadedPipeline;
  policies: PolicyConfig;
  allowWritePaths: string[];
  channels: ChannelConfigs;
}

/** Finds (by name or file), loads and validates one pipeline; prints its diagnostics; undefined when it has an error. */
export async function loadOnePipeline(pipeline: string, values: CliValues, io: Io): Promise<LoadedProject | undefined> {
  const [file] = await resolvePipelineArgs([pipeline], { ...values, all: false }, io, false);
  const root = rootOf(values, io);
  const result = await validatePipelines({ root, paths: [file] }, createCliDeps(root));
  if (!values.json) printDiagnostics(result.diagnostics, root, io);
  if (!result.ok || result.pipelines.length !== 1) {
    if (values.json) io.out(JSON.stringify({ ok: false, diagnostics: result.diagnostics }, null, 2));
    else io.err(`weir: ${summarize(result.diagnostics)}; nothing was run`);
    return undefined;
  }
  return { pipeline: result.pipelines[0], policies: result.policies, allowWritePaths: result.allowWritePaths, channels: result.channels };
}

function parseOptions(values: CliValues): { reprocess: Reprocess; maxParallel: number } {
  const reprocess = (values.reprocess ?? 'failed') as Reprocess;
  if (!REPROCESS_MODES.includes(reprocess)) throw new UsageError(`--reprocess '${values.reprocess}' is not one of ${REPROCESS_MODES.join(', ')}`);
  const maxParallel = Number(values['max-parallel'] ?? 1);
  if (!(Number.isInteger(maxParallel) && maxParallel > 0)) throw new UsageError(`--max-parallel must be a positive whole number, got '${values['max-parallel']}'`);
  return { reprocess, maxParallel };
}

function renderPlanTable(plan: BackfillPlan, result?: BackfillResult): string {
  const outcome = new Map(result?.outcomes.map((o) => [o.interval.start, o]));
  const rows = plan.intervals.map((d) => {
    const o = outcome.get(d.interval.start);
    const text = o ? (o.record ? `${o.record.status} (run ${o.record.runId})` : `refused: ${o.error}`) : describeDecision(d, !result);
    return [d.interval.start, d.interval.end, result && d.action === 'run' && !o ? 'not started (stopped)' : text];
  });
  const toRun = plan.intervals.filter((d) => d.action === 'run').length;
  const head = `${plan.pipeline}: ${plan.intervals.length} intervals, ${toRun} to run (--reprocess ${plan.reprocess}, ${plan.parallel} at a time)`;
  return [head, ...(plan.note ? [`note: ${plan.note}`] : []), renderTable(['start', 'end', result ? 'result' : 'would'], rows)].join('\n');
}

export async function backfillCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  if (args.length !== 1) throw new UsageError("'weir backfill' takes one pipeline: weir backfill <pipeline> --from YYYY-MM-DD --to YYYY-MM-DD");
  const range = { from: parseBound(values.from?.[0], '--from'), to: parseBound(values.to, '--to') };
  if ((values.from?.length ?? 0) > 1) throw new UsageError('backfill takes one --from date');
  const { reprocess, maxParallel } = parseOptions(values);
  const root = rootOf(values, io);
  const loaded = await loadOnePipeline(args[0], values, io);
  if (!loaded) return EXIT.usage;
  const params = parseParamPairs(values.param ?? []);
  resolveParams(loaded.pipeline.spec, params, loaded.pipeline.file);
  const deps = createLocalRunDeps({ root, env: io.env });
  const plan = await planBackfill({ spec: loaded.pipeline.spec, range, reprocess, maxParallel, newestFirst: values['newest-first'] }, { ledger: deps.ledger, now: deps.clock.now() });
  if (values['dry-run']) {
    io.out(values.json ? JSON.stringify({ dryRun: true, ...plan }, null, 2) : renderPlanTable(plan));
    return EXIT.ok;
  }
  if (plan.note && !values.json) io.err(`weir: ${plan.note}`);
  // Ctrl-C (or GitHub's cancel): the runs going on stop, recorded cancelled; no new one starts.
  const cancel = cancelOnSignals();
  let result: BackfillResult;
  try {
    const { pipeline, policies, allowWritePaths, channels } = loaded;
    result = await runBackfill(plan, { pipeline, root, kinds: defaultStageKinds(), policies, allowWritePaths, channels, params, signal: cancel.signal, warn: (message) => io.err(`weir: warning: ${message}`) }, deps);
  } finally {
    cancel.dispose();
  }
  io.out(values.json ? JSON.stringify({ ...plan, runs: result.outcomes.map(({ run: _run, ...outcome }) => outcome), notStarted: result.notStarted }, null, 2) : renderPlanTable(plan, result));
  const signalled = cancel.received();
  if (signalled) return EXIT.signal(signalled);
  return isBackfillSucceeded(result) ? EXIT.ok : EXIT.failed;
}
