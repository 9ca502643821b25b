import { describe, expect, it } from 'vitest';
import {
  applyRunEvent, deriveRunState, initialRunState, InvalidTransitionError, nextActions, succeededStages, type RunState, type StagePhase,
} from '../../src/executor/run-state.ts';
import type { RunEvent } from '../../src/model/events.ts';
import { Pipeline } from '../../src/model/pipeline.ts';
import { createPlan } from '../../src/planner/plan.ts';

const at = '2026-12-01T00:00:00.000Z';
const error = { code: 'stage_failed' as const, name: 'StageFailedError', message: 'boom' };
const base = { runId: 'r', at };

function planOf(stages: Record<string, string[]>, options: { only?: string[] } = {}) {
  return createPlan(Pipeline.parse({ name: 'p', stages: Object.fromEntries(Object.entries(stages).map(([n, needs]) => [n, { uses: 'sql', needs }])) }), options);
}

/** Events that put stage `a` (of a → b) into each phase. */
const toPhase: Record<StagePhase, RunEvent[]> = {
  pending: [],
  ready: [],
  running: [{ ...base, type: 'stage.started', stage: 'a', attempt: 1 }],
  up_for_retry: [{ ...base, type: 'stage.started', stage: 'a', attempt: 1 }, { ...base, type: 'stage.retrying', stage: 'a', attempt: 1, error, delayMs: 10 }],
  succeeded: [{ ...base, type: 'stage.started', stage: 'a', attempt: 1 }, { ...base, type: 'stage.succeeded', stage: 'a', attempt: 1, durationMs: 1 }],
  failed: [{ ...base, type: 'stage.started', stage: 'a', attempt: 1 }, { ...base, type: 'stage.failed', stage: 'a', attempt: 1, durationMs: 1, error }],
  skipped: [{ ...base, type: 'stage.skipped', stage: 'a', reason: 'condition_false' }],
  cancelled: [{ ...base, type: 'stage.cancelled', stage: 'a', detail: 'the run was cancelled' }],
  reused: [{ ...base, type: 'stage.reused', stage: 'a', fromRunId: 'r0' }],
  waiting: [{ ...base, type: 'stage.started', stage: 'a', attempt: 1 }, { ...base, type: 'stage.waiting', stage: 'a', attempt: 1, durationMs: 1, detail: 'flags.x is not true' }],
};

const events: Record<string, RunEvent> = {
  started: { ...base, type: 'stage.started', stage: 'a', attempt: 2 },
  retrying: { ...base, type: 'stage.retrying', stage: 'a', attempt: 1, error, delayMs: 5 },
  succeeded: { ...base, type: 'stage.succeeded', stage: 'a', attempt: 1, durationMs: 1, rows: 3 },
  failed: { ...base, type: 'stage.failed', stage: 'a', attempt: 1, durationMs: 1, error },
  skipped: { ...base, type: 'stage.skipped', stage: 'a', reason: 'disabled' },
  cancelled: { ...base, type: 'stage.cancelled', stage: 'a', detail: 'stop' },
  reused: { ...base, type: 'stage.reused', stage: 'a', fromRunId: 'r0' },
  waiting: { ...base, type: 'stage.waiting', stage: 'a', attempt: 1, durationMs: 1, detail: 'not met' },
};

// from phase → event → resulting phase of `a` (or 'invalid'), and what happens to `b`.
const table: [StagePhase, keyof typeof events, StagePhase | 'invalid', StagePhase | 'doomed' | '-'][] = [
  ['ready', 'started', 'running', 'pending'],
  ['ready', 'succeeded', 'invalid', '-'],
  ['ready', 'failed', 'invalid', '-'],
  ['ready', 'retrying', 'invalid', '-'],
  ['ready', 'skipped', 'skipped', 'doomed'],
  ['ready', 'cancelled', 'cancelled', 'doomed'],
  ['ready', 'reused', 'reused', 'ready'],
  ['running', 'succeeded', 'succeeded', 'ready'],
  ['running', 'failed', 'failed', 'doomed'],
  ['running', 'retrying', 'up_for_retry', 'pending'],
  ['running', 'cancelled', 'cancelled', 'doomed'],
  ['running', 'skipped', 'invalid', '-'],
  ['running', 'reused', 'invalid', '-'],
  ['up_for_retry', 'started', 'running', 'pending'],
  ['up_for_retry', 'succeeded', 'succeeded', 'ready'],
  ['up_for_retry', 'failed', 'failed', 'doomed'],
  ['up_for_retry', 'cancelled', 'cancelled', 'doomed'],
  ['succeeded', 'started', 'invalid', '-'],
  ['succeeded', 'failed', 'invalid', '-'],
  ['succeeded', 'cancelled', 'invalid', '-'],
  ['failed', 'succeeded', 'invalid', '-'],
  ['failed', 'retrying', 'invalid', '-'],
  ['skipped', 'started', 'invalid', '-'],
  ['cancelled', 'started', 'invalid', '-'],
  ['cancelled', 'succeeded', 'invalid', '-'],
  ['reused', 'started', 'invalid', '-'],
  ['reused', 'reused', 'invalid', '-'],
  // Gates: a gate that is not met waits; its dependents stay pending; the run's end closes it.
  ['running', 'waiting', 'waiting', 'pending'],
  ['up_for_retry', 'waiting', 'waiting', 'pending'],
  ['ready', 'waiting', 'invalid', '-'],
  ['waiting', 'cancelled', 'cancelled', 'doomed'],
  ['waiting', 'started', 'invalid', '-'],
  ['waiting', 'succeeded', 'invalid', '-'],
  ['succeeded', 'waiting', 'invalid', '-'],
];

