/**
 * Pure graph algorithms over the stage DAG, written for 10,000-stage pipelines: everything is
 * O(stages + edges), iterative (no recursion depth limits).
 */

/** Map of node → the nodes it depends on. Unknown dependencies are ignored here (validation reports them). */
export type DependencyMap = ReadonlyMap<string, readonly string[]>;

/**
 * Groups nodes into levels: level 0 has no dependencies, level n depends only on levels < n.
 * Nodes of one level can run in parallel. Returns undefined when the graph has a cycle.
 */
export function topologicalLevels(deps: DependencyMap): string[][] | undefined {
  const indegree = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [node, needs] of deps) {
    let count = 0;
    for (const need of new Set(needs)) {
      if (!deps.has(need)) continue;
      count++;
      let list = dependents.get(need);
      if (!list) dependents.set(need, (list = []));
      list.push(node);
    }
    indegree.set(node, count);
  }
  // Within a level, nodes keep their declaration order so plans and output are stable.
  const position = new Map([...deps.keys()].map((node, i) => [node, i]));
  let current = [...deps.keys()].filter((node) => indegree.get(node) === 0);
  const levels: string[][] = [];
  let placed = 0;
  while (current.length > 0) {
    levels.push(current);
    placed += current.length;
    const next: string[] = [];
    for (const node of current) {
      for (const dependent of dependents.get(node) ?? []) {
        const remaining = indegree.get(dependent)! - 1;
        indegree.set(dependent, remaining);
        if (remaining === 0) next.push(dependent);
      }
    }
    current = next.sort((a, b) => position.get(a)! - position.get(b)!);
  }
  return placed === deps.size ? levels : undefined;
}

/**
 * Finds the cycles of the graph, each as a closed path `[a, b, c, a]` where a needs b, b needs c, c
 * needs a. One cycle per strongly connected group is reported, starting from its first node in
 * `deps` order, so messages are stable.
 */
export function findCycles(deps: DependencyMap): string[][] {
  const state = new Map<string, 'active' | 'done'>();
  const cycles: string[][] = [];
  for (const start of deps.keys()) {
    if (state.has(start)) continue;
    // Iterative DFS; `path` is the active stack, `cursor` the next dependency to visit per frame.
    const path: string[] = [start];
    const cursor: number[] = [0];
    state.set(start, 'active');
    while (path.length > 0) {
      const node = path[path.length - 1];
      const needs = deps.get(node) ?? [];
      const i = cursor[cursor.length - 1]++;
      if (i >= needs.length) {
        state.set(node, 'done');
        path.pop();
        cursor.pop();
        continue;
      }
      const next = needs[i];
      if (!deps.has(next)) continue;
      const seen = state.get(next);
      if (seen === 'active') {
        cycles.push([...path.slice(path.indexOf(next)), next]);
      } else if (seen === undefined) {
        state.set(next, 'active');
        path.push(next);
        cursor.push(0);
      }
    }
  }
  return cycles;
}

/** Every node reachable by following dependents from `roots` (roots included). */
export function downstreamOf(deps: DependencyMap, roots: Iterable<string>): Set<string> {
  const dependents = new Map<string, string[]>();
  for (const [node, needs] of deps) {
    for (const need of needs) {
      let list = dependents.get(need);
      if (!list) dependents.set(need, (list = []));
      list.push(node);
    }
  }
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...(dependents.get(node) ?? []));
  }
  return seen;
}

/** Every node `targets` depend on, transitively (targets included). */
export function upstreamOf(deps: DependencyMap, targets: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const stack = [...targets];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...(deps.get(node) ?? []).filter((n) => deps.has(n)));
  }
  return seen;
}
