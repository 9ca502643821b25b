/**
 * Which notifications a run sends, as data (pure): the pipeline's rules for the run's events, each
 * stage's rules for that stage's events, and SLA breaches. One message per run, event, channel and
 * stage: however many rules name it, and never again once the record shows it.
 *
 * A stage rule adds a message about its stage, unless the pipeline's own message for that event
 * goes to the same channel in this run (it covers the whole run and names the stage). An SLA
 * breach of a stage is one message per channel whether the pipeline's `sla_breach` rule, the
 * stage's, or both name the channel.
 */
import type { NotifyRule, PipelineSpec, StageNotifyRule } from '../model/pipeline.ts';
import type { RunRecord, SlaBreachRecord } from '../ledger/run-record.ts';
import type { NotificationEvent } from '../notify/message.ts';

export interface PlannedNotification {
  event: NotificationEvent;
  channel: string;
  /** Set for a message about one stage. */
  stage?: string;
  /** Set for `sla_breach`: the breach the message is about. */
  breach?: SlaBreachRecord;
}

type AnyRule = NotifyRule | StageNotifyRule;

export function notifyRules(spec: PipelineSpec): NotifyRule[] {
  return spec.notify === undefined ? [] : Array.isArray(spec.notify) ? spec.notify : [spec.notify];
}

export function stageNotifyRules(spec: PipelineSpec, stage: string): StageNotifyRule[] {
  const notify = spec.stages[stage]?.notify;
  return notify === undefined ? [] : Array.isArray(notify) ? notify : [notify];
}

/** Whether the pipeline or any stage has notify rules. */
export function hasNotifyRules(spec: PipelineSpec): boolean {
  return notifyRules(spec).length > 0 || Object.keys(spec.stages).some((stage) => stageNotifyRules(spec, stage).length > 0);
}

/** Events of a finished run, from its record and the run before it. */
export function decideEvents(record: RunRecord, previous: RunRecord | undefined): NotificationEvent[] {
  const events: NotificationEvent[] = [];
  if (record.status === 'failed' || record.status === 'abandoned') events.push('failure');
  if (record.status === 'succeeded') {
    events.push('success');
    if (previous && (previous.status === 'failed' || previous.status === 'abandoned')) events.push('recovery');
  }
  const stages = Object.values(record.stages);
  if (stages.some((stage) => stage.checks?.some((check) => check.severity === 'warn' && !check.passed))) events.push('check_warning');
  if (stages.some((stage) => (stage.deadLetters?.count ?? 0) > 0)) events.push('dead_letters');
  return events;
}

/** Events about one stage of a finished run (its SLA breach is sent as it happens, see planBreach). */
export function decideStageEvents(record: RunRecord, name: string): NotificationEvent[] {
  const stage = record.stages[name];
  if (!stage) return [];
  const events: NotificationEvent[] = [];
  if (stage.status === 'failed') events.push('failure');
  if (stage.status === 'succeeded') events.push('success');
  if (stage.checks?.some((check) => check.severity === 'warn' && !check.passed)) events.push('check_warning');
  if ((stage.deadLetters?.count ?? 0) > 0) events.push('dead_letters');
  return events;
}

const keyOf = (event: string, channel: string, stage?: string) => `${event}\u0000${channel}\u0000${stage ?? ''}`;

/** Keys of the notifications the record shows with `status` (any status when undefined). */
function recorded(record: RunRecord, status?: 'sent'): Set<string> {
  return new Set((record.notifications ?? []).filter((n) => status === undefined || n.status === status).map((n) => keyOf(n.event, n.channel, n.stage)));
}

/** Each (event, channel) the run-level rules ask for, once, leaving out those the record already shows sent. */
export function plannedNotifications(rules: readonly NotifyRule[], events: readonly NotificationEvent[], record: RunRecord): { event: NotificationEvent; channel: string }[] {
  const sent = recorded(record, 'sent');
  const planned = new Map<string, { event: NotificationEvent; channel: string }>();
  for (const [event, channel] of pairs(rules, events)) {
    const key = keyOf(event, channel);
    if (!sent.has(key) && !planned.has(key)) planned.set(key, { event, channel });
  }
  return [...planned.values()];
}

/** (event, channel) for every event a rule names, in rule order. */
function pairs(rules: readonly AnyRule[], events: readonly NotificationEvent[]): [NotificationEvent, string][] {
  const out: [NotificationEvent, string][] = [];
  for (const rule of rules) {
    for (const event of events) {
      if (!(rule.on as readonly string[]).includes(event)) continue;
      for (const channel of rule.to) out.push([event, channel]);
    }
  }
  return out;
}

/**
 * After the run: the pipeline's run-level messages, then each stage's messages the pipeline's do
 * not cover, then the messages of SLA breaches that were not attempted during the run.
 */
export function planAfterRun(spec: PipelineSpec, record: RunRecord, previous: RunRecord | undefined): PlannedNotification[] {
  const rules = notifyRules(spec);
  const runEvents = decideEvents(record, previous);
  const planned: PlannedNotification[] = plannedNotifications(rules, runEvents, record);
  const covered = new Set(pairs(rules, runEvents).map(([event, channel]) => keyOf(event, channel)));
  const sent = recorded(record, 'sent');
  const seen = new Set<string>();
  for (const stage of Object.keys(spec.stages)) {
    for (const [event, channel] of pairs(stageNotifyRules(spec, stage), decideStageEvents(record, stage))) {
      const key = keyOf(event, channel, stage);
      if (covered.has(keyOf(event, channel)) || sent.has(key) || seen.has(key)) continue;
      seen.add(key);
      planned.push({ event, channel, stage });
    }
  }
  for (const breach of record.slaBreaches ?? []) planned.push(...planBreach(spec, record, breach));
  return planned;
}

/**
 * The messages of one SLA breach: to the channels of the pipeline's `sla_breach` rules and, for a
 * stage's breach, of that stage's; one per channel, none the record shows attempted (sent or not:
 * a failed send was already retried under its channel's policy).
 */
export function planBreach(spec: PipelineSpec, record: RunRecord, breach: SlaBreachRecord): PlannedNotification[] {
  const rules: AnyRule[] = [...notifyRules(spec), ...(breach.stage === undefined ? [] : stageNotifyRules(spec, breach.stage))];
  const attempted = recorded(record);
  const planned = new Map<string, PlannedNotification>();
  for (const [, channel] of pairs(rules, ['sla_breach'])) {
    const key = keyOf('sla_breach', channel, breach.stage);
    if (attempted.has(key) || planned.has(key)) continue;
    planned.set(key, { event: 'sla_breach', channel, ...(breach.stage === undefined ? {} : { stage: breach.stage }), breach });
  }
  return [...planned.values()];
}

/** The dedup key of a planned notification (event, channel, stage). */
export function notificationKey(planned: Pick<PlannedNotification, 'event' | 'channel' | 'stage'>): string {
  return keyOf(planned.event, planned.channel, planned.stage);
}
