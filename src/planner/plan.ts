/**
 * The plan: immutable data saying which stages run, in which order, and which can run together.
 * Everything downstream (executor, `weir plan`, matrix splitting) reads the plan, never the YAML.
 */
import { parseDuration } from '../model/duration.ts';
import { type PipelineSpec, type Stage, runsOnLabel, stageNeeds } from '../model/pipeline.ts';
import { EMPTY_POLICY_CONFIG, resolvePolicy, type PolicyConfig, type ResolvedPolicy } from '../policies/policy.ts';
import { downstreamOf, topologicalLevels, upstreamOf } from './graph.ts';

export interface PlannedStage {
  readonly name: string;
  readonly uses: string;
  readonly needs: readonly string[];
  /** Parallel level: 0 needs nothing, n needs only stages of levels < n. */
  readonly level: number;
  /** Position in topological order; ties between ready stages break by it. */
  readonly order: number;
  /** `runs-on` as written, joined with commas (for display). */
  readonly runsOn?: string;
  /** Runner labels the stage needs (`runs-on`); empty: the default runner. */
  readonly runnerLabels: readonly string[];
  /** false when `--only`/`--from` left the stage out of this run. */
  readonly selected: boolean;
  /** The stage's resilience policy, resolved against weir.yml and the built-ins. */
  readonly policy: ResolvedPolicy;
  /**
   * Bound on one attempt of the stage: its `timeout:`, else the policy's timeout, except for kinds
   * that apply the policy per request (http), whose attempts only an explicit `timeout:` bounds.
   */
  readonly attemptTimeoutMs?: number;
  /** The table the stage is expected to leave (`with.table`, else its name), when its kind produces one. */
  readonly table?: string;
  /** Tables of the stages it needs: what a segment running it must be handed. */
  readonly upstreamTables: readonly string[];
  /**
   * Whether the stage may change tables it does not own (a SQL script, or a table name only known
   * after templating): the outputs of other stages must then be kept before it runs.
   */
  readonly mayChangeOtherTables: boolean;
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
  /** Named policies from weir.yml (built-ins are always there). */
  policies?: PolicyConfig;
  /** Stage kinds (by `uses`) and what the plan needs to know of them; unknown kinds: no table, policy per attempt. */
  kinds?: ReadonlyMap<string, PlanningKind>;
}

/** What the planner needs to know of a stage kind. */
export interface PlanningKind {
  /** Whether a stage of this kind leaves a table: always, never, or as its unrendered `with` says (a command with `with.table`). */
  producesTable: boolean | ((config: unknown) => boolean);
  policyPerRequest?: boolean;
  /** Whether a stage with this (unrendered) `with` may change tables other than its own (a SQL script). */
  mayChangeOtherTables?(config: unknown): boolean;
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
  const policyOf = policyResolver(options.policies ?? EMPTY_POLICY_CONFIG);
  const tableOf = (name: string): string | undefined => stageTable(name, spec.stages[name].with, options.kinds?.get(spec.stages[name].uses));
  const stages: PlannedStage[] = [];
  levels.forEach((names, level) => {
    for (const name of names) {
      const stage = spec.stages[name];
      const needs = deps.get(name)!.filter((n) => deps.has(n));
      const policy = policyOf(stage.policy);
      const perRequest = options.kinds?.get(stage.uses)?.policyPerRequest === true;
      const runsOn = stage['runs-on'];
      stages.push(
        Object.freeze({
          name,
          uses: stage.uses,
          needs: Object.freeze(needs),
          level,
          order: stages.length,
          runsOn: runsOnLabel(stage),
          runnerLabels: Object.freeze(runsOn === undefined ? [] : typeof runsOn === 'string' ? [runsOn] : [...runsOn]),
          selected: selection ? selection.has(name) : true,
          policy,
          attemptTimeoutMs: stage.timeout !== undefined ? parseDuration(stage.timeout) : perRequest ? undefined : policy.timeoutMs,
          table: tableOf(name),
          upstreamTables: Object.freeze(needs.map(tableOf).filter((t): t is string => t !== undefined)),
          mayChangeOtherTables: mayChangeOtherTables(stage, options.kinds?.get(stage.uses)),
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

/** The table a stage leaves: none when its kind produces none, else `with.table` when known before templating, else its name. */
export function stageTable(name: string, config: unknown, kind: Pick<PlanningKind, 'producesTable'> | undefined): string | undefined {
  if (!kindProducesTable(kind, config)) return undefined;
  const table = (config as Record<string, unknown> | undefined)?.table;
  return typeof table === 'string' && !table.includes('{{') ? table : name;
}

/** Whether a stage of `kind` with this unrendered `with` leaves a table; an unknown kind does not. */
export function kindProducesTable(kind: Pick<PlanningKind, 'producesTable'> | undefined, config: unknown): boolean {
  if (!kind) return false;
  return typeof kind.producesTable === 'function' ? kind.producesTable(config ?? {}) : kind.producesTable;
}

function mayChangeOtherTables(stage: Stage, kind: PlanningKind | undefined): boolean {
  if (!kind) return true;
  const table = (stage.with as Record<string, unknown> | undefined)?.table;
  if (kindProducesTable(kind, stage.with) && typeof table === 'string' && table.includes('{{')) return true;
  return kind.mayChangeOtherTables?.(stage.with ?? {}) ?? false;
}

/** Resolves each distinct policy reference once: 10,000 stages usually share a handful. */
function policyResolver(config: PolicyConfig): (ref: Stage['policy']) => ResolvedPolicy {
  const cache = new Map<string, ResolvedPolicy>();
  return (ref) => {
    const key = ref === undefined ? '' : typeof ref === 'string' ? `name:${ref}` : JSON.stringify(ref);
    let policy = cache.get(key);
    if (!policy) {
      policy = Object.freeze(resolvePolicy(ref as string | Record<string, unknown> | undefined, config));
      cache.set(key, policy);
    }
    return policy;
  };
}

/** Stages a selection depends on but does not run: their tables must come from an earlier run. */
export function unselectedUpstream(plan: Plan): string[] {
  if (!plan.partial) return [];
  const deps = new Map(plan.stages.map((s) => [s.name, s.needs]));
  const selected = plan.stages.filter((s) => s.selected).map((s) => s.name);
  const upstream = upstreamOf(deps, selected);
  return plan.stages.filter((s) => !s.selected && upstream.has(s.name)).map((s) => s.name);
}
