/**
 * The run state machine as data. A stage moves
 *
 *   pending → ready → running ⇄ up_for_retry → succeeded | failed | cancelled
 *   pending | ready → skipped | cancelled | reused
 *   running → waiting → ready (on run.resumed) | cancelled            (gates)
 *
 * and the run state is a fold over the run's events: `applyRunEvent` is the only transition
 * function, `deriveRunState(plan, events)` rebuilds the state from an event log, and `nextActions`
 * says what the executor should do next. Nothing here does I/O or reads a clock, so the executor,
 * resumption and (later) a finalize step over several event logs all share one set of rules.
 *
 * The state is mutated in place for speed (10,000-stage plans fold in linear time); callers that
 * need a snapshot copy it with `cloneRunState`.
 */
import type { RunEvent, RunStatus, SkipReason } from '../model/events.ts';
import type { Plan, PlannedStage } from '../planner/plan.ts';

/** `waiting`: a gate whose condition was not met; not terminal: the run parks, and `run.resumed` makes it ready again. */
export type StagePhase = 'pending' | 'ready' | 'running' | 'up_for_retry' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'reused' | 'waiting';

const TERMINAL: ReadonlySet<StagePhase> = new Set(['succeeded', 'failed', 'skipped', 'cancelled', 'reused']);
/** Phases whose output downstream stages may read. */
const SATISFIED: ReadonlySet<StagePhase> = new Set(['succeeded', 'reused']);

export function isTerminal(phase: StagePhase): boolean {
  return TERMINAL.has(phase);
}

export interface StageState {
  phase: StagePhase;
  /** The attempt in flight or last made; 0 before the first. */
  attempt: number;
  rows?: number;
  table?: string;
  outputs?: Record<string, unknown>;
  /** For `reused`: the run the output came from. */
  fromRunId?: string;
}

/** What must happen to a pending stage because of an upstream outcome. */
export interface Doom {
  stage: string;
  kind: 'skip' | 'cancel';
  reason: SkipReason;
  detail: string;
}

export interface RunState {
  readonly plan: Plan;
  readonly stages: Map<string, StageState>;
  /** Needs not yet satisfied, per stage. */
  readonly unmet: Map<string, number>;
  /** Stages whose needs are all satisfied and that have not started, in plan order. */
  readonly ready: PlannedStage[];
  /** Pending stages an upstream outcome has decided, not yet reported. */
  readonly doomed: Doom[];
  finished?: Exclude<RunStatus, 'running'>;
}

/** An event that the state machine does not allow from the stage's phase: a bug, never user error. */
export class InvalidTransitionError extends Error {
  constructor(stage: string, from: StagePhase, event: string) {
    super(`stage '${stage}' cannot go from ${from} on ${event}`);
    this.name = 'InvalidTransitionError';
  }
}

export interface InitialStateOptions {
  /** Stages whose output is restored from an earlier run instead of running them. */
  reused?: ReadonlyMap<string, { fromRunId: string; rows?: number; table?: string; outputs?: Record<string, unknown> }>;
}

/** All stages pending, those without needs ready. Reused stages are `pending` until their `stage.reused` event. */
export function initialRunState(plan: Plan): RunState {
  const state: RunState = { plan, stages: new Map(), unmet: new Map(), ready: [], doomed: [] };
  for (const stage of plan.stages) {
    state.stages.set(stage.name, { phase: 'pending', attempt: 0 });
    state.unmet.set(stage.name, stage.needs.length);
    if (stage.needs.length === 0) markReady(state, stage);
  }
  return state;
}

const dependentsCache = new WeakMap<Plan, Map<string, PlannedStage[]>>();

/** Stages that need `name`, computed once per plan. */
export function dependentsOf(plan: Plan, name: string): readonly PlannedStage[] {
  let map = dependentsCache.get(plan);
  if (!map) {
    map = new Map();
    for (const stage of plan.stages) {
      for (const need of stage.needs) {
        const list = map.get(need) ?? [];
        list.push(stage);
        map.set(need, list);
      }
    }
    dependentsCache.set(plan, map);
  }
  return map.get(name) ?? [];
}

const stageIndexCache = new WeakMap<Plan, Map<string, PlannedStage>>();

function plannedStage(plan: Plan, name: string): PlannedStage {
  let map = stageIndexCache.get(plan);
  if (!map) {
    map = new Map(plan.stages.map((s) => [s.name, s]));
    stageIndexCache.set(plan, map);
  }
  const stage = map.get(name);
  if (!stage) throw new Error(`event for stage '${name}', which is not in the plan of '${plan.pipeline}'`);
  return stage;
}

