/**
 * What a notification says, as data, built from a finished run's record: every channel renders the
 * same facts (status, pipeline, interval, duration, the failed stage with its error and the fix, a
 * link to the run on GitHub, the report when a `report` stage wrote one). Pure.
 */
import type { ErrorRecord } from '../model/errors.ts';
import type { Interval } from '../model/events.ts';
import { formatDuration } from '../model/duration.ts';
import type { RunRecord, SlaBreachRecord } from '../ledger/run-record.ts';

export type NotificationEvent = 'failure' | 'success' | 'recovery' | 'check_warning' | 'dead_letters' | 'sla_breach' | 'test';

export interface ReportAttachment {
  /** File name as the recipient sees it. */
  filename: string;
  content: string;
  contentType: string;
}

export interface NotificationReport {
  title: string;
  /** Self-contained HTML of the report (inline CSS and SVG), redacted. */
  html?: string;
  markdown?: string;
  attachments: ReportAttachment[];
}

export interface FailedStage {
  name: string;
  error: ErrorRecord;
  /** What to do next, in one sentence. */
  fix: string;
}

export interface NotificationMessage {
  event: NotificationEvent;
  pipeline: string;
  runId: string;
  status: string;
  interval: Interval;
  durationMs?: number;
  /** One line: what happened. */
  headline: string;
  /** Extra facts, one per line: warned checks, dead letters. */
  details: string[];
  failedStage?: FailedStage;
  /** The run's page on GitHub Actions, when it ran there. */
  runUrl?: string;
  report?: NotificationReport;
  // sla branch ↓
  /** The stage the message is about (a stage notify rule, a stage's SLA); absent for the whole run. */
  stage?: string;
  /** The SLA breach an `sla_breach` message is about, with what to do. */
  sla?: SlaBreachFacts;
}

/** An SLA breach as a message states it (sla branch). */
export interface SlaBreachFacts {
  scope: SlaBreachRecord['scope'];
  stage?: string;
  slaMs: number;
  elapsedMs: number;
  /** How far past the SLA it was when detected. */
  overMs: number;
  /** What to do next, in one sentence. */
  fix: string;
}

/** What a message is about besides the run (sla branch): one stage, or one SLA breach. */
export interface MessageFocus {
  stage?: string;
  breach?: SlaBreachRecord;
}

const HEADLINES: Record<NotificationEvent, (pipeline: string) => string> = {
  failure: (p) => `Pipeline ${p} failed`,
  success: (p) => `Pipeline ${p} succeeded`,
  recovery: (p) => `Pipeline ${p} recovered: it succeeded after failing`,
  check_warning: (p) => `Pipeline ${p}: data-quality checks warned`,
  dead_letters: (p) => `Pipeline ${p}: records were set aside as dead letters`,
  sla_breach: (p) => `Pipeline ${p} missed its SLA`,
  test: (p) => `Test notification from weir (${p})`,
};

/** Headlines of a message about one stage (sla branch). */
const STAGE_HEADLINES: Partial<Record<NotificationEvent, (pipeline: string, stage: string) => string>> = {
  failure: (p, s) => `Stage ${s} of pipeline ${p} failed`,
  success: (p, s) => `Stage ${s} of pipeline ${p} succeeded`,
  check_warning: (p, s) => `Stage ${s} of pipeline ${p}: data-quality checks warned`,
  dead_letters: (p, s) => `Stage ${s} of pipeline ${p}: records were set aside as dead letters`,
};

/**
 * The message for `event` of a run (finished, or still going for `sla_breach`). `runUrl` and
 * `report` come from the caller (env, files); `focus` narrows it to one stage or one SLA breach.
 */
export function buildMessage(record: RunRecord, event: NotificationEvent, extra: { runUrl?: string; report?: NotificationReport } & MessageFocus = {}): NotificationMessage {
  const { stage, breach, ...rest } = extra;
  if (event === 'sla_breach' && breach) return slaBreachMessage(record, breach, rest);
  const focused = stage === undefined ? undefined : record.stages[stage];
  return {
    event,
    pipeline: record.pipeline,
    runId: record.runId,
    status: focused ? focused.status : record.status,
    interval: record.interval,
    durationMs: focused ? focused.durationMs : record.durationMs,
    headline: stage !== undefined && STAGE_HEADLINES[event] ? STAGE_HEADLINES[event]!(record.pipeline, stage) : HEADLINES[event](record.pipeline),
    details: detailsOf(record, stage),
    failedStage: failedStageOf(record, stage),
    ...(stage === undefined ? {} : { stage }),
    ...rest,
  };
}

