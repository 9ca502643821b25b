/**
 * The `notify` use case: after a run has finished, sends what its events ask for (notify-plan.ts
 * decides: the pipeline's rules, each stage's rules, SLA breaches not sent yet), each once, and
 * reports each outcome as an event (`notify.sent`, `notify.failed`, `notify.skipped`) that the
 * caller folds into the run record before it is written. `slaBreachNotifier` sends an SLA breach
 * while the run still goes (sla branch), through the same path.
 *
 * Events: failure, success, recovery (the first success after a run that failed, from the ledger),
 * check_warning (a `warn` check did not pass), dead_letters, sla_breach. Each send is retried under
 * the channel's policy; a send that still fails is recorded and never changes the run's status.
 * Everything sent passes the run's redactor extended with the channels' own secrets.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { toErrorRecord, WeirError } from '../model/errors.ts';
import type { RunEvent, RunEventListener } from '../model/events.ts';
import type { PipelineSpec } from '../model/pipeline.ts';
import { collectSecrets, createRedactor, redactValue, type Redactor } from '../model/redact.ts';
import type { LedgerStore } from '../ledger/ledger-store.ts';
import { applyEvent, type RunRecord } from '../ledger/run-record.ts';
import type { ChannelConfigs } from '../notify/channel-config.ts';
import { createSender, type SenderResult } from '../notify/create-sender.ts';
import { buildMessage, runUrlFromEnv, type NotificationReport } from '../notify/message.ts';
import { EMPTY_POLICY_CONFIG, resolvePolicy, type PolicyConfig } from '../policies/policy.ts';
import { sendUnderPolicy } from '../notify/send-under-policy.ts';
import type { ReportOutputs } from '../stages/report.ts';
import type { Clock, RunDeps, RunWorkspace } from './run-deps.ts';
import { hasNotifyRules, notificationKey, planAfterRun, planBreach, type PlannedNotification } from './notify-plan.ts';
import type { SlaBreachHandler } from './sla-watch.ts';

/** A notification that could not be delivered after its retries. */
export class NotificationFailedError extends WeirError {}

export interface NotifyRunRequest {
  record: RunRecord;
  spec: PipelineSpec;
  channels: ChannelConfigs;
  policies?: PolicyConfig;
  signal?: AbortSignal;
}

export interface NotifyDeps {
  ledger: Pick<LedgerStore, 'listRuns'>;
  clock: Clock;
  env: Readonly<Record<string, string | undefined>>;
  /** Text of a file the run wrote, by its path relative to the project root (report files). */
  readProjectFile(path: string): Promise<string>;
  /** Test seam: builds a channel's sender. Default: createSender. */
  createSender?: typeof createSender;
}

/** What sending needs: report files are read only after the run (`readProjectFile`). */
type SendDeps = Pick<NotifyDeps, 'clock' | 'env' | 'createSender'> & Partial<Pick<NotifyDeps, 'readProjectFile'>>;

// Planning moved to notify-plan.ts (sla branch: stage rules, SLA breaches); re-exported for callers.
export { decideEvents, notifyRules, plannedNotifications } from './notify-plan.ts';

export async function notifyRun(request: NotifyRunRequest, deps: NotifyDeps, emit: (event: RunEvent) => void): Promise<void> {
  const { record, spec } = request;
  if (!hasNotifyRules(spec)) return;
  const previous = await previousFinishedRun(record, deps);
  await sendNotifications(planAfterRun(spec, record, previous), request, deps, emit);
}

/**
 * Sends each planned notification once under its channel's policy and emits its outcome. Every
 * message passes the run's redactor extended with the channels' own secrets.
 */
async function sendNotifications(planned: readonly PlannedNotification[], request: NotifyRunRequest, deps: SendDeps, emit: (event: RunEvent) => void): Promise<void> {
  if (planned.length === 0) return;
  const { record, spec } = request;
  const policies = request.policies ?? EMPTY_POLICY_CONFIG;
  const senders = new Map<string, SenderResult>();
  for (const { channel } of planned) {
    const config = request.channels[channel];
    if (!senders.has(channel)) senders.set(channel, config ? (deps.createSender ?? createSender)(channel, config, { env: deps.env, now: deps.clock.now, timeoutMs: resolvePolicy(config.policy, policies).timeoutMs }) : { ok: false, reason: `channel '${channel}' is not defined in weir.yml channels:` });
  }
  const channelSecrets = [...senders.values()].flatMap((s) => (s.ok ? s.secrets : []));
  const redact = createRedactor([...collectSecrets({ spec, env: deps.env, params: record.params }), ...channelSecrets]);
  // A breach is sent while the run goes: its report, if any, is not written yet.
  const report = deps.readProjectFile && planned.some((p) => p.event !== 'sla_breach') ? await loadReport(record, deps.readProjectFile, redact) : undefined;
  const at = () => new Date(deps.clock.now()).toISOString();
  const signal = request.signal ?? new AbortController().signal;
  for (const { event, channel, stage, breach } of planned) {
    const built = senders.get(channel)!;
    const base = { runId: record.runId, channel, event, ...(stage === undefined ? {} : { stage }) };
    if (!built.ok) {
      emit({ ...base, type: 'notify.skipped', at: at(), reason: built.reason });
      continue;
    }
    const message = redactValue(buildMessage(record, event, { runUrl: runUrlFromEnv(deps.env), ...(event === 'sla_breach' ? {} : { report }), stage, breach }), redact);
    const policy = resolvePolicy(request.channels[channel]!.policy, policies);
    const outcome = await sendUnderPolicy(built.sender, message, policy, { sleep: deps.clock.sleep, random: deps.clock.random, signal });
    if (outcome.ok) {
      emit({ ...base, type: 'notify.sent', at: at(), attempts: outcome.attempts });
      continue;
    }
    const { attempts, error } = outcome;
    const about = stage === undefined ? event : `${event} (stage ${stage})`;
    const failed = new NotificationFailedError(`${about} notification to channel '${channel}' (${built.sender.type}) failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${(error as Error)?.message ?? String(error)}; check the channel's settings with 'weir notify test ${channel}'`, { cause: error });
    emit({ ...base, type: 'notify.failed', at: at(), attempts, error: redactValue(toErrorRecord(failed), redact) });
  }
}

