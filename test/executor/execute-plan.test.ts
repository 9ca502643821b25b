import { describe, expect, it } from 'vitest';
import { executePlan, type ExecuteDeps, type StageOutcome } from '../../src/executor/execute-plan.ts';
import { CancelledError, StageFailedError } from '../../src/model/errors.ts';
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
          if (signal.aborted) return reject(signal.reason);
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
      e.type === 'stage.succeeded' ? [[e.stage, 'succeeded']]
      : e.type === 'stage.failed' ? [[e.stage, 'failed']]
      : e.type === 'stage.skipped' ? [[e.stage, `skipped:${e.reason}`]]
      : e.type === 'stage.cancelled' ? [[e.stage, e.attempt === undefined ? 'cancelled' : 'cancelled:running']]
      : e.type === 'stage.reused' ? [[e.stage, `reused:${e.fromRunId}`]]
      : [],
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

  it('runs stages downstream of unselected ones whose output is reused', async () => {
    const h = harness();
    const plan = createPlan(Pipeline.parse({ name: 'p', stages: { a: { uses: 'sql' }, b: { uses: 'sql', needs: 'a' } } }), { from: ['b'] });
    const result = await executePlan(plan, { ...h.deps, reused: new Map([['a', { fromRunId: 'r0', table: 'a' }]]) });
    expect(result.status).toBe('succeeded');
    expect(statusOf(h.events)).toEqual({ a: 'reused:r0', b: 'succeeded' });
  });

  it('skips unselected stages below the selection, and a selected stage whose unselected upstream was not restored', async () => {
    const h = harness();
    const spec = Pipeline.parse({ name: 'p', stages: { a: { uses: 'sql' }, b: { uses: 'sql', needs: 'a' }, c: { uses: 'sql', needs: 'b' } } });
    await executePlan(createPlan(spec, { only: ['a'] }), h.deps);
    expect(statusOf(h.events)).toEqual({ a: 'succeeded', b: 'skipped:not_selected', c: 'skipped:not_selected' });
    const h2 = harness();
    await executePlan(createPlan(spec, { only: ['b'] }), h2.deps);
    expect(statusOf(h2.events)).toEqual({ a: 'skipped:not_selected', b: 'skipped:upstream_skipped', c: 'skipped:not_selected' });
  });

  it('stops running stages and cancels the rest when the run times out', async () => {
    const h = harness({ delays: { a: 5_000 }, runTimeoutMs: 40 });
    const result = await executePlan(planOf({ a: [], b: ['a'] }), h.deps);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('run_timeout');
    expect(statusOf(h.events)).toEqual({ a: 'cancelled:running', b: 'cancelled' });
  });

  it('records a cancelled run, not a failed one, when the outside signal aborts: no failure event, downstream cancelled', async () => {
    const h = harness({ delays: { a: 5_000 } });
    const controller = new AbortController();
    h.deps.emit = (e) => {
      h.events.push(e);
      if (e.type === 'stage.started') controller.abort(new CancelledError('cancelled by SIGINT'));
    };
    const result = await executePlan(planOf({ a: [], b: [], c: ['a'] }), { ...h.deps, signal: controller.signal, concurrency: 1 });
    expect(result.status).toBe('cancelled');
    expect(result.error?.code).toBe('cancelled');
    expect(statusOf(h.events)).toEqual({ a: 'cancelled:running', b: 'cancelled', c: 'cancelled' });
    expect(h.events.some((e) => e.type === 'stage.failed' || e.type === 'stage.retrying')).toBe(false);
    expect(h.events.filter((e) => e.type === 'stage.started')).toHaveLength(1);
  });

  it('fails the stage whose condition throws, skips its dependents, and still finishes the run', async () => {
    const h = harness();
    h.deps.skipReason = (s) => {
      if (s.name === 'b') throw new TypeError("cannot read 'rows' of undefined");
      return undefined;
    };
    const result = await executePlan(planOf({ a: [], b: ['a'], c: ['b'], d: ['a'] }), h.deps);
    expect(result.status).toBe('failed');
    expect(statusOf(h.events)).toEqual({ a: 'succeeded', b: 'failed', c: 'skipped:upstream_failed', d: 'succeeded' });
    expect(h.events.find((e) => e.type === 'stage.failed')).toMatchObject({ error: { code: 'config_error', message: expect.stringContaining("cannot read 'rows'") } });
    expect(h.events.at(-1)).toMatchObject({ type: 'run.finished', status: 'failed' });
  });

  it('ends the run with an internal error, and stops running stages, when reporting an event throws', async () => {
    const h = harness({ delays: { b: 5_000 } });
    const emit = h.deps.emit;
    h.deps.emit = (e) => {
      emit(e);
      if (e.type === 'stage.succeeded' && e.stage === 'a') throw new Error('listener bug');
    };
    const result = await executePlan(planOf({ a: [], b: [], c: ['a'] }), h.deps);
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'internal_error', message: expect.stringContaining('listener bug') });
    expect(h.events.at(-1)).toMatchObject({ type: 'run.finished', status: 'failed' });
    expect(statusOf(h.events)).toMatchObject({ a: 'succeeded', b: 'cancelled:running', c: 'cancelled' });
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