// sla branch ↓
/** An `sla_breach` message: which SLA, by how much, and what to do; sent while the run may still be going. */
function slaBreachMessage(record: RunRecord, breach: SlaBreachRecord, extra: { runUrl?: string; report?: NotificationReport }): NotificationMessage {
  const overMs = Math.max(0, breach.elapsedMs - breach.slaMs);
  const sla = formatDuration(breach.slaMs);
  const over = formatDuration(overMs);
  const where = breach.scope === 'stage' ? `stage ${breach.stage}` : 'the run';
  const headline =
    breach.scope === 'start'
      ? `Pipeline ${record.pipeline} missed its SLA: the run started ${formatDuration(breach.elapsedMs)} after its scheduled tick (SLA ${sla})`
      : breach.scope === 'stage'
        ? `Pipeline ${record.pipeline} missed its SLA: stage ${breach.stage} ran ${formatDuration(breach.elapsedMs)} (SLA ${sla})`
        : `Pipeline ${record.pipeline} missed its SLA: the run took ${formatDuration(breach.elapsedMs)} (SLA ${sla})`;
  const fix = slaFix(record, breach);
  const details = [`SLA: ${where} ${breach.scope === 'start' ? 'was due to finish' : 'was expected to take at most'} ${sla}${breach.scope === 'start' ? ' after its tick' : ''}; ${over} over when detected at ${breach.at}`, `What to do: ${fix}`];
  return {
    event: 'sla_breach',
    pipeline: record.pipeline,
    runId: record.runId,
    status: record.status,
    interval: record.interval,
    durationMs: record.durationMs,
    headline,
    details,
    ...(breach.stage === undefined ? {} : { stage: breach.stage }),
    sla: { scope: breach.scope, ...(breach.stage === undefined ? {} : { stage: breach.stage }), slaMs: breach.slaMs, elapsedMs: breach.elapsedMs, overMs, fix },
    ...extra,
  };
}

function slaFix(record: RunRecord, breach: SlaBreachRecord): string {
  const inspect = `'weir history ${record.runId}' shows its stages and logs`;
  switch (breach.scope) {
    case 'start':
      return `the scheduled trigger came late or was missed (GitHub delays or drops cron events, and disables schedules after 60 idle days): check the workflow's runs on GitHub and 'weir status ${record.pipeline}'; this run is catching up now`;
    case 'stage':
      return `stage ${breach.stage} is slower than expected: ${inspect}; if it is waiting on a slow source, check that source; if it now takes longer for good, raise its sla in the pipeline file`;
    case 'run': {
      const running = Object.entries(record.stages).filter(([, stage]) => stage.status === 'running').map(([name]) => name);
      const now = running.length ? ` (running now: ${running.join(', ')})` : '';
      return `the run is slower than expected${now}: ${inspect}; if it now takes longer for good, raise sla in the pipeline file`;
    }
  }
}

function detailsOf(record: RunRecord, only?: string): string[] {
  const lines: string[] = [];
  for (const [name, stage] of Object.entries(record.stages)) {
    if (only !== undefined && name !== only) continue;
    for (const check of stage.checks ?? []) {
      if (!check.passed) lines.push(`stage ${name}: check ${check.name} ${check.severity === 'warn' ? 'warned' : 'failed'}: ${check.message}`);
    }
    if (stage.deadLetters && stage.deadLetters.count > 0) {
      lines.push(`stage ${name}: ${stage.deadLetters.count} of ${stage.deadLetters.total} records set aside as dead letters${stage.deadLetters.file ? ` (${stage.deadLetters.file})` : ''}`);
    }
  }
  return lines;
}

function failedStageOf(record: RunRecord, only?: string): FailedStage | undefined {
  const failed = Object.entries(record.stages).find(([name, stage]) => stage.status === 'failed' && (only === undefined || name === only));
  if (only !== undefined) return failed ? { name: failed[0], error: failed[1].error ?? record.error!, fix: fixFor(failed[0], failed[1].error, record) } : undefined;
  if (failed) return { name: failed[0], error: failed[1].error ?? record.error!, fix: fixFor(failed[0], failed[1].error, record) };
  if (record.status !== 'succeeded' && record.error) return { name: record.error.stage ?? '(run)', error: record.error, fix: fixFor(record.error.stage, record.error, record) };
  return undefined;
}

/** The next step for the person reading: inspect the run, fix, resume what failed. */
function fixFor(stage: string | undefined, error: ErrorRecord | undefined, record: RunRecord): string {
  const inspect = `see 'weir history ${record.runId}'`;
  const resume = `then 'weir run ${record.pipeline} --resume ${record.runId}' re-runs only what did not succeed`;
  switch (error?.code) {
    case 'config_error':
      return `fix the pipeline or weir.yml as the message says ('weir validate' checks it), ${resume}`;
    case 'check_failed':
      return `look at the rows the check names in stage ${stage}'s input (${inspect}), fix the data or the check, ${resume}`;
    case 'stage_timeout':
    case 'run_timeout':
      return `the time limit was reached: raise timeout or make stage ${stage ?? ''} faster, ${resume}`;
    case 'circuit_open':
      return `the service kept failing and the circuit opened: wait until it is back, ${resume}`;
    default:
      return `${inspect} for the attempts and logs, fix the cause, ${resume}`;
  }
}

/** The run's page on GitHub, from the Actions environment variables; undefined outside Actions. */
export function runUrlFromEnv(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: runId } = env;
  return server && repository && runId ? `${server}/${repository}/actions/runs/${runId}` : undefined;
}

/** The message as plain text: the email's text part and the webhook's summary. */
export function messageText(message: NotificationMessage): string {
  const lines = [message.headline, '', `pipeline: ${message.pipeline}`, `run: ${message.runId} (${message.status})`, `interval: ${message.interval.start} → ${message.interval.end}`];
  if (message.durationMs !== undefined) lines.push(`duration: ${formatSeconds(message.durationMs)}`);
  if (message.failedStage) lines.push('', `failed stage: ${message.failedStage.name}`, `error: ${message.failedStage.error.message}`, `fix: ${message.failedStage.fix}`);
  if (message.details.length > 0) lines.push('', ...message.details);
  if (message.runUrl) lines.push('', `run on GitHub: ${message.runUrl}`);
  return `${lines.join('\n')}\n`;
}

export function formatSeconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
}
