/**
 * Segments: the plan split into groups of stages that run in one job on one kind of runner, as
 * data. The generated workflow runs one job per segment (a matrix of jobs for a sharded stage) and
 * hands the tables in `inputs`/`outputs` from job to job; `weir run` ignores segments and runs
 * every stage in one process. Pure: no I/O.
 */
import type { Plan, PlannedStage } from './plan.ts';
import { PlanError } from './plan.ts';

/** A table handed between segments: its name, the stage that produces it and that stage's segment. */
export interface SegmentTable {
  table: string;
  stage: string;
  segment: string;
}

/** How a sharded segment splits its work. */
export interface SegmentShards {
  /** Jobs (`shards:`), 2–256. */
  count: number;
  /** Column hashed to choose the shard (`shard_by:`); absent: row number. */
  by?: string;
  /** The input table that is partitioned (`shard_table:`, else the one upstream table). */
  table: string;
}

export interface Segment {
  /** The name of its first stage in plan order: stable when unrelated stages are added. */
  readonly id: string;
  /** Runner labels (`runs-on`); [] = the default runner. */
  readonly runnerLabels: readonly string[];
  /** Its stages, in plan order. */
  readonly stages: readonly string[];
  /** Upstream segment ids (direct), in plan order. */
  readonly needs: readonly string[];
  /** Tables it must be handed: tables of stages TRANSITIVELY upstream of its stages that live in other segments (a SQL stage may read any upstream table). Sorted by plan order of producing stage. */
  readonly inputs: readonly SegmentTable[];
  /** Tables of its own stages that some other segment has as input. */
  readonly outputs: readonly SegmentTable[];
  /** Set only on a segment made of exactly one sharded stage. */
  readonly shards?: SegmentShards;
}

/** One job of the segment matrix. `shard` counts from 1 (`--shard 1/4` … `4/4`); an unsharded segment is shard 1 of 1. */
export interface SegmentMatrixEntry {
  segment: string;
  'runs-on': string | string[];
  shard: number;
  shards: number;
}

/** The runner of a segment without `runs-on` (the job that runs weir). */
export const DEFAULT_RUNNER_LABEL = 'ubuntu-latest';

/**
 * Splits a plan into segments, in a topological order of segments (ties by plan order).
 * A segment is a connected group, through `needs` between stages of the same runner labels (as a
 * set), grown greedily in plan order for as long as the segments still form a DAG: a stage does not
 * join a segment that reaches it through another segment. A sharded stage is a segment on its own.
 * Unselected stages are placed like the others. Tables come from the plan: build it with the stage
 * kinds (`createPlan(spec, { kinds })`), or no stage has one. Throws PlanError when a sharded stage
 * has no single table to partition (validation reports that first, WEIR309).
 *
 * Cost: union-find over groups, O(stages + edges) for the split itself, plus a walk of the graph of
 * groups each time a stage could join or bridge groups that have dependents of their own (bounded
 * by the groups upstream of it); `inputs` are as large as the transitive closure they describe.
 */
export function splitSegments(plan: Plan): Segment[] {
  const index = new Map(plan.stages.map((s, i) => [s.name, i]));
  const needs = plan.stages.map((s) => [...new Set(s.needs.map((name) => index.get(name)).filter((j): j is number => j !== undefined))]);
  const groupOf = groupStages(plan.stages, needs);
  const ordered = orderGroups(groupOf, needs);
  const ids = new Map(ordered.map((g) => [g.root, plan.stages[g.root].name]));
  const position = new Map(ordered.map((g, i) => [g.root, i]));
  const tables = plan.stages.map((s, i) => (s.table === undefined ? undefined : Object.freeze({ table: s.table, stage: s.name, segment: ids.get(groupOf[i])! })));
  const inputs = inputsOf(ordered, groupOf, needs, tables);
  const outputs = new Map<number, Set<number>>();
  for (const list of inputs) for (const i of list) outputs.set(groupOf[i], (outputs.get(groupOf[i]) ?? new Set()).add(i));
  return ordered.map((g, k) => {
    const first = plan.stages[g.root];
    const shards = first.spec.shards === undefined ? undefined : segmentShards(first);
    return Object.freeze({
      id: first.name,
      runnerLabels: first.runnerLabels,
      stages: Object.freeze(g.members.map((i) => plan.stages[i].name)),
      needs: Object.freeze([...g.preds].sort((a, b) => position.get(a)! - position.get(b)!).map((p) => ids.get(p)!)),
      inputs: Object.freeze(Array.from(inputs[k], (i) => tables[i]!)),
      outputs: Object.freeze([...(outputs.get(g.root) ?? [])].sort((a, b) => a - b).map((i) => tables[i]!)),
      ...(shards && { shards: Object.freeze(shards) }),
    });
  });
}

