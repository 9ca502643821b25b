/**
 * What a notification says, as data, built from a finished run's record: every channel renders the
 * same facts (status, pipeline, interval, duration, the failed stage with its error and the fix, a
 * link to the run on GitHub, the report when a `report` stage wrote one). Pure.
 */
import type { ErrorRecord } from '../model/errors.ts';
import type { Interval } from '../model/events.ts';
import type { RunRecord } from '../ledger/run-record.ts';

export type NotificationEvent = 'failure' | 'success' | 'recovery' | 'check_warning' | 'dead_letters' | 'test';

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
}

const HEADLINES: Record<NotificationEvent, (pipeline: string) => string> = {
  failure: (p) => `Pipeline ${p} failed`,
  success: (p) => `Pipeline ${p} succeeded`,
  recovery: (p) => `Pipeline ${p} recovered: it succeeded after failing`,
  check_warning: (p) => `Pipeline ${p}: data-quality checks warned`,
  dead_letters: (p) => `Pipeline ${p}: records were set aside as dead letters`,
  test: (p) => `Test notification from weir (${p})`,
};

/** The message for `event` of a finished run. `runUrl` and `report` come from the caller (env, files). */
export function buildMessage(record: RunRecord, event: NotificationEvent, extra: { runUrl?: string; report?: NotificationReport } = {}): NotificationMessage {
  return {
    event,
    pipeline: record.pipeline,
    runId: record.runId,
    status: record.status,
    interval: record.interval,
    durationMs: record.durationMs,
    headline: HEADLINES[event](record.pipeline),
    details: detailsOf(record),
    failedStage: failedStageOf(record),
    ...extra,
  };
}

function detailsOf(record: RunRecord): string[] {
  const lines: string[] = [];
  for (const [name, stage] of Object.entries(record.stages)) {
    for (const check of stage.checks ?? []) {
      if (!check.passed) lines.push(`stage ${name}: check ${check.name} ${check.severity === 'warn' ? 'warned' : 'failed'}: ${check.message}`);
    }
    if (stage.deadLetters && stage.deadLetters.count > 0) {
      lines.push(`stage ${name}: ${stage.deadLetters.count} of ${stage.deadLetters.total} records set aside as dead letters${stage.deadLetters.file ? ` (${stage.deadLetters.file})` : ''}`);
    }
  }
  return lines;
}

function failedStageOf(record: RunRecord): FailedStage | undefined {
  const failed = Object.entries(record.stages).find(([, stage]) => stage.status === 'failed');
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
