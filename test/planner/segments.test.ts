import { describe, expect, it } from 'vitest';
import { Pipeline } from '../../src/model/pipeline.ts';
import { createPlan, PlanError, type PlanningKind } from '../../src/planner/plan.ts';
import { type Segment, segmentMatrix, splitSegments } from '../../src/planner/segments.ts';

const KINDS: ReadonlyMap<string, PlanningKind> = new Map([
  ['sql', { producesTable: true }],
  ['export', { producesTable: false }],
]);

interface StageShape {
  needs?: string[];
  on?: string | string[];
  shards?: number;
  shard_by?: string;
  shard_table?: string;
  uses?: string;
}

function plan(stages: Record<string, StageShape>, options: { from?: string[] } = {}) {
  const spec = Pipeline.parse({
    name: 'p',
    stages: Object.fromEntries(
      Object.entries(stages).map(([name, { on, uses = 'sql', ...rest }]) => [name, { uses, with: { query: 'select 1' }, ...(on !== undefined && { 'runs-on': on }), ...rest }]),
    ),
  });
  return createPlan(spec, { kinds: KINDS, ...options });
}

/** `id: stage stage … ← needs` per segment, for compact assertions. */
function shape(segments: readonly Segment[]): string[] {
  return segments.map((s) => `${s.id}: ${s.stages.join(' ')}${s.needs.length ? ` ← ${s.needs.join(' ')}` : ''}`);
}

const tables = (list: Segment['inputs']) => list.map((t) => `${t.table}@${t.segment}`);
const byId = (segments: readonly Segment[], id: string) => segments.find((s) => s.id === id)!;
const GPU = ['self-hosted', 'gpu'];

