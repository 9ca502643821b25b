import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/model/pipeline.ts';
import { findCycles, topologicalLevels } from '../../src/planner/graph.ts';
import { createPlan, PlanError, type PlanningKind, unselectedUpstream } from '../../src/planner/plan.ts';

function spec(stages: Record<string, string[]>) {
  return Pipeline.parse({
    name: 'p',
    stages: Object.fromEntries(Object.entries(stages).map(([name, needs]) => [name, { uses: 'sql', needs, with: { query: 'select 1' } }])),
  });
}

describe('createPlan', () => {
  it('groups stages into parallel levels in topological order', () => {
    const plan = createPlan(spec({ a: [], b: [], c: ['a', 'b'], d: ['c'], e: ['a'] }));
    expect(plan.levels).toEqual([['a', 'b'], ['c', 'e'], ['d']]);
    expect(plan.stages.map((s) => s.name)).toEqual(['a', 'b', 'c', 'e', 'd']);
    expect(plan.stages.find((s) => s.name === 'c')?.level).toBe(1);
  });

  it('is immutable data', () => {
    const plan = createPlan(spec({ a: [] }));
    expect(Object.isFrozen(plan)).toBe(true);
    expect(Object.isFrozen(plan.stages[0])).toBe(true);
    expect(() => (plan.stages as unknown as unknown[]).push({})).toThrow();
  });

  it('selects a stage and everything downstream of it with from', () => {
    const plan = createPlan(spec({ a: [], b: ['a'], c: ['b'], d: ['a'] }), { from: ['b'] });
    expect(plan.stages.filter((s) => s.selected).map((s) => s.name)).toEqual(['b', 'c']);
    expect(plan.partial).toBe(true);
    expect(unselectedUpstream(plan)).toEqual(['a']);
  });

  it('selects exactly the named stages with only', () => {
    const plan = createPlan(spec({ a: [], b: ['a'], c: ['b'] }), { only: ['b'] });
    expect(plan.stages.filter((s) => s.selected).map((s) => s.name)).toEqual(['b']);
  });

  it('rejects a selection naming an unknown stage', () => {
    expect(() => createPlan(spec({ a: [] }), { only: ['z'] })).toThrow(PlanError);
    expect(() => createPlan(spec({ a: [] }), { from: ['z'] })).toThrow(/--from names stage 'z'/);
  });

  it('refuses a cyclic pipeline', () => {
    expect(() => createPlan(spec({ a: ['b'], b: ['a'] }))).toThrow(/dependency cycle/);
  });

  it('plans a 10,000-stage chain without deep recursion', () => {
    const stages: Record<string, string[]> = {};
    for (let i = 0; i < 10_000; i++) stages[`s${i}`] = i === 0 ? [] : [`s${i - 1}`];
    const plan = createPlan(spec(stages));
    expect(plan.levels).toHaveLength(10_000);
  });
});

describe('tables in the plan', () => {
  const kinds = new Map<string, PlanningKind>([
    ['sql', { producesTable: true }],
    ['command', { producesTable: (config) => typeof (config as { output?: unknown }).output === 'string' }],
  ]);
  const pipeline = Pipeline.parse({
    name: 'p',
    stages: {
      a: { uses: 'sql', with: { query: 'select 1', table: 'raw' } },
      score: { uses: 'command', needs: ['a'], with: { run: 'python score.py', output: 'scores.parquet' } },
      notify: { uses: 'command', needs: ['score'], with: { run: 'echo done' } },
      b: { uses: 'sql', needs: ['score', 'notify'], with: { query: 'select 2' } },
    },
  });

  it('asks a kind whose tables depend on its with block, stage by stage', () => {
    const plan = createPlan(pipeline, { kinds });
    const byName = new Map(plan.stages.map((s) => [s.name, s]));
    expect(byName.get('a')?.table).toBe('raw');
    expect(byName.get('score')?.table).toBe('score');
    expect(byName.get('notify')?.table).toBeUndefined();
    expect(byName.get('b')?.upstreamTables).toEqual(['score']);
  });

  it('knows no tables without kinds', () => {
    expect(createPlan(pipeline).stages.every((s) => s.table === undefined)).toBe(true);
  });
});

describe('graph helpers', () => {
  it('reports a cycle as its full closed path', () => {
    const deps = new Map([
      ['a', ['c']],
      ['b', ['a']],
      ['c', ['b']],
      ['d', []],
    ]);
    expect(findCycles(deps)).toEqual([['a', 'c', 'b', 'a']]);
    expect(topologicalLevels(deps)).toBeUndefined();
  });

  it('finds one cycle per loop and none in a diamond', () => {
    const diamond = new Map([
      ['a', []],
      ['b', ['a']],
      ['c', ['a']],
      ['d', ['b', 'c']],
    ]);
    expect(findCycles(diamond)).toEqual([]);
    const two = new Map([
      ['a', ['b']],
      ['b', ['a']],
      ['c', ['c']],
    ]);
    expect(findCycles(two)).toEqual([['a', 'b', 'a'], ['c', 'c']]);
  });
});
