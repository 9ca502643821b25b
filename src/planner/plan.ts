/**
 * The plan: immutable data saying which stages run, in which order, and which can run together.
 * Everything downstream (executor, `weir plan`, matrix splitting) reads the plan, never the YAML.
 */
import { type PipelineSpec, type Stage, runsOnLabel, stageNeeds } from '../model/pipeline.ts';
import { downstreamOf, topologicalLevels, upstreamOf } from './graph.ts';

export interface PlannedStage {
  readonly name: string;
  readonly uses: string;
  readonly needs: readonly string[];
  /** Parallel level: 0 needs nothing, n needs only stages of levels < n. */
  readonly level: number;
  /** Position in topological order; ties between ready stages break by it. */
  readonly order: number;
  readonly runsOn?: string;
  /** false when `--only`/`--from` left the stage out of this run. */
  readonly selected: boolean;
  readonly spec: Stage;
}

export interface Plan {
  readonly pipeline: string;
  readonly stages: readonly PlannedStage[];
  readonly levels: readonly (readonly string[])[];
  /** True when a selection left stages out (their tables come from the previous run's database). */
  readonly partial: boolean;
}

export interface PlanOptions {
  /** Run only these stages. */
  only?: readonly string[];
  /** Run these stages and everything downstream of them. */
  from?: readonly string[];
}

export class PlanError extends Error {}

function dependencyMap(spec: PipelineSpec): Map<string, string[]> {
  return new Map(Object.entries(spec.stages).map(([name, stage]) => [name, stageNeeds(stage)]));
}

function assertKnown(names: readonly string[], deps: Map<string, string[]>, flag: string): void {
  for (const name of names) {
    if (!deps.has(name)) {
      throw new PlanError(`${flag} names stage '${name}', which is not in the pipeline (stages: ${[...deps.keys()].join(', ')})`);
    }
  }
}

function selectStages(deps: Map<string, string[]>, options: PlanOptions): Set<string> | undefined {
  const only = options.only ?? [];
  const from = options.from ?? [];
  if (only.length === 0 && from.length === 0) return undefined;
  assertKnown(only, deps, '--only');
  assertKnown(from, deps, '--from');
  const selected = new Set(only);
  for (const name of downstreamOf(deps, from)) selected.add(name);
  return selected;
}

/** Builds the plan of a validated pipeline. Throws PlanError for a cycle or an unknown selection. */
export function createPlan(spec: PipelineSpec, options: PlanOptions = {}): Plan {
  const deps = dependencyMap(spec);
  const levels = topologicalLevels(deps);
  if (!levels) throw new PlanError(`pipeline '${spec.name}' has a dependency cycle: run 'weir validate' to see it`);
  const selection = selectStages(deps, options);
  const stages: PlannedStage[] = [];
  levels.forEach((names, level) => {
    for (const name of names) {
      const stage = spec.stages[name];
      stages.push(
        Object.freeze({
          name,
          uses: stage.uses,
          needs: Object.freeze(deps.get(name)!.filter((n) => deps.has(n))),
          level,
          order: stages.length,
          runsOn: runsOnLabel(stage),
          selected: selection ? selection.has(name) : true,
          spec: stage,
        }),
      );
    }
  });
  return Object.freeze({
    pipeline: spec.name,
    stages: Object.freeze(stages),
    levels: Object.freeze(levels.map((names) => Object.freeze(names))),
    partial: selection !== undefined,
  });
}

/** Stages a selection depends on but does not run: their tables must come from an earlier run. */
export function unselectedUpstream(plan: Plan): string[] {
  if (!plan.partial) return [];
  const deps = new Map(plan.stages.map((s) => [s.name, s.needs]));
  const selected = plan.stages.filter((s) => s.selected).map((s) => s.name);
  const upstream = upstreamOf(deps, selected);
  return plan.stages.filter((s) => !s.selected && upstream.has(s.name)).map((s) => s.name);
}