describe('splitSegments', () => {
  it('keeps a single-label pipeline in one segment with nothing to hand over', () => {
    const segments = splitSegments(plan({ a: {}, b: { needs: ['a'] }, c: { needs: ['a'] }, d: { needs: ['b', 'c'] } }));
    expect(shape(segments)).toEqual(['a: a b c d']);
    expect(segments[0]).toMatchObject({ runnerLabels: [], inputs: [], outputs: [] });
    expect(segments[0].shards).toBeUndefined();
  });

  it('splits a diamond across labels into the CPU side, the GPU stage and the join', () => {
    const segments = splitSegments(plan({ a: {}, b: { needs: ['a'], on: GPU }, c: { needs: ['a'] }, d: { needs: ['b', 'c'] } }));
    expect(shape(segments)).toEqual(['a: a c', 'b: b ← a', 'd: d ← a b']);
    expect(tables(byId(segments, 'b').inputs)).toEqual(['a@a']);
    // d reads a through both paths, c (in a's segment) and b.
    expect(tables(byId(segments, 'd').inputs)).toEqual(['a@a', 'b@b', 'c@a']);
    expect(tables(byId(segments, 'a').outputs)).toEqual(['a@a', 'c@a']);
    expect(tables(byId(segments, 'b').outputs)).toEqual(['b@b']);
  });

  it('keeps two GPU branches of one diamond apart: they are not connected through GPU stages', () => {
    const segments = splitSegments(plan({ a: {}, b: { needs: ['a'], on: GPU }, c: { needs: ['a'], on: GPU }, d: { needs: ['b', 'c'] } }));
    expect(shape(segments)).toEqual(['a: a', 'b: b ← a', 'c: c ← a', 'd: d ← b c']);
  });

  it('gives a label used in two disconnected places two segments', () => {
    const segments = splitSegments(plan({ x: { on: 'gpu' }, y: { on: 'gpu' }, z: { needs: ['x', 'y'] }, w: { needs: ['z'], on: 'gpu' } }));
    expect(shape(segments)).toEqual(['x: x', 'y: y', 'z: z ← x y', 'w: w ← z']);
  });

  it('keeps unconnected stages of the same label apart, and joins them when a stage connects them', () => {
    expect(shape(splitSegments(plan({ a: {}, b: {} })))).toEqual(['a: a', 'b: b']);
    expect(shape(splitSegments(plan({ a: {}, b: {}, c: { needs: ['a', 'b'] } })))).toEqual(['a: a b c']);
  });

  it('splits a chain that alternates labels into one segment per stage', () => {
    const segments = splitSegments(plan({ a1: {}, g1: { needs: ['a1'], on: 'gpu' }, a2: { needs: ['g1'] }, g2: { needs: ['a2'], on: 'gpu' } }));
    expect(shape(segments)).toEqual(['a1: a1', 'g1: g1 ← a1', 'a2: a2 ← g1', 'g2: g2 ← a2']);
    expect(tables(byId(segments, 'g2').inputs)).toEqual(['a1@a1', 'g1@g1', 'a2@a2']);
    expect(segmentMatrix(segments).include.map((e) => e['runs-on'])).toEqual(['ubuntu-latest', 'gpu', 'ubuntu-latest', 'gpu']);
  });

  it('does not let a stage join a segment that reaches it through a segment of another label', () => {
    // c needs a directly and through g: in a's segment, a → g → c would be a cycle.
    const segments = splitSegments(plan({ a: {}, g: { needs: ['a'], on: 'gpu' }, c: { needs: ['a', 'g'] } }));
    expect(shape(segments)).toEqual(['a: a', 'g: g ← a', 'c: c ← a g']);
  });

  it('joins the same-label group that does not close a cycle when a stage could join two', () => {
    // z needs x (which reaches z through g) and y (which does not): z joins y.
    const segments = splitSegments(plan({ x: {}, g: { needs: ['x'], on: 'gpu' }, y: { needs: ['g'] }, z: { needs: ['x', 'y'] } }));
    expect(shape(segments)).toEqual(['x: x', 'g: g ← x', 'y: y z ← x g']);
  });

  it('lets an early root join a late stage of its label; the segment is named after it and ordered after what it needs', () => {
    const segments = splitSegments(plan({ a: {}, e: {}, g: { needs: ['a'], on: 'gpu' }, c: { needs: ['g', 'e'] } }));
    expect(shape(segments)).toEqual(['a: a', 'g: g ← a', 'e: e c ← g']);
  });

  it('compares runner labels as sets and shows those of the first stage', () => {
    const segments = splitSegments(plan({ a: { on: ['self-hosted', 'gpu'] }, b: { needs: ['a'], on: ['gpu', 'self-hosted'] } }));
    expect(shape(segments)).toEqual(['a: a b']);
    expect(segments[0].runnerLabels).toEqual(['self-hosted', 'gpu']);
    expect(segmentMatrix(segments).include).toEqual([{ segment: 'a', 'runs-on': ['self-hosted', 'gpu'], shard: 1, shards: 1 }]);
  });

  it('makes a sharded stage between two CPU stages a segment of its own, even with an edge around it', () => {
    const segments = splitSegments(plan({ a: {}, s: { needs: ['a'], shards: 3, shard_by: 'id' }, c: { needs: ['s', 'a'] } }));
    expect(shape(segments)).toEqual(['a: a', 's: s ← a', 'c: c ← a s']);
    expect(byId(segments, 's').shards).toEqual({ count: 3, by: 'id', table: 'a' });
    expect(byId(segments, 'a').shards).toBeUndefined();
    expect(segmentMatrix(segments, 'my-runner').include).toEqual([
      { segment: 'a', 'runs-on': 'my-runner', shard: 1, shards: 1 },
      { segment: 's', 'runs-on': 'my-runner', shard: 1, shards: 3 },
      { segment: 's', 'runs-on': 'my-runner', shard: 2, shards: 3 },
      { segment: 's', 'runs-on': 'my-runner', shard: 3, shards: 3 },
      { segment: 'c', 'runs-on': 'my-runner', shard: 1, shards: 1 },
    ]);
  });

  it('keeps two sharded stages in a row apart and partitions the named table', () => {
    const segments = splitSegments(plan({ a: {}, b: {}, s1: { needs: ['a', 'b'], shards: 2, shard_table: 'b' }, s2: { needs: ['s1'], shards: 2 } }));
    expect(shape(segments)).toEqual(['a: a', 'b: b', 's1: s1 ← a b', 's2: s2 ← s1']);
    expect(byId(segments, 's1').shards).toEqual({ count: 2, table: 'b' });
    expect(byId(segments, 's2').shards).toEqual({ count: 2, table: 's1' });
  });

  it('refuses a sharded stage with several input tables and no shard_table', () => {
    expect(() => splitSegments(plan({ a: {}, b: {}, s: { needs: ['a', 'b'], shards: 2 } }))).toThrow(PlanError);
    expect(() => splitSegments(plan({ a: {}, b: {}, s: { needs: ['a', 'b'], shards: 2 } }))).toThrow(/several \(a, b\): name one with shard_table/);
  });

  it('hands over tables of transitive upstream stages, and none for stages that produce no table', () => {
    const segments = splitSegments(
      plan({ a: {}, b: { needs: ['a'] }, x: { needs: ['b'], uses: 'export' }, g: { needs: ['x'], on: 'gpu' }, h: { needs: ['g'], on: 'gpu' }, z: { needs: ['h'] } }),
    );
    expect(shape(segments)).toEqual(['a: a b x', 'g: g h ← a', 'z: z ← g']);
    expect(tables(byId(segments, 'g').inputs)).toEqual(['a@a', 'b@a']);
    expect(tables(byId(segments, 'z').inputs)).toEqual(['a@a', 'b@a', 'g@g', 'h@g']);
    expect(tables(byId(segments, 'g').outputs)).toEqual(['g@g', 'h@g']);
  });

  it('keeps segment ids when unrelated stages are added', () => {
    const base = { a: {}, g: { needs: ['a'], on: 'gpu' }, c: { needs: ['g'] } };
    const before = splitSegments(plan(base)).map((s) => s.id);
    const after = splitSegments(plan({ zz: {}, ...base, yy: { needs: ['zz'], on: 'gpu' }, ww: { on: 'other' } })).map((s) => s.id);
    expect(before).toEqual(['a', 'g', 'c']);
    expect(after).toEqual(expect.arrayContaining(before));
  });

  it('places stages a selection leaves out like the others', () => {
    const segments = splitSegments(plan({ a: {}, g: { needs: ['a'], on: 'gpu' }, c: { needs: ['g'] } }, { from: ['g'] }));
    expect(shape(segments)).toEqual(['a: a', 'g: g ← a', 'c: c ← g']);
  });

  it('returns immutable data', () => {
    const [segment] = splitSegments(plan({ a: {} }));
    expect(Object.isFrozen(segment) && Object.isFrozen(segment.stages) && Object.isFrozen(segment.inputs)).toBe(true);
  });
});