function phaseOf(state: RunState, name: string) {
  return state.stages.get(name)!.phase;
}

describe('run state transitions', () => {
  it.each(table)('from %s, stage.%s → %s (downstream: %s)', (from, event, to, downstream) => {
    const state = deriveRunState(planOf({ a: [], b: ['a'] }), toPhase[from]);
    expect(phaseOf(state, 'a')).toBe(from);
    if (to === 'invalid') {
      expect(() => applyRunEvent(state, events[event])).toThrow(InvalidTransitionError);
      return;
    }
    applyRunEvent(state, events[event]);
    expect(phaseOf(state, 'a')).toBe(to);
    if (downstream === 'doomed') expect(state.doomed.map((d) => d.stage)).toEqual(['b']);
    else expect(phaseOf(state, 'b')).toBe(downstream);
  });

  it('rejects events for stages that are not in the plan', () => {
    const state = initialRunState(planOf({ a: [] }));
    expect(() => applyRunEvent(state, { ...base, type: 'stage.started', stage: 'zzz', attempt: 1 })).toThrow(/not in the plan/);
  });
});

describe('parking and resuming (gates)', () => {
  it('run.parked marks the state waiting; run.resumed makes waiting gates ready again and the run unfinished', () => {
    const plan = planOf({ a: [], b: ['a'] });
    const state = deriveRunState(plan, [...toPhase.waiting, { ...base, type: 'run.parked', durationMs: 1, waitingOn: ['a'] }]);
    expect(state.finished).toBe('waiting');
    expect(nextActions(state, { capacity: 4 })).toEqual([]);
    applyRunEvent(state, { ...base, type: 'run.resumed', pipeline: 'p', trigger: 'manual' });
    expect(state.finished).toBeUndefined();
    expect(phaseOf(state, 'a')).toBe('ready');
    expect(nextActions(state, { capacity: 4 }).map((a) => [a.type, a.stage.name])).toEqual([['start', 'a']]);
    applyRunEvent(state, { ...base, type: 'stage.started', stage: 'a', attempt: 2 });
    applyRunEvent(state, { ...base, type: 'stage.succeeded', stage: 'a', attempt: 2, durationMs: 1 });
    expect(phaseOf(state, 'b')).toBe('ready');
  });
});

describe('deriveRunState', () => {
  it('rebuilds an interrupted run from its event log: what succeeded, what was running, what never started', () => {
    const plan = planOf({ extract: [], clean: ['extract'], report: ['clean'], audit: ['extract'] });
    const log: RunEvent[] = [
      { ...base, type: 'run.started', pipeline: 'p', params: {}, interval: { start: at, end: at }, trigger: 'manual', stages: ['extract', 'clean', 'report', 'audit'] },
      { ...base, type: 'stage.started', stage: 'extract', attempt: 1 },
      { ...base, type: 'stage.succeeded', stage: 'extract', attempt: 1, durationMs: 5, rows: 10, table: 'extract' },
      { ...base, type: 'stage.started', stage: 'clean', attempt: 1 },
      { ...base, type: 'stage.log', stage: 'clean', stream: 'info', line: 'working' },
    ];
    const state = deriveRunState(plan, log);
    expect(Object.fromEntries([...state.stages].map(([n, s]) => [n, s.phase]))).toEqual({ extract: 'succeeded', clean: 'running', report: 'pending', audit: 'ready' });
    expect([...succeededStages(state).keys()]).toEqual(['extract']);
    expect(succeededStages(state).get('extract')).toMatchObject({ rows: 10, table: 'extract' });
    expect(state.finished).toBeUndefined();
  });
});

describe('nextActions', () => {
  it('starts ready stages in plan order up to the capacity', () => {
    const state = initialRunState(planOf({ a: [], b: [], c: [] }));
    expect(nextActions(state, { capacity: 2 }).map((a) => `${a.type}:${a.stage.name}`)).toEqual(['start:a', 'start:b']);
  });

  it('reports doomed stages before starting anything, and cancels everything waiting when the run stops', () => {
    const state = deriveRunState(planOf({ a: [], b: ['a'], c: [] }), toPhase.failed);
    expect(nextActions(state, { capacity: 4 }).map((a) => `${a.type}:${a.stage.name}`)).toEqual(['skip:b', 'start:c']);
    expect(nextActions(state, { capacity: 4, stopping: 'the run was cancelled' }).map((a) => `${a.type}:${a.stage.name}`)).toEqual(['cancel:b', 'cancel:c']);
  });

  it('skips unselected stages as not_selected instead of starting them', () => {
    const state = initialRunState(planOf({ a: [], b: ['a'] }, { only: ['b'] }));
    expect(nextActions(state, { capacity: 4 })).toMatchObject([{ type: 'skip', reason: 'not_selected', stage: { name: 'a' } }]);
  });
});
