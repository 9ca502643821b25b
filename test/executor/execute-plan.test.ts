import { describe, expect, it } from 'vitest';
import { executePlan, type ExecuteDeps, type StageOutcome } from '../../src/executor/execute-plan.ts';
import { StageFailedError } from '../../src/model/errors.ts';
import type { RunEvent } from '../../src/model/events.ts';
import { Pipeline } from '../../src/model/pipeline.ts';
import { createPlan, type PlannedStage } from '../../src/planner/plan.ts';

function planOf(stages: Record<string, string[]>, extra: Record<string, object> = {}) {
  return createPlan(
    Pipeline.parse({
      name: 'p',
      stages: Object.fromEntries(Object.entries(stages).map(([n, needs]) => [n, { uses: 'sql', needs, ...extra[n] }])),
    }),
  );
}

interface Harness {
  events: RunEvent[];
  deps: ExecuteDeps;
  maxRunning: () => number;
}

/** A fake stage runner: each stage takes `delays[name]` ms (default 0) and fails when listed. */
function harness(options: { delays?: Record<string, number>; fail?: string[]; concurrency?: number; runTimeoutMs?: number } = {}): Harness {
  const events: RunEvent[] = [];
  let running = 0;
  let max = 0;
  const deps: ExecuteDeps = {
    runId: 'r1',
    emit: (e) => events.push(e),
    now: () => Date.now(),
    concurrency: options.concurrency,
    runTimeoutMs: options.runTimeoutMs,
    runStage: async (stage: PlannedStage, signal): Promise<StageOutcome> => {
      running++;
      max = Math.max(max, running);
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, options.delays?.[stage.name] ?? 0);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(signal.reason);
          });
        });
        if (options.fail?.includes(stage.name)) return { ok: false, attempt: 1, error: new StageFailedError(`${stage.name} broke`) };
        return { ok: true, attempt: 1, rows: 1 };
      } catch (error) {
        return { ok: false, attempt: 1, error };
      } finally {
        running--;
      }
    },
  };
  return { events, deps, maxRunning: () => max };
}

const statusOf = (events: RunEvent[]) =>
  Object.fromEntries(
    events.flatMap((e) =>
      e.type === 'stage.succeeded' ? [[e.stage, 'succeeded']] : e.type === 'stage.failed' ? [[e.stage, 'failed']] : e.type === 'stage.skipped' ? [[e.stage, `skipped:${e.reason}`]] : [],
    ),
  );

describe('executePlan', () => {
  it('runs every stage after its dependencies and reports success', async () => {
    const { events, deps } = harness();
    const result = await executePlan(planOf({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'] }), deps);
    expect(result.status).toBe('succeeded');
    const order = events.filter((e) => e.type === 'stage.started').map((e) => (e as { stage: string }).stage);
    expect(order.indexOf('a')).toBe(0);
    expect(order.indexOf('d')).toBe(3);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
  });

  it('runs independent stages concurrently up to the limit', async () => {
    const h = harness({ delays: { a: 30, b: 30, c: 30, d: 30 }, concurrency: 2 });
    await executePlan(planOf({ a: [], b: [], c: [], d: [] }), h.deps);
    expect(h.maxRunning()).toBe(2);
  });

  it('skips everything downstream of a failure while siblings finish', async () => {
    const h = harness({ fail: ['b'], delays: { c: 20 } });
    const result = await executePlan(planOf({ a: [], b: ['a'], c: ['a'], d: ['b'], e: ['d'], f: ['c'] }), h.deps);
    expect(result.status).toBe('failed');
    expect(statusOf(h.events)).toEqual({
      a: 'succeeded',
      b: 'failed',
      c: 'succeeded',
      d: 'skipped:upstream_failed',
      e: 'skipped:upstream_failed',
      f: 'succeeded',
    });
  });

  it('skips a stage whose condition is false, and its dependents', async () => {
    const h = harness();
    h.deps.skipReason = (s) => (s.name === 'b' ? { reason: 'condition_false' } : undefined);
    const result = await executePlan(planOf({ a: [], b: ['a'], c: ['b'], d: ['a'] }), h.deps);
    expect(result.status).toBe('succeeded');
    expect(statusOf(h.events)).toEqual({ a: 'succeeded', b: 'skipped:condition_false', c: 'skipped:upstream_skipped', d: 'succeeded' });
  });

  it('runs stages downstream of unselected ones in a partial plan', async () => {
    const h = harness();
    const plan = createPlan(Pipeline.parse({ name: 'p', stages: { a: { uses: 'sql' }, b: { uses: 'sql', needs: 'a' } } }), { from: ['b'] });
    await executePlan(plan, h.deps);
    expect(statusOf(h.events)).toEqual({ a: 'skipped:not_selected', b: 'succeeded' });
  });

  it('stops running stages and cancels the rest when the run times out', async () => {
    const h = harness({ delays: { a: 5_000 }, runTimeoutMs: 40 });
    const started = Date.now();
    const result = await executePlan(planOf({ a: [], b: ['a'] }), h.deps);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('run_timeout');
    expect(statusOf(h.events)).toEqual({ a: 'failed', b: 'skipped:upstream_failed' });
  });

  it('cancels when the outside signal aborts', async () => {
    const h = harness({ delays: { a: 5_000 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('interrupted')), 20);
    const result = await executePlan(planOf({ a: [], b: [] }), { ...h.deps, signal: controller.signal, concurrency: 1 });
    expect(result.status).toBe('failed');
    expect(statusOf(h.events)).toEqual({ a: 'failed', b: 'skipped:cancelled' });
  });

  it('treats a runner that throws as a failed stage', async () => {
    const h = harness();
    h.deps.runStage = async () => {
      throw new Error('boom');
    };
    const result = await executePlan(planOf({ a: [] }), h.deps);
    expect(result.status).toBe('failed');
    expect(h.events.find((e) => e.type === 'stage.failed')).toMatchObject({ error: { message: 'boom' } });
  });

  it('emits one terminal event per stage on a 10,000-stage chain', async () => {
    const stages: Record<string, string[]> = {};
    for (let i = 0; i < 10_000; i++) stages[`s${i}`] = i === 0 ? [] : [`s${i - 1}`];
    const h = harness({ fail: ['s0'] });
    await executePlan(planOf(stages), h.deps);
    expect(h.events.filter((e) => e.type === 'stage.skipped')).toHaveLength(9_999);
  });
});