/** Seeded PRNG (mulberry32): the same DAGs on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` stages, each needing up to 3 of the `window` stages before it; a share `elsewhere` on other runners, some sharded. */
function randomPipeline(random: () => number, size: number, window: number, elsewhere = 0.75): Record<string, StageShape> {
  const labels: (string | string[])[] = ['gpu', ['self-hosted', 'big'], ['big', 'self-hosted']];
  const stages: Record<string, StageShape> = {};
  for (let i = 0; i < size; i++) {
    const needs = new Set<string>();
    const count = Math.floor(random() * 4);
    for (let k = 0; k < count && i > 0; k++) needs.add(`s${Math.max(0, i - 1 - Math.floor(random() * window))}`);
    const on = random() < elsewhere ? labels[Math.floor(random() * labels.length)] : undefined;
    const sharded = needs.size > 0 && random() < 0.1;
    stages[`s${i}`] = { needs: [...needs], ...(on !== undefined && { on }), ...(sharded && { shards: 2, shard_table: [...needs][0] }) };
  }
  return stages;
}

/** Whether the stages form one group through the needs between them (in either direction). */
function isConnected(stages: readonly string[], stageOf: ReadonlyMap<string, { needs: readonly string[] }>): boolean {
  const members = new Set(stages);
  const neighbours = new Map(stages.map((name) => [name, [] as string[]]));
  for (const name of stages) {
    for (const need of stageOf.get(name)!.needs) {
      if (!members.has(need)) continue;
      neighbours.get(name)!.push(need);
      neighbours.get(need)!.push(name);
    }
  }
  const seen = new Set([stages[0]]);
  const stack = [stages[0]];
  while (stack.length > 0) for (const next of neighbours.get(stack.pop()!)!) if (!seen.has(next)) seen.add(next), stack.push(next);
  return seen.size === members.size;
}

