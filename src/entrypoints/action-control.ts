/**
 * The Action's operations from `workflow_dispatch` (the `weir-control.yml` workflow `weir compile`
 * writes): `command: backfill` runs a range of past intervals, `retry` a new attempt of a failed
 * run, `pause` / `unpause` record the pause on the ledger branch. The same use cases as
 * `weir backfill`, `weir retry`, `weir pause` and `weir unpause`.
 */
import { ConfigError } from '../model/errors.ts';
import type { ActionsRuntime } from '../adapters/github-actions.ts';
import { defaultStageKinds } from '../stages/registry.ts';
import { describeDecision, isBackfillSucceeded, parseBackfillBound, planBackfill, REPROCESS_MODES, runBackfill, type Reprocess } from '../use-cases/backfill.ts';
import { setPaused } from '../use-cases/scheduled-run.ts';
import { retryRun } from '../use-cases/retry-run.ts';
import { renderRunSummary } from '../report/run-summary.ts';
import type { ActionInputs } from './action-inputs.ts';
import { prepareDuckDb } from './action-duckdb.ts';
import { openActionLedger } from './action-ledger.ts';
import { createGroupedRunLog } from './action-log.ts';
import { collectProvenance } from './action-provenance.ts';
import { loadOnePipeline, maskPipelineSecrets, publishReport } from './action-run.ts';
import { cancelOnSignals } from './cancel-on-signals.ts';
import { createLocalRunDeps } from './local-run-deps.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** `command: backfill` with `from`, `to`, `reprocess` (and `dry-run`). */
export async function backfillAction(inputs: ActionInputs, runtime: ActionsRuntime, env: Env): Promise<void> {
  const range = { from: parseBackfillBound(inputs.from, 'from'), to: parseBackfillBound(inputs.to, 'to') };
  const reprocess = (inputs.reprocess || 'failed') as Reprocess;
  if (!REPROCESS_MODES.includes(reprocess)) throw new ConfigError(`input 'reprocess': '${inputs.reprocess}' is not one of ${REPROCESS_MODES.join(', ')}`);
  const loaded = await loadOnePipeline(inputs, runtime, 'command: backfill');
  if (!loaded) return;
  const { pipeline, policies, allowWritePaths, channels } = loaded;
  const redact = maskPipelineSecrets([pipeline], inputs, env, runtime);
  const ledger = await openActionLedger(inputs, env, runtime);
  const deps = createLocalRunDeps({ root: inputs.root, env }, ledger ? { ledger } : {});
  const plan = await planBackfill({ spec: pipeline.spec, range, reprocess }, { ledger: deps.ledger, now: deps.clock.now() });
  const toRun = plan.intervals.filter((d) => d.action === 'run').length;
  const head = `### ${pipeline.spec.name}: backfill ${range.from.toISOString()} .. ${range.to.toISOString()} (--reprocess ${reprocess}): ${plan.intervals.length} intervals, ${toRun} to run`;
  if (inputs.dryRun) {
    const rows = plan.intervals.map((d) => `| ${d.interval.start} | ${d.interval.end} | ${describeDecision(d, true)} |`);
    await runtime.appendSummary([`${head} (dry run: nothing ran)`, '', '| Start | End | Would |', '| --- | --- | --- |', ...rows, ''].join('\n'));
    runtime.setOutput('status', 'planned');
    runtime.setOutput('summary', `${pipeline.spec.name}: ${toRun} of ${plan.intervals.length} intervals would run`);
    return;
  }
  await prepareDuckDb(env, runtime);
  const log = createGroupedRunLog(runtime);
  const cancel = cancelOnSignals();
  try {
    const result = await runBackfill(
      plan,
      { pipeline, root: inputs.root, kinds: defaultStageKinds(), policies, allowWritePaths, channels, params: inputs.params, provenance: await collectProvenance(pipeline, inputs.root, env), listeners: [log.listener], signal: cancel.signal, warn: (message) => runtime.warning(message) },
      deps,
    );
    const artifacts: string[] = [];
    const rows: string[] = [];
    for (const outcome of result.outcomes) {
      rows.push(`| ${outcome.interval.start} | ${outcome.record ? `${outcome.record.status} (run ${outcome.record.runId})` : `refused: ${outcome.error}`} |`);
      if (outcome.record && outcome.run) {
        const artifact = await publishReport({ ...outcome.run, record: outcome.record }, pipeline.spec.artifacts, inputs.root, env, runtime);
        if (artifact) artifacts.push(artifact);
      }
    }
    await runtime.appendSummary(redact([head, '', '| Interval start | Result |', '| --- | --- |', ...rows, ''].join('\n')));
    const ok = isBackfillSucceeded(result);
    runtime.setOutput('run-id', result.outcomes.flatMap((o) => (o.record ? [o.record.runId] : [])).join(','));
    runtime.setOutput('status', ok ? 'succeeded' : 'failed');
    runtime.setOutput('summary', `${pipeline.spec.name}: backfilled ${result.outcomes.length} interval(s)${ok ? '' : ', some failed'}`);
    runtime.setOutput('report-artifact', artifacts.join(','));
    if (!ok) runtime.setFailed(`weir backfill of ${pipeline.spec.name}: some intervals failed; see the job summary`);
  } finally {
    cancel.dispose();
  }
}

