/**
 * The pure parts of gates: the executor parks a run whose gate waits (and closes the gate when the
 * run fails), the record folds waiting → running → final, gate conditions read flags (unset is
 * null), and `flags.<name>` is resolved most specific first.
 */
import { describe, expect, it } from 'vitest';
import { executePlan, type StageOutcome } from '../../src/executor/execute-plan.ts';
import { deriveRunState } from '../../src/executor/run-state.ts';
import { flagsForGate, GLOBAL_FLAG_SCOPE, parseFlagAssignment, type Flag } from '../../src/ledger/flags.ts';
import { foldEvents } from '../../src/ledger/run-record.ts';
import { GateNotMetError, StageFailedError } from '../../src/model/errors.ts';
import type { RunEvent } from '../../src/model/events.ts';
import { Pipeline } from '../../src/model/pipeline.ts';
import { evaluateCondition, type TemplateContext } from '../../src/model/template.ts';
import { createPlan } from '../../src/planner/plan.ts';
import { gateStage } from '../../src/stages/gate.ts';
import { dueIntervals } from '../../src/planner/due-intervals.ts';
import { decide } from '../../src/use-cases/backfill.ts';
import type { RunRecord } from '../../src/ledger/run-record.ts';

const plan = createPlan(Pipeline.parse({ name: 'p', stages: { a: { uses: 'sql' }, gate: { uses: 'sql', needs: ['a'] }, after: { uses: 'sql', needs: ['gate'] }, side: { uses: 'sql' } } }));
let tick = 0;
const now = () => Date.parse('2026-06-06T09:00:00Z') + tick++;

async function execute(outcomes: Record<string, StageOutcome>, events: RunEvent[] = []) {
  const result = await executePlan(plan, {
    runId: 'r1',
    now,
    emit: (e) => events.push(e),
    runStage: async (stage) => outcomes[stage.name] ?? { ok: true, attempt: 1 },
    initialState: events.length ? deriveRunState(plan, events) : undefined,
  });
  return { result, events };
}

const waits: StageOutcome = { ok: false, attempt: 1, error: new GateNotMetError('waiting for flags.ready == true') };
const started: RunEvent = { type: 'run.started', runId: 'r1', at: '2026-06-06T09:00:00.000Z', pipeline: 'p', params: {}, interval: { start: 'a', end: 'b' }, trigger: 'manual', stages: ['a', 'gate', 'after', 'side'] };

describe('executePlan with a gate', () => {
  it('parks the run: siblings finish, the gate waits, stages behind it stay pending, run.parked instead of run.finished', async () => {
    const { result, events } = await execute({ gate: waits }, [started]);
    expect(result.status).toBe('waiting');
    expect(events.at(-1)).toMatchObject({ type: 'run.parked', waitingOn: ['gate'] });
    expect(events.some((e) => e.type === 'run.finished')).toBe(false);
    const record = foldEvents(events)!;
    expect(record.status).toBe('waiting');
    expect(Object.fromEntries(Object.entries(record.stages).map(([n, s]) => [n, s.status]))).toEqual({ a: 'succeeded', gate: 'waiting', after: 'pending', side: 'succeeded' });
    expect(record.stages.gate.waitDetail).toBe('waiting for flags.ready == true');
    expect(record.finishedAt).toBeUndefined();
  });

  it('continues a parked run from its event log after run.resumed: only the gate and what follows run', async () => {
    const { events } = await execute({ gate: waits }, [started]);
    const resumed: RunEvent = { type: 'run.resumed', runId: 'r1', at: '2026-06-07T09:00:00.000Z', pipeline: 'p', trigger: 'schedule' };
    const ran: string[] = [];
    const log = [...events, resumed];
    const result = await executePlan(plan, {
      runId: 'r1',
      now,
      emit: (e) => log.push(e),
      runStage: async (stage) => {
        ran.push(stage.name);
        return { ok: true, attempt: 1 };
      },
      initialState: deriveRunState(plan, log),
    });
    expect(result.status).toBe('succeeded');
    expect(ran).toEqual(['gate', 'after']);
    const record = foldEvents(log)!;
    expect(record).toMatchObject({ status: 'succeeded', parkedAt: expect.any(String), resumes: [{ at: '2026-06-07T09:00:00.000Z', trigger: 'schedule' }] });
    expect(record.stages.gate.waitDetail).toBeUndefined();
  });

  it('fails the run and closes the waiting gate when another stage fails', async () => {
    const { result, events } = await execute({ gate: waits, side: { ok: false, attempt: 1, error: new StageFailedError('boom') } }, [started]);
    expect(result.status).toBe('failed');
    const record = foldEvents(events)!;
    expect(record.stages.gate).toMatchObject({ status: 'cancelled', skipDetail: 'the run failed while the gate waited' });
    expect(record.stages.after.status).toBe('cancelled');
  });
});