/** What the SLA breach notifier needs besides the run (sla branch): the pipeline and weir.yml's channels. */
export interface BreachNotifierContext {
  spec: PipelineSpec;
  channels: ChannelConfigs;
  policies?: PolicyConfig;
  signal?: AbortSignal;
  warn(message: string): void;
}

/**
 * Sends an SLA breach's notifications the moment it happens, while the run goes (sla branch): its
 * outcome events join the run's through the run's emit. Failures are recorded, never thrown.
 */
export function slaBreachNotifier(context: BreachNotifierContext, deps: SendDeps): SlaBreachHandler {
  const claimed = new Set<string>();
  return async (breach, run) => {
    const planned = planBreach(context.spec, run.record, breach).filter((p) => !claimed.has(notificationKey(p)));
    for (const p of planned) claimed.add(notificationKey(p));
    try {
      await sendNotifications(planned, { record: run.record, spec: context.spec, channels: context.channels, policies: context.policies, signal: context.signal }, deps, run.emit);
    } catch (error) {
      context.warn(`SLA breach notifications of run ${breach.runId} stopped: ${(error as Error)?.message ?? String(error)}`);
    }
  };
}

/** The latest finished run of the pipeline before this one (for `recovery`). */
async function previousFinishedRun(record: RunRecord, deps: NotifyDeps): Promise<RunRecord | undefined> {
  const runs = await deps.ledger.listRuns({ pipeline: record.pipeline, limit: 20 });
  return runs.find((run) => run.runId !== record.runId && run.status !== 'running' && run.startedAt <= record.startedAt);
}

/** The report the run's last `report` stage wrote, read back and redacted; undefined when none. */
async function loadReport(record: RunRecord, readProjectFile: NotifyDeps['readProjectFile'], redact: Redactor): Promise<NotificationReport | undefined> {
  const written = Object.values(record.stages)
    .filter((stage) => stage.status === 'succeeded')
    .map((stage) => stage.outputs?.report as ReportOutputs | undefined)
    .filter((report): report is ReportOutputs => report !== undefined)
    .at(-1);
  if (!written) return undefined;
  const read = async (path: string | undefined) => (path === undefined ? undefined : redact(await readProjectFile(path).catch(() => '')) || undefined);
  const attachments = await Promise.all(written.csv.map(async (path) => ({ filename: path.split('/').at(-1)!, content: (await read(path)) ?? '', contentType: 'text/csv' })));
  return { title: written.title, html: await read(written.html), markdown: await read(written.markdown), attachments };
}

/** What runPipeline hands over to notify after a run: where events go and where report files are. */
export interface AfterRunContext {
  spec: PipelineSpec;
  channels: ChannelConfigs;
  policies?: PolicyConfig;
  root: string;
  workspace: Pick<RunWorkspace, 'appendEvent' | 'close'>;
  listeners: readonly RunEventListener[];
  signal?: AbortSignal;
  warn(message: string): void;
}

/**
 * Sends a finished run's notifications and folds their outcome into `record` (and its event log),
 * before the caller writes the record. Nothing here can fail the run: an unexpected error is a warning.
 */
export async function notifyAfterRun(record: RunRecord, context: AfterRunContext, deps: Pick<RunDeps, 'ledger' | 'clock' | 'env'>): Promise<void> {
  if (!hasNotifyRules(context.spec)) return;
  const emit = (event: RunEvent) => {
    applyEvent(record, event);
    context.workspace.appendEvent(event);
    for (const listener of context.listeners) {
      try {
        listener(event);
      } catch {
        // A listener that throws was already reported by the run; it must not stop notifications.
      }
    }
  };
  try {
    const readProjectFile = (path: string) => readFile(resolve(context.root, path), 'utf8');
    await notifyRun({ record, spec: context.spec, channels: context.channels, policies: context.policies, signal: context.signal }, { ...deps, readProjectFile }, emit);
  } catch (error) {
    context.warn(`notifications of run ${record.runId} stopped: ${(error as Error)?.message ?? String(error)}`);
  } finally {
    await context.workspace.close();
  }
}
