/**
 * SLA watch (sla branch): while a run goes, watches the pipeline's `sla` and each stage's `sla` on
 * the injected clock and emits `sla.breached` the moment one is passed, not only at stage
 * boundaries. Each scope (the run, or one stage) breaches at most once. A breach never changes a
 * stage's or the run's status; it is recorded (run-record.ts folds it into `slaBreaches`) and handed
 * to `onBreach`, which notifies while the run is still going.
 *
 * What each SLA measures (docs/pipeline-reference.md, "SLA"):
 * - pipeline `sla`: from the run's start to its end. For a run a schedule trigger started (it has a
 *   `tick`), from the tick instead, so the SLA covers "tick → done": a run that starts more than
 *   `sla` after its tick (a missed or very late tick caught up later) is in breach at its start,
 *   with scope `start` (and no second `run` breach: it is the same SLA).
 * - stage `sla`: from the stage's first start to its end, retries and their waits included.
 */
import { parseDuration } from '../model/duration.ts';
import type { EventOf, RunEvent } from '../model/events.ts';
import type { PipelineSpec } from '../model/pipeline.ts';
import type { RunRecord } from '../ledger/run-record.ts';
import type { Clock } from './run-deps.ts';

export type SlaBreachEvent = EventOf<'sla.breached'>;

/** Notifies a breach while the run goes: the run's record as it stands, and its emit for the outcome events. */
export type SlaBreachHandler = (breach: SlaBreachEvent, run: { record: RunRecord; emit(event: RunEvent): void }) => Promise<void>;

/** Longest single wait: Node's timers overflow past 2^31-1 ms (~24.8 days) and would fire at once. */
const MAX_WAIT_MS = 2 ** 31 - 1;

export interface SlaWatchOptions {
  runId: string;
  spec: PipelineSpec;
  /** When the run started (epoch ms). */
  startedAt: number;
  /** The nominal schedule tick of a scheduled run (ISO 8601): the pipeline `sla` is measured from it. */
  tick?: string;
  clock: Pick<Clock, 'now' | 'sleep'>;
  /** The run's emit: the breach goes through it like every other event. */
  emit(event: RunEvent): void;
  /** The run's record as it stands (a copy goes to the notifier: its message says what was true at the breach). */
  record(): RunRecord;
  onBreach?: SlaBreachHandler;
}

export interface SlaWatch {
  /**
   * Sees each event before the run applies it: a stage's first start starts its timer; a stage or
   * the run that ends past its SLA (a clock that jumped, a timer that had not fired yet) is breached
   * first, so the breach precedes the end in the record.
   */
  observe(event: RunEvent): void;
  /** Stops the timers and waits for breach notifications still being sent. */
  stop(): Promise<void>;
}

/** Where the pipeline `sla` is measured from (pure): the tick of a scheduled run, else its start. */
export function runSlaOrigin(startedAt: number, tick: string | undefined): number {
  const nominal = tick === undefined ? Number.NaN : Date.parse(tick);
  // A run for an interval whose tick is still ahead (forced early) is measured from its start.
  return Number.isFinite(nominal) ? Math.min(nominal, startedAt) : startedAt;
}

/** Starts watching; emits a `start` breach at once when a scheduled run starts past its SLA. */
export function watchSla(options: SlaWatchOptions): SlaWatch {
  const { clock, spec, runId } = options;
  const controller = new AbortController();
  const breached = new Set<string>();
  const running = new Map<string, number>();
  const sending = new Set<Promise<void>>();
  let ended = false;

  /** `now`: when it was detected (default the clock's now; a late start is detected at the run's start). */
  const breach = (key: string, scope: SlaBreachEvent['scope'], slaMs: number, origin: number, stage?: string, now = clock.now()) => {
    if (breached.has(key)) return;
    breached.add(key);
    const event: SlaBreachEvent = { type: 'sla.breached', runId, at: new Date(now).toISOString(), scope, ...(stage === undefined ? {} : { stage }), slaMs, elapsedMs: now - origin };
    options.emit(event);
    if (!options.onBreach) return;
    // The handler records its own outcome and never throws; a bug in it must not stop the run either.
    const sent = options.onBreach(event, { record: structuredClone(options.record()), emit: options.emit }).catch(() => undefined);
    sending.add(sent);
    void sent.finally(() => sending.delete(sent));
  };

  /** Waits until the clock is past `sla` from `origin` (in steps a timer can hold), then breaches if still open. */
  const arm = async (origin: number, slaMs: number, isOpen: () => boolean, fire: () => void) => {
    // Ending exactly at the SLA keeps it: the breach is the first millisecond past it.
    const deadline = origin + slaMs + 1;
    try {
      for (let now = clock.now(); now < deadline; ) {
        await clock.sleep(Math.min(deadline - now, MAX_WAIT_MS), controller.signal);
        const later = clock.now();
        // A clock whose time stands still while sleep returns (a test's frozen clock) cannot pass a
        // deadline: leave it to the end checks in observe() instead of spinning.
        if (later <= now) return;
        now = later;
      }
    } catch {
      return; // stopped
    }
    if (!ended && isOpen()) fire();
  };

  const runSla = spec.sla === undefined ? undefined : parseDuration(spec.sla);
  const origin = runSlaOrigin(options.startedAt, options.tick);
  if (runSla !== undefined) {
    if (options.tick !== undefined && options.startedAt - origin > runSla) breach('run', 'start', runSla, origin, undefined, options.startedAt);
    else void arm(origin, runSla, () => true, () => breach('run', 'run', runSla, origin));
  }

  const stageSla = (stage: string) => {
    const value = spec.stages[stage]?.sla;
    return value === undefined ? undefined : parseDuration(value);
  };

  return {
    observe(event) {
      if (ended) return;
      switch (event.type) {
        case 'stage.started': {
          const slaMs = stageSla(event.stage);
          if (slaMs === undefined || running.has(event.stage)) return;
          const started = clock.now();
          running.set(event.stage, started);
          void arm(started, slaMs, () => running.has(event.stage), () => breach(`stage:${event.stage}`, 'stage', slaMs, started, event.stage));
          return;
        }
        case 'stage.succeeded':
        case 'stage.failed':
        case 'stage.cancelled': {
          const started = running.get(event.stage);
          if (started === undefined) return;
          const slaMs = stageSla(event.stage)!;
          if (clock.now() - started > slaMs) breach(`stage:${event.stage}`, 'stage', slaMs, started, event.stage);
          running.delete(event.stage);
          return;
        }
        case 'run.finished':
          if (runSla !== undefined && clock.now() - origin > runSla) breach('run', 'run', runSla, origin);
          ended = true;
          return;
        default:
          return;
      }
    },
    async stop() {
      ended = true;
      controller.abort();
      await Promise.allSettled([...sending]);
    },
  };
}
