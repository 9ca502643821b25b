/**
 * The Action's jobs of a run split into segments (the workflow `weir compile` writes for a pipeline
 * on several runners):
 *
 *   command: plan, handoff: artifacts      starts the run: context artifact, `run-id` and `matrix` outputs
 *   command: run, segment: <id>[, shard]   runs one segment (or shard) of it, handing on artifacts
 *   command: finalize                      joins the parts into one record in the ledger branch, uploads the report
 *
 * A schedule event starts the oldest due interval (one per workflow run; the next cron event takes
 * the next); a paused pipeline or nothing due gives an empty `run-id`, and the other jobs skip.
 */
import { tmpdir } from 'node:os';
import { ConfigError } from '../model/errors.ts';
import type { ActionsRuntime } from '../adapters/github-actions.ts';
import { createActionsHandoffStore } from '../adapters/actions-handoff.ts';
import { hasResultsService } from '../adapters/actions-stage-cache.ts';
import { renderRunSummary } from '../report/run-summary.ts';
import { defaultStageKinds } from '../stages/registry.ts';
import { finalizeRun } from '../use-cases/finalize-run.ts';
import { runSegment, startSegmentedRun } from '../use-cases/run-segment.ts';
import { intervalsToRun } from '../use-cases/scheduled-run.ts';
import type { ActionInputs } from './action-inputs.ts';
import { prepareDuckDb } from './action-duckdb.ts';
import { openActionLedger } from './action-ledger.ts';
import { createGroupedRunLog } from './action-log.ts';
import { collectProvenance, triggerOf } from './action-provenance.ts';
import { loadOnePipeline, maskPipelineSecrets, publishReport } from './action-run.ts';
import { cancelOnSignals } from './cancel-on-signals.ts';
import { createLocalRunDeps } from './local-run-deps.ts';

type Env = Readonly<Record<string, string | undefined>>;

function handoffStore(env: Env) {
  return createActionsHandoffStore({ tempDir: env.RUNNER_TEMP || tmpdir() });
}

function requireResultsService(env: Env, command: string): void {
  if (!hasResultsService(env)) {
    throw new ConfigError(`${command} hands tables between jobs as artifacts, and this step has no Actions results service (ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL): run it as a step of a GitHub Actions job`);
  }
}

/** `command: plan, handoff: artifacts`. */
export async function planSegmentsAction(inputs: ActionInputs, runtime: ActionsRuntime, env: Env): Promise<void> {
  requireResultsService(env, 'plan with handoff: artifacts');
  const loaded = await loadOnePipeline(inputs, runtime, 'plan with handoff: artifacts');
  if (!loaded) return;
  const { pipeline, policies } = loaded;
  const name = pipeline.spec.name;
  const ledger = await openActionLedger(inputs, env, runtime);
  const deps = createLocalRunDeps({ root: inputs.root, env }, ledger ? { ledger } : {});
  const trigger = triggerOf(env);
  const request = { pipeline, root: inputs.root, kinds: defaultStageKinds(), policies, params: inputs.params, interval: inputs.interval, trigger, provenance: await collectProvenance(pipeline, inputs.root, env) };
  let tick: string | undefined;
  if (trigger === 'schedule' && pipeline.spec.schedule && !inputs.interval) {
    const control = await deps.ledger.readControl(name);
    const { due, deferred } = control?.paused ? { due: [], deferred: 0 } : await intervalsToRun(request, deps);
    if (control?.paused || due.length === 0) {
      runtime.info(control?.paused ? `${name}: paused since ${control.at} by ${control.by}${control.reason ? ` (${control.reason})` : ''}; nothing runs` : `${name}: nothing due; every interval up to now has succeeded or is running`);
      runtime.setOutput('run-id', '');
      runtime.setOutput('matrix', JSON.stringify({ include: [] }));
      return;
    }
    request.interval = due[0].interval;
    tick = due[0].tick;
    const left = due.length - 1 + deferred;
    if (left > 0) runtime.info(`${name}: ${left} more due interval(s) left for the next schedule event (a run split into segments takes one interval per workflow run)`);
  }
  const planned = await startSegmentedRun({ ...request, ...(tick ? { tick } : {}) }, deps, handoffStore(env));
  const { context, segments, matrix } = planned;
  runtime.setOutput('run-id', context.runId);
  runtime.setOutput('matrix', JSON.stringify(matrix));
  runtime.info(`planned run ${context.runId} of ${name} (${context.interval.start} .. ${context.interval.end}): ${segments.length} segments`);
  const rows = segments.map((s) => `| ${s.id} | ${s.runnerLabels.length ? s.runnerLabels.join(', ') : 'default'} | ${s.stages.join(', ')} | ${s.shards ? s.shards.count : 1} |`);
  await runtime.appendSummary([`### ${name}: run ${context.runId} planned`, '', '| Segment | Runs on | Stages | Jobs |', '| --- | --- | --- | --- |', ...rows, ''].join('\n'));
}

