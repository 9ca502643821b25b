/**
 * `command: run`: validates the named pipelines, masks every secret value they read, then runs them
 * one after another with the same use case as `weir run`, each with its provenance, its stages'
 * output in log groups, and its summary (DAG coloured by status, stages, checks, logs).
 * Until the git ledger lands, runs are recorded in the file ledger under `<working-directory>/.weir`.
 */
import { ConfigError } from '../model/errors.ts';
import { collectSecrets, createRedactor, MIN_SECRET_CHARS, type Redactor } from '../model/redact.ts';
import type { LoadedPipeline } from '../model/pipeline.ts';
import { renderRunSummary, STEP_SUMMARY_BUDGET_BYTES } from '../report/run-summary.ts';
import { defaultStageKinds } from '../stages/registry.ts';
import { resolveParams } from '../use-cases/params.ts';
import { runPipeline, type RunRequest, type RunSummary } from '../use-cases/run-pipeline.ts';
import { runScheduled } from '../use-cases/scheduled-run.ts';
import { validatePipelines } from '../use-cases/validate.ts';
import type { ActionsRuntime } from '../adapters/github-actions.ts';
import { declaredSecretValues, type ActionInputs } from './action-inputs.ts';
import { createGroupedRunLog } from './action-log.ts';
import { collectProvenance, triggerOf } from './action-provenance.ts';
import { planMatrix, resolvePipelineFiles, validateAction } from './action-validate.ts';
import { createLocalRunDeps } from './local-run-deps.ts';
import { prepareDuckDb } from './action-duckdb.ts';
import { cancelOnSignals } from './cancel-on-signals.ts';
import { publishRunArtifact } from '../use-cases/run-artifact.ts';
import { createActionsArtifactStore } from '../adapters/actions-artifacts.ts';
import { hasResultsService } from '../adapters/actions-stage-cache.ts';
import { openActionLedger } from './action-ledger.ts';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Every value the pipelines read that must not show in a log: env values their templates name,
 * secret params, secret headers. Passed to the runner's masking before any stage runs.
 */
export function maskPipelineSecrets(pipelines: readonly LoadedPipeline[], inputs: ActionInputs, env: Env, runtime: ActionsRuntime): Redactor {
  const secrets = declaredSecretValues(inputs.secretNames, env);
  for (const pipeline of pipelines) {
    const resolved = resolveParams(pipeline.spec, inputs.params, pipeline.file);
    for (const value of collectSecrets({ spec: pipeline.spec, env, params: resolved })) {
      // Values shorter than MIN_SECRET_CHARS are not masked (as in the run's own redaction): masking `1` would garble every log line.
      if (value.length >= MIN_SECRET_CHARS) runtime.setSecret(value);
      secrets.push(value);
    }
  }
  // The runner masks its log, not files the step writes: the summary is redacted here.
  return createRedactor(secrets);
}

/** The run's outcome for the `status` output: succeeded only when every run did. */
function overallStatus(summaries: readonly RunSummary[]): string {
  const statuses = summaries.map((s) => s.record.status);
  // gates: a parked (waiting) run is not a failure; the status output says `waiting`.
  return statuses.find((s) => s === 'failed') ?? statuses.find((s) => s !== 'succeeded' && s !== 'waiting') ?? statuses.find((s) => s === 'waiting') ?? 'succeeded';
}

export async function loadPipelines(inputs: ActionInputs, runtime: ActionsRuntime): Promise<Awaited<ReturnType<typeof validatePipelines>> | undefined> {
  const kinds = defaultStageKinds();
  const result = await validatePipelines({ root: inputs.root, paths: await resolvePipelineFiles(inputs.pipelines, inputs.root) }, { kinds });
  // Invalid: the validate path annotates the problems and fails the step; nothing runs.
  if (!result.ok) {
    await validateAction(inputs, runtime);
    return undefined;
  }
  if (result.pipelines.length > 1 && Object.keys(inputs.params).length) throw new ConfigError("input 'params' applies to one pipeline: name it in 'pipeline', or run them in separate steps");
  return result;
}

/** The one pipeline a job of one pipeline names (a segment job, finalize, backfill…), validated; undefined when invalid (already annotated). */
export async function loadOnePipeline(inputs: ActionInputs, runtime: ActionsRuntime, job: string) {
  if (inputs.pipelines.length !== 1) throw new ConfigError(`${job} works on one pipeline: name it in 'pipeline'`);
  const validation = await loadPipelines(inputs, runtime);
  return validation?.ok ? { ...validation, pipeline: validation.pipelines[0] } : undefined;
}

