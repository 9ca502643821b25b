/**
 * The run's log in Actions: one collapsible `::group::` per stage, written when the stage ends.
 * Stages run in parallel and groups cannot interleave, so each stage's lines are held until then;
 * they are kept for the job summary too. Events are redacted before they reach a listener.
 */
import type { RunEvent, RunEventListener } from '../model/events.ts';
import { formatEventLine, PLAIN } from '../report/terminal.ts';
import type { ActionsRuntime } from '../adapters/github-actions.ts';

/** Lines kept per stage for the summary; the log group has all of them. */
const SUMMARY_LOG_LINES_PER_STAGE = 200;

const STAGE_ENDS = new Set<RunEvent['type']>(['stage.succeeded', 'stage.failed', 'stage.cancelled', 'stage.skipped', 'stage.reused']);

export interface GroupedRunLog {
  listener: RunEventListener;
  /** The last log lines of each stage, for the job summary. */
  logs: Map<string, string[]>;
}

function stageOf(event: RunEvent): string | undefined {
  // sla branch: a breach and a notification print at once, not in a stage's group (which may have closed).
  if (event.type === 'sla.breached' || event.type === 'notify.sent' || event.type === 'notify.failed' || event.type === 'notify.skipped') return undefined;
  return 'stage' in event ? event.stage : undefined;
}

export function createGroupedRunLog(runtime: ActionsRuntime): GroupedRunLog {
  const pending = new Map<string, string[]>();
  const logs = new Map<string, string[]>();
  const listener: RunEventListener = (event) => {
    const stage = stageOf(event);
    if (stage === undefined) {
      const line = formatEventLine(event, PLAIN);
      if (line !== undefined) runtime.info(line.trimStart());
      return;
    }
    const lines = pending.get(stage) ?? [];
    pending.set(stage, lines);
    if (event.type === 'stage.log') {
      lines.push(event.line);
      const kept = logs.get(stage) ?? [];
      kept.push(event.line);
      if (kept.length > SUMMARY_LOG_LINES_PER_STAGE) kept.shift();
      logs.set(stage, kept);
      return;
    }
    const line = formatEventLine(event, PLAIN, true);
    if (!STAGE_ENDS.has(event.type)) {
      if (line !== undefined) lines.push(line.trimStart());
      return;
    }
    pending.delete(stage);
    runtime.group(`${stage}: ${line?.trim() ?? event.type.replace('stage.', '')}`, lines);
  };
  return { listener, logs };
}