/** Whether segment `to` needs segment `from` through at least one other segment. */
function reachesThroughOthers(segments: readonly Segment[], from: string, to: string): boolean {
  const needs = new Map(segments.map((s) => [s.id, s.needs]));
  const stack = needs.get(to)!.filter((n) => n !== from);
  const seen = new Set<string>();
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === from) return true;
    if (!seen.has(id)) seen.add(id), stack.push(...needs.get(id)!);
  }
  return false;
}

describe('splitSegments on random DAGs', () => {
  it('always yields an acyclic graph of connected segments that covers every stage once, one label set each, every cross-segment edge in needs, none mergeable', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = prng(seed);
      const p = plan(randomPipeline(random, 5 + Math.floor(random() * 60), 1 + Math.floor(random() * 12)));
      const segments = splitSegments(p);
      const position = new Map(segments.map((s, i) => [s.id, i]));
      const segmentOf = new Map<string, string>();
      for (const segment of segments) {
        for (const stage of segment.stages) {
          expect(segmentOf.has(stage), `seed ${seed}: ${stage} in two segments`).toBe(false);
          segmentOf.set(stage, segment.id);
        }
        // Topological: every segment needs only segments listed before it.
        for (const need of segment.needs) expect(position.get(need)!, `seed ${seed}`).toBeLessThan(position.get(segment.id)!);
        expect(segment.id).toBe(segment.stages[0]);
      }
      expect(segmentOf.size).toBe(p.stages.length);
      const stageOf = new Map(p.stages.map((s) => [s.name, s]));
      const labelsOf = (name: string) => [...stageOf.get(name)!.runnerLabels].sort().join(',');
      for (const segment of segments) {
        expect(new Set(segment.stages.map(labelsOf)).size, `seed ${seed}: labels in ${segment.id}`).toBe(1);
        if (segment.stages.some((name) => stageOf.get(name)!.spec.shards !== undefined)) expect(segment.stages).toHaveLength(1);
      }
      for (const stage of p.stages) {
        const own = segmentOf.get(stage.name)!;
        const crossing = new Set(stage.needs.map((n) => segmentOf.get(n)!).filter((s) => s !== own));
        for (const upstream of crossing) expect(byId(segments, own).needs, `seed ${seed}: ${stage.name}`).toContain(upstream);
      }
      for (const segment of segments) {
        const crossing = new Set(segment.stages.flatMap((name) => stageOf.get(name)!.needs.map((n) => segmentOf.get(n)!)));
        expect(segment.needs.every((n) => crossing.has(n)), `seed ${seed}: needs of ${segment.id} are direct`).toBe(true);
        expect(isConnected(segment.stages, stageOf), `seed ${seed}: ${segment.id} is connected`).toBe(true);
      }
      // As few as the dependencies allow: two segments of one label joined by an edge would, merged, wait on themselves.
      const isSharded = (id: string) => byId(segments, id).shards !== undefined;
      for (const segment of segments) {
        for (const need of segment.needs) {
          if (labelsOf(need) !== labelsOf(segment.id) || isSharded(need) || isSharded(segment.id)) continue;
          expect(reachesThroughOthers(segments, need, segment.id), `seed ${seed}: ${need} and ${segment.id} could be one segment`).toBe(true);
        }
      }
    }
  });

  it('splits 10,000 stages of which a tenth run on other runners', () => {
    const p = plan(randomPipeline(prng(42), 10_000, 30, 0.1));
    const segments = splitSegments(p);
    expect(segments.reduce((n, s) => n + s.stages.length, 0)).toBe(10_000);
    expect(segmentMatrix(segments).include.length).toBeGreaterThanOrEqual(segments.length);
  });
});
