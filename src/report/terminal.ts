/** Pure text renderers for the terminal: event lines, tables, the plan. */
import { formatDuration } from '../model/duration.ts';
import type { RunEvent } from '../model/events.ts';
import type { RunRecord } from '../ledger/run-record.ts';
import type { Plan } from '../planner/plan.ts';
import { describeGpu } from '../model/resources.ts';

export interface Style {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
export const COLOR: Style = { green: wrap(32, 39), red: wrap(31, 39), yellow: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
export const PLAIN: Style = { green: (s) => s, red: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s };

function rowsText(rows: number | undefined): string {
  return rows === undefined ? '' : ` ${rows.toLocaleString('en-US')} row${rows === 1 ? '' : 's'}`;
}

/** One line per lifecycle event, or undefined for events the progress display does not show. */
export function formatEventLine(event: RunEvent, style: Style, verbose = false): string | undefined {
  switch (event.type) {
    case 'run.started':
      return style.bold(`▶ ${event.pipeline}`) + style.dim(` run ${event.runId} · interval ${event.interval.start} → ${event.interval.end}`);
    case 'stage.started':
      return verbose ? style.dim(`  … ${event.stage} started`) : undefined;
    case 'stage.succeeded': {
      const warned = event.checks?.filter((c) => !c.passed).length ?? 0;
      const count = event.checks?.length ?? 0;
      const checks = count ? style.dim(` · ${count} check${count === 1 ? '' : 's'}${warned ? `, ${warned} warned` : ''}`) : '';
      const retried = event.attempt > 1 ? style.yellow(` (attempt ${event.attempt})`) : '';
      return `  ${style.green('✔')} ${event.stage} ${style.dim(formatDuration(event.durationMs))}${rowsText(event.rows)}${checks}${retried}`;
    }
    case 'stage.failed':
      return `  ${style.red('✖')} ${event.stage} ${style.dim(formatDuration(event.durationMs))} ${style.red(event.error.message)}`;
    case 'stage.skipped':
      return `  ${style.yellow('○')} ${event.stage} ${style.dim(`skipped: ${event.reason.replaceAll('_', ' ')}${event.detail ? ` (${event.detail})` : ''}`)}`;
    case 'stage.retrying':
      return `  ${style.yellow('↻')} ${event.stage} attempt ${event.attempt} failed: ${event.error.message}; retrying in ${formatDuration(event.delayMs)}`;
    case 'breaker.changed':
      return `  ${style.yellow('⚡')} circuit ${event.key}: ${event.from} → ${event.to}`;
    case 'stage.dead_letters':
      return `  ${style.yellow('!')} ${event.stage}: ${event.count} of ${event.total} records set aside as dead letters`;
    case 'stage.log':
      return verbose || event.stream === 'warn' ? style.dim(`    ${event.stage} │ ${event.line}`) : undefined;
    case 'ratelimit.waited':
      return undefined;
    // Notifications (reports issue) ↓
    case 'notify.sent':
      return style.dim(`  ✉ ${notifyAbout(event)} notification sent to ${event.channel}`);
    case 'notify.failed':
      return `  ${style.yellow('✉')} ${notifyAbout(event)} notification to ${event.channel} failed after ${event.attempts} attempt${event.attempts === 1 ? '' : 's'}: ${event.error.message} ${style.dim('(the run\'s result is unchanged)')}`;
    case 'notify.skipped':
      return `  ${style.yellow('✉')} ${notifyAbout(event)} notification to ${event.channel} skipped: ${event.reason}`;
    // SLA (sla branch) ↓
    case 'sla.breached':
      return `  ${style.yellow('⏱')} SLA breached: ${slaBreachText(event)}`;
    // Gates (gates issue) ↓
    case 'stage.waiting':
      return `  ${style.yellow('⏸')} ${event.stage} waiting: ${event.detail}`;
    case 'run.parked':
      return `${style.yellow('⏸ parked')} after ${formatDuration(event.durationMs)}, waiting on ${event.waitingOn.join(', ')}: run ${event.runId} resumes at the next trigger (weir run, or the schedule) once its condition is met`;
    case 'run.resumed':
      return `${style.bold('▶')} resuming parked run ${event.runId} (${event.trigger})`;
    case 'run.finished': {
      const mark = event.status === 'succeeded' ? style.green('✔ succeeded') : event.status === 'failed' ? style.red('✖ failed') : style.yellow(`■ ${event.status}`);
      return `${mark} in ${formatDuration(event.durationMs)}${event.error ? ` ${style.red(event.error.message)}` : ''}`;
    }
  }
}

/** `failure`, or `failure (stage load)` for a message about one stage (sla branch). */
function notifyAbout(event: { event: string; stage?: string }): string {
  return event.stage === undefined ? event.event : `${event.event} (stage ${event.stage})`;
}

/** `stage load ran 12m, 2m over its SLA of 10m` (sla branch): what a breach line and a status cell say. */
export function slaBreachText(breach: { scope: string; stage?: string; slaMs: number; elapsedMs: number }): string {
  const over = `${formatDuration(Math.max(0, breach.elapsedMs - breach.slaMs))} over its SLA of ${formatDuration(breach.slaMs)}`;
  if (breach.scope === 'start') return `the run started ${formatDuration(breach.elapsedMs)} after its tick, ${over}`;
  if (breach.scope === 'stage') return `stage ${breach.stage} ran ${formatDuration(breach.elapsedMs)}, ${over}`;
  return `the run took ${formatDuration(breach.elapsedMs)}, ${over}`;
}

/** A left-aligned text table; columns sized to their widest cell. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (c ?? '').padEnd(width[i])).join('  ').trimEnd();
  return [line(header), line(width.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

export function renderPlan(plan: Plan): string {
  const lines = [`${plan.pipeline}: ${plan.stages.length} stages in ${plan.levels.length} levels (stages of a level can run in parallel)`];
  const byName = new Map(plan.stages.map((s) => [s.name, s]));
  plan.levels.forEach((names, level) => {
    lines.push(`level ${level}`);
    for (const name of names) {
      const stage = byName.get(name)!;
      const needs = stage.needs.length ? ` ← ${stage.needs.join(', ')}` : '';
      const runsOn = stage.runsOn ? ` [runs-on: ${stage.runsOn}]` : '';
      const skipped = stage.selected ? '' : ' (not selected)';
      lines.push(`  ${name} (${stage.uses})${needs}${runsOn}${skipped}`);
    }
  });
  return lines.join('\n');
}

/** The DAG as a Mermaid flowchart (renders in GitHub Markdown and job summaries). */
export function renderMermaid(plan: Plan): string {
  const id = (name: string) => `s_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const lines = ['flowchart LR'];
  for (const stage of plan.stages) {
    lines.push(`  ${id(stage.name)}["${stage.name}<br/><small>${stage.uses}</small>"]`);
    for (const need of stage.needs) lines.push(`  ${id(need)} --> ${id(stage.name)}`);
  }
  return lines.join('\n');
}

export function renderRunDetail(record: RunRecord, runAttempts?: readonly RunRecord[]): string {
  const head = [
    `run ${record.runId} · ${record.pipeline} · ${record.status}`,
    `started ${record.startedAt}${record.durationMs === undefined ? '' : ` · took ${formatDuration(record.durationMs)}`} · trigger ${record.trigger}`,
    `interval ${record.interval.start} → ${record.interval.end}`,
    `params ${JSON.stringify(record.params)}`,
  ];
  if (record.error) head.push(`error [${record.error.code}] ${record.error.message}`);
  // retry (backfill branch) ↓ a retried run lists its attempts; a retry names the run it retries.
  if (record.retryOf) head.push(`attempt ${record.attempt} of run ${record.retryOf}`);
  if (runAttempts?.length) head.push(`attempts: ${runAttempts.map((r) => `#${r.attempt ?? 1} ${r.runId} ${r.status}`).join(' · ')}`);
  const p = record.provenance;
  if (p) {
    const where = [p.commit && `commit ${p.commit.slice(0, 12)}`, p.ref, p.event && `event ${p.event}`, p.actor && `by ${p.actor}`].filter(Boolean).join(' · ');
    if (where) head.push(`from ${where}`);
    if (p.workflowRunUrl) head.push(`workflow run ${p.workflowRunUrl}${p.runAttempt && p.runAttempt > 1 ? ` (attempt ${p.runAttempt})` : ''}`);
  }
  const rows = Object.entries(record.stages).map(([name, s]) => [
    name,
    s.status,
    String(s.attempts.length),
    s.durationMs === undefined ? '' : formatDuration(s.durationMs),
    s.rows === undefined ? '' : String(s.rows),
    s.checks ? `${s.checks.filter((c) => c.passed).length}/${s.checks.length}` : '',
    s.deadLetters ? String(s.deadLetters.count) : '',
    s.error ? `[${s.error.code}] ${s.error.message}` : s.skipReason ? `skipped: ${s.skipReason}` : '',
  ]);
  const attempts = Object.entries(record.stages).flatMap(([name, s]) =>
    s.attempts.length > 1 || s.attempts.some((a) => a.error)
      ? s.attempts.map((a) => `  ${name} #${a.attempt} ${a.startedAt} ${a.error ? `✖ [${a.error.code}] ${a.error.message}` : '✔'}${a.delayMs ? ` · next in ${formatDuration(a.delayMs)}` : ''}`)
      : [],
  );
  const parts = [head.join('\n'), renderTable(['stage', 'status', 'attempts', 'time', 'rows', 'checks', 'dead', 'note'], rows)];
  if (attempts.length) parts.push(`attempts:\n${attempts.join('\n')}`);
  const letters = Object.entries(record.stages).filter(([, s]) => s.deadLetters);
  if (letters.length) {
    parts.push(`dead letters:\n${letters.map(([name, s]) => `  ${name}: ${s.deadLetters!.count} of ${s.deadLetters!.total} records → ${s.deadLetters!.file ?? ''}`).join('\n')}`);
  }
  // gpu (issue 10) ↓ the hardware stages that required it ran with.
  const gpus = Object.entries(record.stages).filter(([, s]) => s.resources?.gpu);
  if (gpus.length) parts.push(`resources:\n${gpus.map(([name, s]) => `  ${name}: ${describeGpu(s.resources!.gpu!)}`).join('\n')}`);
  const waits = Object.entries(record.stages).filter(([, s]) => s.rateLimitWaitMs);
  if (waits.length) parts.push(`rate-limit waits:\n${waits.map(([name, s]) => `  ${name}: ${formatDuration(s.rateLimitWaitMs!)}`).join('\n')}`);
  if (record.breakers?.length) {
    parts.push(`circuit breakers:\n${record.breakers.map((b) => `  ${b.at} ${b.key}: ${b.from} → ${b.to}`).join('\n')}`);
  }
  return parts.join('\n\n');
}