describe('gate conditions and flags', () => {
  const context = (flags: Record<string, unknown>): TemplateContext => ({ params: {}, interval: { start: 'a', end: 'b' }, run: { id: 'r', date: 'd', trigger: 'manual' }, env: {}, pipeline: { name: 'p' }, flags });

  it('reads flags in a gate condition; an unset flag is null, so the condition is false', () => {
    expect(evaluateCondition('flags.ready == true', context({ ready: true }))).toBe(true);
    expect(evaluateCondition('flags.ready == true', context({}))).toBe(false);
    expect(evaluateCondition('flags.pages > 3', context({ pages: 4 }))).toBe(true);
    expect(() => evaluateCondition('flags.ready.x == 1', context({}))).toThrow("'flags.ready' is a single value and has no field 'x'");
  });

  it('refuses flags outside a gate condition', () => {
    const { flags: _flags, ...noFlags } = context({});
    expect(() => evaluateCondition('flags.ready == true', noFlags)).toThrow(/unknown name 'flags'/);
  });

  it('validates a gate condition: bad syntax and unknown names are schema errors', () => {
    expect(gateStage.with.safeParse({ condition: 'flags.ready == true', timeout: '2d' }).success).toBe(true);
    expect(gateStage.with.safeParse({ condition: 'flags.ready ==' }).error?.issues[0].message).toMatch(/^condition: /);
    expect(gateStage.with.safeParse({ condition: 'flag.ready' }).error?.issues[0].message).toMatch(/unknown name 'flag'.*and flags \(in a gate\)/);
    expect(gateStage.with.safeParse({}).error?.issues[0].path).toEqual(['condition']);
  });

  it('resolves flags.<name> most specific first: pipeline+key, global+key, pipeline, global', () => {
    const flag = (scope: string, name: string, value: unknown, key?: string): Flag => ({ scope, name, value, by: 'x', at: 'y', ...(key ? { key } : {}) });
    const own = [flag('p', 'a', 'p'), flag('p', 'b', 'p'), flag('p', 'c', 'p-key', 'k')];
    const global = [flag(GLOBAL_FLAG_SCOPE, 'a', 'g'), flag(GLOBAL_FLAG_SCOPE, 'b', 'g-key', 'k'), flag(GLOBAL_FLAG_SCOPE, 'd', 'g'), flag(GLOBAL_FLAG_SCOPE, 'e', 'other', 'z')];
    expect(flagsForGate(own, global)).toEqual({ a: 'p', b: 'p', d: 'g' });
    expect(flagsForGate(own, global, 'k')).toEqual({ a: 'p', b: 'g-key', c: 'p-key', d: 'g' });
  });

  it('parses name=value from the command line as JSON when it parses, else text', () => {
    expect(parseFlagAssignment('ready=true')).toEqual({ name: 'ready', value: true });
    expect(parseFlagAssignment('n=3')).toEqual({ name: 'n', value: 3 });
    expect(parseFlagAssignment('who=ada=x')).toEqual({ name: 'who', value: 'ada=x' });
    expect(parseFlagAssignment('list=[1,2]')).toEqual({ name: 'list', value: [1, 2] });
    expect(parseFlagAssignment('ready')).toBeUndefined();
    expect(parseFlagAssignment('=x')).toBeUndefined();
  });
});

describe('a parked run holds its interval', () => {
  const interval = { start: '2026-06-05T06:00:00.000Z', end: '2026-06-06T06:00:00.000Z' };
  const now = new Date('2026-06-06T09:00:00Z');

  it('is not due again for the schedule while it waits (its next trigger resumes it instead)', () => {
    const schedule = { cron: '0 6 * * *', timezone: 'UTC', catchup: 'last' as const };
    expect(dueIntervals(schedule, [], now).due.map((d) => d.interval)).toEqual([interval]);
    expect(dueIntervals(schedule, [{ interval, status: 'waiting' }], now).due).toEqual([]);
  });

  it('is skipped by a backfill, even with --reprocess all, like a running one', () => {
    const parked = { runId: 'r1', status: 'waiting', interval } as RunRecord;
    expect(decide(interval, [parked], 'all', now.getTime())).toEqual({ interval, action: 'skip', reason: 'running', runId: 'r1' });
  });
});
