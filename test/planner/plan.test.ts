import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/model/pipeline.ts';
import { findCycles, topologicalLevels } from '../../src/planner/graph.ts';
import { createPlan, PlanError, unselectedUpstream } from '../../src/planner/plan.ts';

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