function markReady(state: RunState, stage: PlannedStage): void {
  state.stages.get(stage.name)!.phase = 'ready';
  let i = state.ready.length;
  while (i > 0 && state.ready[i - 1].order > stage.order) i--;
  state.ready.splice(i, 0, stage);
}

function leaveReady(state: RunState, name: string): void {
  const i = state.ready.findIndex((s) => s.name === name);
  if (i >= 0) state.ready.splice(i, 1);
}

function expect(stage: string, current: StageState, allowed: readonly StagePhase[], event: string): void {
  if (!allowed.includes(current.phase)) throw new InvalidTransitionError(stage, current.phase, event);
}

/** Downstream of a satisfied stage: one fewer unmet need; ready when none is left. */
function release(state: RunState, name: string): void {
  for (const dependent of dependentsOf(state.plan, name)) {
    const left = state.unmet.get(dependent.name)! - 1;
    state.unmet.set(dependent.name, left);
    if (left === 0 && state.stages.get(dependent.name)!.phase === 'pending') markReady(state, dependent);
  }
}

/** Downstream of a stage that will not produce output: decided now, reported by the executor. */
function doom(state: RunState, name: string, kind: Doom['kind'], reason: SkipReason, detail: string): void {
  for (const dependent of dependentsOf(state.plan, name)) {
    const phase = state.stages.get(dependent.name)!.phase;
    if ((phase === 'pending' || phase === 'ready') && !state.doomed.some((d) => d.stage === dependent.name)) {
      // An unselected stage stays `not_selected` whatever happened above it; a selected stage below an
      // unselected one that was not restored cannot run: upstream skipped.
      const why = !dependent.selected && kind === 'skip' ? 'not_selected' : reason === 'not_selected' ? 'upstream_skipped' : reason;
      state.doomed.push({ stage: dependent.name, kind, reason: why, detail });
    }
  }
}

/** Applies one event to the state (in place) and returns it. Throws InvalidTransitionError on an impossible event. */
export function applyRunEvent(state: RunState, event: RunEvent): RunState {
  if (event.type === 'run.finished') {
    state.finished = event.status;
    return state;
  }
  // Gates ↓ a parked run is over for this process; a resumed one evaluates its waiting gates again.
  if (event.type === 'run.parked') {
    state.finished = 'waiting';
    return state;
  }
  if (event.type === 'run.resumed') {
    state.finished = undefined;
    for (const stage of state.plan.stages) if (state.stages.get(stage.name)!.phase === 'waiting') markReady(state, stage);
    return state;
  }
  if (!('stage' in event) || event.type === 'stage.log' || event.type === 'ratelimit.waited' || event.type === 'stage.dead_letters') return state;
  // Events about a stage that do not move it (sla branch): SLA breaches and notifications.
  if (event.type === 'sla.breached' || event.type === 'notify.sent' || event.type === 'notify.failed' || event.type === 'notify.skipped') return state;
  const name = event.stage;
  plannedStage(state.plan, name);
  const current = state.stages.get(name)!;
  const wasWaiting = current.phase === 'pending' || current.phase === 'ready';
  switch (event.type) {
    case 'stage.started':
      expect(name, current, ['ready', 'up_for_retry', 'running'], event.type);
      leaveReady(state, name);
      Object.assign(current, { phase: 'running', attempt: event.attempt });
      break;
    case 'stage.retrying':
      expect(name, current, ['running', 'up_for_retry'], event.type);
      Object.assign(current, { phase: 'up_for_retry', attempt: event.attempt + 1 });
      break;
    case 'stage.succeeded':
      expect(name, current, ['running', 'up_for_retry'], event.type);
      Object.assign(current, { phase: 'succeeded', attempt: event.attempt, rows: event.rows, table: event.table, outputs: event.outputs });
      release(state, name);
      break;
    case 'stage.reused':
      expect(name, current, ['pending', 'ready'], event.type);
      leaveReady(state, name);
      Object.assign(current, { phase: 'reused', rows: event.rows, table: event.table, outputs: event.outputs, fromRunId: event.fromRunId });
      release(state, name);
      break;
    case 'stage.failed':
      expect(name, current, ['running', 'up_for_retry'], event.type);
      Object.assign(current, { phase: 'failed', attempt: event.attempt });
      doom(state, name, 'skip', 'upstream_failed', `'${name}' failed`);
      break;
    case 'stage.skipped': {
      expect(name, current, ['pending', 'ready'], event.type);
      leaveReady(state, name);
      current.phase = 'skipped';
      // A stage skipped by its own condition skips its dependents, like GitHub Actions jobs; one left
      // out by the selection (`not_selected`) says nothing about stages that need it.
      if (event.reason === 'upstream_failed') doom(state, name, 'skip', 'upstream_failed', event.detail ?? `'${name}' failed`);
      else if (event.reason === 'not_selected') doom(state, name, 'skip', 'not_selected', `'${name}' is not selected`);
      else doom(state, name, 'skip', 'upstream_skipped', `'${name}' was skipped`);
      break;
    }
    case 'stage.waiting':
      expect(name, current, ['running', 'up_for_retry'], event.type);
      Object.assign(current, { phase: 'waiting', attempt: event.attempt });
      break;
    case 'stage.cancelled':
      expect(name, current, ['pending', 'ready', 'running', 'up_for_retry', 'waiting'], event.type);
      if (wasWaiting) leaveReady(state, name);
      Object.assign(current, { phase: 'cancelled', attempt: event.attempt ?? current.attempt });
      doom(state, name, 'cancel', 'cancelled', event.detail);
      break;
    default:
      return state;
  }
  if (isTerminal(current.phase) && wasWaiting) {
    const i = state.doomed.findIndex((d) => d.stage === name);
    if (i >= 0) state.doomed.splice(i, 1);
  }
  return state;
}