/** The matrix of segment jobs: one entry per segment, one per shard of a sharded segment. */
export function segmentMatrix(segments: readonly Segment[], defaultRunner: string = DEFAULT_RUNNER_LABEL): { include: SegmentMatrixEntry[] } {
  const include: SegmentMatrixEntry[] = [];
  for (const segment of segments) {
    const labels = segment.runnerLabels;
    const runsOn = labels.length === 0 ? defaultRunner : labels.length === 1 ? labels[0] : [...labels];
    const shards = segment.shards?.count ?? 1;
    for (let shard = 1; shard <= shards; shard++) include.push({ segment: segment.id, 'runs-on': runsOn, shard, shards });
  }
  return { include };
}

function segmentShards(stage: PlannedStage): SegmentShards {
  const upstream = [...new Set(stage.upstreamTables)];
  const table = stage.spec.shard_table ?? (upstream.length === 1 ? upstream[0] : undefined);
  if (table === undefined) {
    const found = upstream.length ? `several (${upstream.join(', ')}): name one with shard_table` : 'none';
    throw new PlanError(`stage '${stage.name}' has shards but no single input table to partition: the stages it needs produce ${found}`);
  }
  return { count: stage.spec.shards!, ...(stage.spec.shard_by !== undefined && { by: stage.spec.shard_by }), table };
}

/**
 * Assigns every stage (by plan index) the plan index of its segment's first stage. Union-find over
 * groups; a group's root is its smallest stage index. The DAG checks walk the graph of groups, not
 * of stages, and only when a stage would join or bridge groups that other groups sit between.
 */
function groupStages(stages: readonly PlannedStage[], needIndexes: readonly (readonly number[])[]): Int32Array {
  const n = stages.length;
  const labels = stages.map((s) => [...new Set(s.runnerLabels)].sort().join('\n'));
  const parent = new Int32Array(n);
  const preds: number[][] = [];
  /** Whether a group may have a dependent group (an over-estimate after unions): one without cannot reach anything. */
  const hasDependents = new Uint8Array(n);
  // Set on a union: the merged list holds duplicates and edges that are now inside the group.
  const stale = new Uint8Array(n);
  const seen = new Int32Array(n);
  let stamp = 0;
  const find = (g: number): number => {
    let root = g;
    while (parent[root] !== root) root = parent[root];
    while (parent[g] !== root) {
      const next = parent[g];
      parent[g] = root;
      g = next;
    }
    return root;
  };
  const upstreamGroups = (g: number): number[] => {
    if (stale[g]) {
      stale[g] = 0;
      const distinct = new Set(preds[g].map(find));
      distinct.delete(g);
      preds[g] = [...distinct];
    }
    return preds[g];
  };
  // Whether `from` reaches `to` through at least one other group (a direct edge alone is fine).
  const reachesIndirectly = (from: number, to: number): boolean => {
    if (!hasDependents[from]) return false;
    stamp++;
    const stack: number[] = [];
    for (const p of upstreamGroups(to)) {
      const g = find(p);
      if (g === from || g === to || seen[g] === stamp) continue;
      seen[g] = stamp;
      stack.push(g);
    }
    while (stack.length > 0) {
      for (const p of upstreamGroups(stack.pop()!)) {
        const g = find(p);
        if (g === from) return true;
        if (seen[g] === stamp) continue;
        seen[g] = stamp;
        stack.push(g);
      }
    }
    return false;
  };
  const union = (a: number, b: number): void => {
    const [root, child] = a < b ? [a, b] : [b, a];
    parent[child] = root;
    // Small into large: each edge moves O(log stages) times in all.
    const [large, small] = preds[root].length >= preds[child].length ? [preds[root], preds[child]] : [preds[child], preds[root]];
    for (const p of small) large.push(p);
    preds[root] = large;
    preds[child] = [];
    hasDependents[root] |= hasDependents[child];
    stale[root] = 1;
  };
  const sharded = stages.map((s) => s.spec.shards !== undefined);
  for (let i = 0; i < n; i++) {
    parent[i] = i;
    const needs = needIndexes[i];
    const upstream = [...new Set(needs.map(find))];
    preds[i] = [...upstream];
    if (!sharded[i]) {
      const candidates = [...new Set(needs.filter((j) => labels[j] === labels[i] && !sharded[j]).map(find))].sort((a, b) => a - b);
      for (const candidate of candidates) {
        const own = find(i);
        if (candidate === own || reachesIndirectly(candidate, own) || reachesIndirectly(own, candidate)) continue;
        union(candidate, own);
      }
    }
    // Only after the merges: an edge into the stage's own group leads nowhere else.
    for (const g of upstream) if (find(g) !== find(i)) hasDependents[find(g)] = 1;
  }
  return Int32Array.from(parent, (_, i) => find(i));
}