/** `command: pause` (with `reason`) and `command: unpause`. */
export async function pauseAction(inputs: ActionInputs, runtime: ActionsRuntime, env: Env, paused: boolean): Promise<void> {
  const command = paused ? 'pause' : 'unpause';
  if (paused && !inputs.reason?.trim()) throw new ConfigError("command: pause needs input 'reason': say why, so whoever finds it paused knows when to unpause it");
  const loaded = await loadOnePipeline(inputs, runtime, `command: ${command}`);
  if (!loaded) return;
  const name = loaded.pipeline.spec.name;
  const ledger = await openActionLedger(inputs, env, runtime);
  const deps = createLocalRunDeps({ root: inputs.root, env }, ledger ? { ledger } : {});
  const by = env.GITHUB_ACTOR || 'unknown';
  const control = await setPaused({ pipeline: name, paused, by, reason: inputs.reason?.trim() || undefined }, { ledger: deps.ledger, now: () => new Date(deps.clock.now()) });
  const line = paused ? `${name}: paused by ${by} (${control.reason}); scheduled runs record a skip until it is unpaused` : `${name}: unpaused by ${by}; the next scheduled run catches up as schedule.catchup says`;
  runtime.info(line);
  runtime.setOutput('status', paused ? 'paused' : 'unpaused');
  runtime.setOutput('summary', line);
  await runtime.appendSummary(`### ${line}\n`);
}

/** `command: retry` with `run-id`: a new attempt of a failed run, reusing the stages that succeeded (its folder from the Actions cache). */
export async function retryAction(inputs: ActionInputs, runtime: ActionsRuntime, env: Env): Promise<void> {
  if (!inputs.runId) throw new ConfigError("command: retry needs input 'run-id': the run to retry ('weir history' lists them)");
  const loaded = await loadOnePipeline(inputs, runtime, 'command: retry');
  if (!loaded) return;
  const { pipeline, policies, allowWritePaths, channels } = loaded;
  const redact = maskPipelineSecrets([pipeline], inputs, env, runtime);
  await prepareDuckDb(env, runtime);
  const ledger = await openActionLedger(inputs, env, runtime);
  const deps = createLocalRunDeps({ root: inputs.root, env }, ledger ? { ledger } : {});
  const log = createGroupedRunLog(runtime);
  const cancel = cancelOnSignals();
  try {
    const summary = await retryRun(
      inputs.runId,
      { pipeline, root: inputs.root, kinds: defaultStageKinds(), policies, allowWritePaths, channels, provenance: await collectProvenance(pipeline, inputs.root, env), listeners: [log.listener], signal: cancel.signal, warn: (message) => runtime.warning(message) },
      deps,
    );
    const { record } = summary;
    const reused = Object.values(record.stages).filter((s) => s.status === 'reused').length;
    const artifact = await publishReport(summary, pipeline.spec.artifacts, inputs.root, env, runtime);
    runtime.setOutput('run-id', record.runId);
    runtime.setOutput('status', record.status);
    runtime.setOutput('summary', `${record.pipeline}: attempt ${record.attempt} of run ${record.retryOf}: ${record.status} (${reused} stage(s) reused)`);
    runtime.setOutput('report-artifact', artifact ?? '');
    await runtime.appendSummary(redact(renderRunSummary({ record, plan: summary.plan, logs: log.logs }).markdown));
    if (record.status !== 'succeeded') runtime.setFailed(`weir retry: run ${record.runId} ${record.status}; see the job summary`);
  } finally {
    cancel.dispose();
  }
}
