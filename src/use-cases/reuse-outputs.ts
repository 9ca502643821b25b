/**
 * Which stages a run takes from an earlier run instead of running them:
 * - `--from`/`--only`: each unselected stage the selection depends on, from the latest run in which
 *   that stage succeeded and whose folder still holds its output;
 * - `--resume`: every stage that succeeded in the resumed run (state derived from its event log),
 *   as long as everything it needs is reused too.
 * Never "the newest run folder": a stage's output is restored as that stage left it.
 */
import { ConfigError } from '../model/errors.ts';
import { deriveRunState, succeededStages } from '../executor/run-state.ts';
import type { ReusedStage } from '../executor/execute-plan.ts';
import type { RunRecord, StageRecord } from '../ledger/run-record.ts';
import { createPlan } from '../planner/plan.ts';
import type { RunDeps } from './run-deps.ts';
import type { PreparedRun } from './run-pipeline.ts';

/** How far back `--from`/`--only` look for a stage's output. */
const REUSE_LOOKBACK_RUNS = 50;

/** The run that produced a stage's output (a stage reused in that run points further back). */
function producerOf(run: RunRecord, stage: StageRecord): string {
  return stage.status === 'reused' && stage.reusedFrom ? stage.reusedFrom : run.runId;
}

/** A stage that left a table needs it kept; one that left none needs only its run folder (for its commit). */
async function hasOutput(deps: RunDeps, pipeline: string, runId: string, stage: string, table: string | undefined): Promise<boolean> {
  const workspace = await deps.workspaces.open(pipeline, runId);
  return workspace !== undefined && (table === undefined || (await workspace.hasStageOutput(stage)));
}

async function fromEarlierRuns(prepared: Omit<PreparedRun, 'reused'>, deps: RunDeps, stages: readonly string[]): Promise<Map<string, ReusedStage>> {
  const pipeline = prepared.spec.name;
  const runs = await deps.ledger.listRuns({ pipeline, limit: REUSE_LOOKBACK_RUNS });
  const reused = new Map<string, ReusedStage>();
  for (const name of stages) {
    let found: ReusedStage | undefined;
    for (const run of runs) {
      const stage = run.stages[name];
      if (!stage || (stage.status !== 'succeeded' && stage.status !== 'reused')) continue;
      const producer = producerOf(run, stage);
      if (await hasOutput(deps, pipeline, producer, name, stage.table)) {
        found = { fromRunId: producer, rows: stage.rows, table: stage.table, outputs: stage.outputs };
        break;
      }
    }
    if (!found) {
      throw new ConfigError(
        `stage '${name}' is needed by the selected stages but no earlier run of '${pipeline}' on this machine kept its output; ` +
          `run it too (add --only ${name}, or run without --only/--from)`,
      );
    }
    reused.set(name, found);
  }
  return reused;
}

async function fromResumedRun(prepared: Omit<PreparedRun, 'reused'>, deps: RunDeps, resumed: RunRecord): Promise<Map<string, ReusedStage>> {
  const pipeline = prepared.spec.name;
  const workspace = await deps.workspaces.open(pipeline, resumed.runId);
  if (!workspace) throw new ConfigError(`--resume: the folder of run ${resumed.runId} is gone from this machine (pruned, or the run was elsewhere); run the pipeline again`);
  // The plan of the resumed run: every stage, whatever this invocation selects.
  const state = deriveRunState(createPlan(prepared.spec), await workspace.readEvents());
  const done = succeededStages(state);
  const reused = new Map<string, ReusedStage>();
  for (const stage of prepared.plan.stages) {
    const previous = done.get(stage.name);
    if (!previous || !stage.needs.every((need) => reused.has(need))) continue;
    const producer = previous.phase === 'reused' && previous.fromRunId ? previous.fromRunId : resumed.runId;
    if (!(await hasOutput(deps, pipeline, producer, stage.name, previous.table))) continue;
    reused.set(stage.name, { fromRunId: producer, rows: previous.rows, table: previous.table, outputs: previous.outputs });
  }
  return reused;
}

export async function findReusableOutputs(
  prepared: Omit<PreparedRun, 'reused'>,
  resumed: RunRecord | undefined,
  deps: RunDeps,
  unselectedUpstream: readonly string[],
): Promise<Map<string, ReusedStage>> {
  if (resumed) return fromResumedRun(prepared, deps, resumed);
  return unselectedUpstream.length ? fromEarlierRuns(prepared, deps, unselectedUpstream) : new Map();
}