export async function runAction(inputs: ActionInputs, runtime: ActionsRuntime, env: Env): Promise<void> {
  const validation = await loadPipelines(inputs, runtime);
  if (!validation?.ok) return;
  const { pipelines, policies, allowWritePaths, channels } = validation;
  const redact = maskPipelineSecrets(pipelines, inputs, env, runtime);
  await prepareDuckDb(env, runtime);
  const ledger = await openActionLedger(inputs, env, runtime);
  const deps = createLocalRunDeps({ root: inputs.root, env }, ledger ? { ledger } : {});
  const cancel = cancelOnSignals();
  const summaries: RunSummary[] = [];
  const artifacts: string[] = [];
  try {
    for (const pipeline of pipelines) {
      if (cancel.signal.aborted) break;
      const log = createGroupedRunLog(runtime);
      const request: RunRequest = {
        pipeline,
        root: inputs.root,
        kinds: defaultStageKinds(),
        policies,
        allowWritePaths,
        channels, // sla branch: weir.yml's channels, so the Action notifies as the CLI does
        params: inputs.params,
        interval: inputs.interval,
        trigger: triggerOf(env),
        provenance: await collectProvenance(pipeline, inputs.root, env),
        listeners: [log.listener],
        signal: cancel.signal,
        warn: (message) => runtime.warning(message),
      };
      const runs = await runForEvent(request, deps, runtime);
      for (const summary of runs) {
        summaries.push(summary);
        const artifact = await publishReport(summary, pipeline.spec.artifacts, inputs.root, env, runtime);
        if (artifact) artifacts.push(artifact);
        // A catch-up makes several runs of one pipeline: they share its part of the summary budget.
        const budget = Math.floor(STEP_SUMMARY_BUDGET_BYTES / pipelines.length / runs.length);
        await runtime.appendSummary(redact(renderRunSummary({ record: summary.record, plan: summary.plan, logs: log.logs }, budget).markdown));
      }
    }
  } finally {
    cancel.dispose();
  }
  const status = overallStatus(summaries);
  const line = summaries.map((s) => `${s.record.pipeline}: ${s.record.status}`).join(', ');
  runtime.setOutput('run-id', summaries.map((s) => s.runId).join(','));
  runtime.setOutput('status', status);
  runtime.setOutput('summary', line);
  runtime.setOutput('matrix', planMatrix(summaries.map((s) => s.plan)));
  runtime.setOutput('report-artifact', artifacts.join(','));
  if (status !== 'succeeded' && status !== 'waiting') runtime.setFailed(`weir run: ${line}; see the job summary`);
}

// Catch-up issue ↓
/**
 * A cron event of a scheduled pipeline is a heartbeat: the ledger decides which intervals run (each
 * its own run), and a paused pipeline records a skip. Anything else (dispatch, an explicit interval) is one run.
 */
async function runForEvent(request: RunRequest, deps: Parameters<typeof runPipeline>[1], runtime: ActionsRuntime): Promise<RunSummary[]> {
  if (request.trigger !== 'schedule' || !request.pipeline.spec.schedule || request.interval) return [await runPipeline(request, deps)];
  const { trigger: _trigger, resume: _resume, ...rest } = request;
  const result = await runScheduled(rest, deps);
  const name = request.pipeline.spec.name;
  if (result.outcome === 'paused') runtime.info(`${name}: paused (${result.record.skipReason}); recorded skipped run ${result.record.runId}, nothing ran`);
  else if (result.runs.length === 0) runtime.info(`${name}: nothing due; every interval up to now has succeeded or is running`);
  else if (result.deferred > 0) runtime.info(`${name}: ${result.deferred} more due interval(s) left for the next trigger (schedule.max_catchup)`);
  return result.outcome === 'paused' ? [] : result.runs;
}

/**
 * Uploads the run's report artifact (report.md/html, stages.csv, checks.csv, run.json, dead letters,
 * the pipeline's `artifacts:`) when the runner offers the results service; a failure is a warning.
 */
export async function publishReport(summary: RunSummary, globs: readonly string[] | undefined, root: string, env: Env, runtime: ActionsRuntime): Promise<string | undefined> {
  if (!hasResultsService(env)) {
    runtime.info('no report artifact: the Actions results service is not available to this step');
    return undefined;
  }
  const result = await publishRunArtifact(
    { record: summary.record, runDir: summary.runDir, root, globs },
    { store: createActionsArtifactStore(), warn: (message) => runtime.warning(message) },
  );
  return result.uploaded ? result.name : undefined;
}