interface Group {
  /** Plan index of its first stage. */
  readonly root: number;
  /** Plan indexes of its stages, ascending. */
  readonly members: number[];
  /** Roots of the groups it needs directly. */
  readonly preds: Set<number>;
}

/** The groups in a topological order; among groups ready together, the one with the earliest first stage goes first. */
function orderGroups(groupOf: Int32Array, needs: readonly (readonly number[])[]): Group[] {
  const groups = new Map<number, Group>();
  for (let i = 0; i < groupOf.length; i++) {
    let group = groups.get(groupOf[i]);
    if (!group) groups.set(groupOf[i], (group = { root: groupOf[i], members: [], preds: new Set() }));
    group.members.push(i);
    for (const j of needs[i]) if (groupOf[j] !== groupOf[i]) group.preds.add(groupOf[j]);
  }
  const waiting = new Map<number, number>();
  const dependents = new Map<number, number[]>();
  for (const group of groups.values()) {
    waiting.set(group.root, group.preds.size);
    for (const p of group.preds) {
      const list = dependents.get(p);
      if (list) list.push(group.root);
      else dependents.set(p, [group.root]);
    }
  }
  const ready = new MinHeap();
  for (const [root, count] of waiting) if (count === 0) ready.push(root);
  const ordered: Group[] = [];
  while (ready.size > 0) {
    const root = ready.pop();
    ordered.push(groups.get(root)!);
    for (const d of dependents.get(root) ?? []) {
      const left = waiting.get(d)! - 1;
      waiting.set(d, left);
      if (left === 0) ready.push(d);
    }
  }
  if (ordered.length !== groups.size) throw new PlanError('segments form a cycle: this is a bug in weir, please report it with the pipeline');
  return ordered;
}

/**
 * For each group, the plan indexes of the stages upstream (transitively) of its stages that are in
 * other groups and produce a table, ascending. One walk per group over what is upstream of it.
 */
function inputsOf(groups: readonly Group[], groupOf: Int32Array, needs: readonly (readonly number[])[], tables: readonly (SegmentTable | undefined)[]): Int32Array[] {
  // Whether a stage or one upstream of it leaves a table (plan order is topological): walks skip the rest.
  const leadsToTable = new Uint8Array(groupOf.length);
  for (let i = 0; i < groupOf.length; i++) leadsToTable[i] = tables[i] !== undefined || needs[i].some((j) => leadsToTable[j] === 1) ? 1 : 0;
  const seen = new Int32Array(groupOf.length).fill(-1);
  return groups.map((group, stamp) => {
    const stack: number[] = [];
    const found: number[] = [];
    const visit = (upstream: readonly number[]) => {
      for (const j of upstream) {
        if (seen[j] === stamp || groupOf[j] === group.root || leadsToTable[j] === 0) continue;
        seen[j] = stamp;
        stack.push(j);
        if (tables[j] !== undefined) found.push(j);
      }
    };
    for (const i of group.members) visit(needs[i]);
    while (stack.length > 0) visit(needs[stack.pop()!]);
    return Int32Array.from(found).sort();
  });
}

/** A binary min-heap of numbers (plan indexes). */
class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (items[up] <= value) break;
      items[i] = items[up];
      i = up;
    }
    items[i] = value;
  }
  pop(): number {
    const items = this.items;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const child = left + 1 < items.length && items[left + 1] < items[left] ? left + 1 : left;
        if (items[child] >= last) break;
        items[i] = items[child];
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