/** Rebuilds a run's state from its event log (e.g. `events.jsonl` of a run that was interrupted). */
export function deriveRunState(plan: Plan, events: Iterable<RunEvent>): RunState {
  const state = initialRunState(plan);
  for (const event of events) applyRunEvent(state, event);
  return state;
}

/** Stages of a derived state whose output an interrupted run's successor can reuse. */
export function succeededStages(state: RunState): Map<string, StageState> {
  return new Map([...state.stages].filter(([, s]) => SATISFIED.has(s.phase)));
}

export type Action =
  | { type: 'start'; stage: PlannedStage }
  | { type: 'skip'; stage: PlannedStage; reason: SkipReason; detail?: string }
  | { type: 'cancel'; stage: PlannedStage; detail: string };

export interface DecideOptions {
  /** How many more stages may start now (concurrency minus those running). */
  capacity: number;
  /** Set once the run is stopping: nothing new starts, waiting stages are cancelled with this detail. */
  stopping?: string;
}

/**
 * What to do next, in order: report stages an upstream outcome decided, then (unless the run is
 * stopping) start ready stages in plan order up to the capacity; a stopping run cancels them.
 * Unselected stages (`--only`/`--from`) are skipped as `not_selected` when they become ready.
 */
export function nextActions(state: RunState, options: DecideOptions): Action[] {
  const actions: Action[] = [];
  for (const d of state.doomed) {
    const stage = plannedStage(state.plan, d.stage);
    actions.push(d.kind === 'cancel' || options.stopping ? { type: 'cancel', stage, detail: options.stopping ?? d.detail } : { type: 'skip', stage, reason: d.reason, detail: d.detail });
  }
  let capacity = options.capacity;
  for (const stage of state.ready) {
    if (state.doomed.some((d) => d.stage === stage.name)) continue;
    if (options.stopping) actions.push({ type: 'cancel', stage, detail: options.stopping });
    else if (!stage.selected) actions.push({ type: 'skip', stage, reason: 'not_selected' });
    else if (capacity > 0) {
      actions.push({ type: 'start', stage });
      capacity--;
    }
  }
  return actions;
}

/** Gates whose condition was not met: the run parks when nothing else can run. */
export function waitingStages(state: RunState): PlannedStage[] {
  return state.plan.stages.filter((s) => state.stages.get(s.name)!.phase === 'waiting');
}

/** Stages neither finished nor running: what a stopped run reports as cancelled at the end. */
export function unfinishedStages(state: RunState): PlannedStage[] {
  return state.plan.stages.filter((s) => {
    const phase = state.stages.get(s.name)!.phase;
    return phase === 'pending' || phase === 'ready';
  });
}

export function isRunComplete(state: RunState): boolean {
  for (const stage of state.stages.values()) if (!isTerminal(stage.phase)) return false;
  return true;
}