/** `command: run` with `segment:`. */
export async function segmentAction(inputs: ActionInputs, runtime: ActionsRuntime, env: Env): Promise<void> {
  requireResultsService(env, 'a segment job');
  const loaded = await loadOnePipeline(inputs, runtime, 'a segment job');
  if (!loaded) return;
  const { pipeline, policies, allowWritePaths } = loaded;
  maskPipelineSecrets([pipeline], inputs, env, runtime);
  await prepareDuckDb(env, runtime);
  const log = createGroupedRunLog(runtime);
  const cancel = cancelOnSignals();
  try {
    const result = await runSegment(
      {
        pipeline, root: inputs.root, kinds: defaultStageKinds(), policies, allowWritePaths, handoff: handoffStore(env), runId: inputs.runId, segment: inputs.segment!, shard: inputs.shard,
        listeners: [log.listener], signal: cancel.signal, warn: (message) => runtime.warning(message),
      },
      createLocalRunDeps({ root: inputs.root, env }),
    );
    const { report } = result;
    const which = `segment ${report.segment}${report.shard ? ` (shard ${report.shard}/${report.shards})` : ''} of run ${report.runId}`;
    runtime.setOutput('run-id', report.runId);
    runtime.setOutput('status', report.status);
    runtime.setOutput('summary', `${which}: ${report.status}`);
    const tables = Object.entries(report.tables).map(([table, rows]) => `${table} (${rows} rows)`);
    await runtime.appendSummary(`### ${pipeline.spec.name}: ${which} ${report.status}\n\nHanded on: ${tables.length ? tables.join(', ') : 'no tables'}. The finalize job records the run.\n`);
    if (report.status !== 'succeeded') runtime.setFailed(`weir: ${which} ${report.status}; see the step log`);
  } finally {
    cancel.dispose();
  }
}

/** `command: finalize`. */
export async function finalizeAction(inputs: ActionInputs, runtime: ActionsRuntime, env: Env): Promise<void> {
  requireResultsService(env, 'finalize');
  if (!inputs.runId) {
    runtime.info('finalize: no run id (the plan job started no run); nothing to record');
    return;
  }
  const loaded = await loadOnePipeline(inputs, runtime, 'finalize');
  if (!loaded) return;
  const { pipeline, policies, channels } = loaded;
  const redact = maskPipelineSecrets([pipeline], inputs, env, runtime);
  const ledger = await openActionLedger(inputs, env, runtime);
  const deps = createLocalRunDeps({ root: inputs.root, env }, ledger ? { ledger } : {});
  const log = createGroupedRunLog(runtime);
  const result = await finalizeRun(
    { pipeline, root: inputs.root, kinds: defaultStageKinds(), policies, channels, handoff: handoffStore(env), runId: inputs.runId, listeners: [log.listener], wait: true, warn: (message) => runtime.warning(message) },
    deps,
  );
  const { record } = result;
  if (result.missing.length) runtime.warning(`parts that never reported: ${result.missing.join(', ')} (their jobs failed to start, were skipped or lost their runner)`);
  const artifact = result.alreadyRecorded ? undefined : await publishReport(result, pipeline.spec.artifacts, inputs.root, env, runtime);
  runtime.setOutput('run-id', record.runId);
  runtime.setOutput('status', record.status);
  runtime.setOutput('summary', `${record.pipeline}: ${record.status}`);
  runtime.setOutput('report-artifact', artifact ?? '');
  if (!result.alreadyRecorded) await runtime.appendSummary(redact(renderRunSummary({ record, plan: result.plan, logs: log.logs }).markdown));
  if (record.status !== 'succeeded') runtime.setFailed(`weir: run ${record.runId} of ${record.pipeline} ${record.status}; see the job summary`);
}
