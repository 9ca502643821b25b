/**
 * Markdown for GitHub's job summary: a run (DAG coloured by stage status, a stage table, check rows,
 * SLA breaches, notification outcomes, stage logs) and a validation (per pipeline its DAG, its plan, and every diagnostic). Pure: data in,
 * text out. Each renderer fits a byte budget by dropping detail in named steps (DETAIL_STEPS).
 */
import { formatDuration } from '../model/duration.ts';
import type { Diagnostic } from '../model/diagnostic.ts';
import type { StageStatus } from '../model/events.ts';
import type { Plan } from '../planner/plan.ts';
import type { RunRecord } from '../ledger/run-record.ts';

/** GitHub refuses a step summary over 1 MiB (and shows none of it): every summary stays under. */
export const STEP_SUMMARY_BUDGET_BYTES = 1024 * 1024;

/**
 * How much a summary shows, richest first: everything; without stage logs; without the per-check
 * (or per-diagnostic) rows; totals only. The renderer uses the first step that fits the budget.
 */
export const DETAIL_STEPS = ['full', 'no-logs', 'no-rows', 'totals'] as const;
export type DetailStep = (typeof DETAIL_STEPS)[number];

export interface RenderedSummary {
  markdown: string;
  /** The step that fit the budget. */
  detail: DetailStep;
}

export interface RunSummaryInput {
  record: RunRecord;
  plan: Plan;
  /** Log lines per stage (already redacted: they come from the run's events). */
  logs?: ReadonlyMap<string, readonly string[]>;
  /** Where the report artifact can be downloaded, once uploaded. */
  reportUrl?: string;
}

export interface ValidationSummaryInput {
  ok: boolean;
  files: readonly string[];
  diagnostics: readonly Diagnostic[];
  /** The plan of each valid pipeline. */
  plans: readonly Plan[];
}

const STATUS_MARK: Record<StageStatus | 'abandoned', string> = {
  pending: '⏳',
  running: '⏳',
  succeeded: '✅',
  failed: '❌',
  skipped: '⏭️',
  cancelled: '🚫',
  reused: '♻️',
  waiting: '⏸️',
  abandoned: '💀',
};

/** Mermaid node styles by stage status (fill, stroke). */
const STATUS_STYLE: Record<string, string> = {
  succeeded: 'fill:#dafbe1,stroke:#1a7f37',
  failed: 'fill:#ffebe9,stroke:#cf222e',
  skipped: 'fill:#f6f8fa,stroke:#8c959f',
  cancelled: 'fill:#fff8c5,stroke:#9a6700',
  reused: 'fill:#ddf4ff,stroke:#0969da',
  pending: 'fill:#ffffff,stroke:#8c959f',
  running: 'fill:#ffffff,stroke:#8c959f',
  waiting: 'fill:#fff8c5,stroke:#bf8700', // gates
};

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The richest rendering that fits `budget` bytes; totals cut to the budget as a last resort. */
function fitToBudget(render: (detail: DetailStep) => string, budget: number): RenderedSummary {
  for (const detail of DETAIL_STEPS) {
    const markdown = render(detail);
    if (byteLength(markdown) <= budget) return { markdown, detail };
  }
  return { markdown: truncateBytes(render('totals'), budget), detail: 'totals' };
}

function truncateBytes(text: string, budget: number): string {
  const buffer = Buffer.from(text, 'utf8');
  if (buffer.length <= budget) return text;
  // Cut on a character boundary: a partial UTF-8 sequence decodes to U+FFFD, dropped here.
  return buffer.subarray(0, Math.max(0, budget - 4)).toString('utf8').replace(/\uFFFD$/, '');
}

/** A table cell: pipes escaped, one line. */
function cell(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `|${header.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n');
}

/** A fenced block whose fence is longer than any backtick run inside, so content cannot close it. */
function fence(language: string, text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const marks = '`'.repeat(longest + 1);
  return `${marks}${language}\n${text}\n${marks}`;
}

function nodeId(name: string): string {
  return `s_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The plan's DAG as a Mermaid flowchart; with `statusOf`, nodes are coloured by stage status. */
export function renderMermaidDag(plan: Plan, statusOf?: (stage: string) => string | undefined): string {
  const lines = ['flowchart LR'];
  for (const stage of plan.stages) {
    const runner = stage.runnerLabels.length ? `<br/>runs-on: ${stage.runnerLabels.join(', ')}` : '';
    lines.push(`  ${nodeId(stage.name)}["${stage.name.replaceAll('"', '#quot;')}<br/><small>${stage.uses}${runner}</small>"]`);
    for (const need of stage.needs) lines.push(`  ${nodeId(need)} --> ${nodeId(stage.name)}`);
  }
  if (statusOf) {
    const classes = plan.stages.flatMap((stage) => {
      const status = statusOf(stage.name);
      return status && STATUS_STYLE[status] ? [`  class ${nodeId(stage.name)} ${status}`] : [];
    });
    // Styles first, then which node has which: Mermaid applies a class only once it is defined.
    for (const status of new Set(classes.map((line) => line.split(' ').pop()!))) lines.push(`  classDef ${status} ${STATUS_STYLE[status]}`);
    lines.push(...classes);
  }
  return fence('mermaid', lines.join('\n'));
}

function renderPlanLevels(plan: Plan): string {
  const rows = plan.levels.map((names, level) => [
    String(level),
    names.join(', '),
    [...new Set(names.map((name) => plan.stages.find((s) => s.name === name)?.runnerLabels.join(', ') || 'default'))].join('; '),
  ]);
  return table(['Level', 'Stages (run together)', 'Runner labels'], rows);
}

function checksText(stage: RunRecord['stages'][string]): string {
  if (!stage.checks?.length) return '';
  return `${stage.checks.filter((c) => c.passed).length}/${stage.checks.length}`;
}

function stageRows(record: RunRecord): string[][] {
  return Object.entries(record.stages).map(([name, s]) => [
    name,
    `${STATUS_MARK[s.status] ?? ''} ${s.status}${s.skipReason ? ` (${s.skipReason})` : ''}${s.waitDetail ? ` (${s.waitDetail})` : ''}`,
    s.durationMs === undefined ? '' : formatDuration(s.durationMs),
    String(s.attempts.length),
    s.rows === undefined ? '' : String(s.rows),
    checksText(s),
    s.deadLetters ? String(s.deadLetters.count) : '',
  ]);
}

function renderRunHead(record: RunRecord, reportUrl: string | undefined): string[] {
  const mark = STATUS_MARK[record.status as StageStatus] ?? '';
  const facts = [`run \`${record.runId}\``, `trigger ${record.trigger}`, `interval ${record.interval.start} → ${record.interval.end}`];
  if (record.durationMs !== undefined) facts.push(`took ${formatDuration(record.durationMs)}`);
  const head = [`## weir run: ${record.pipeline} ${mark} ${record.status}`, '', facts.join(' · ')];
  if (Object.keys(record.params).length) head.push('', `params: \`${cell(JSON.stringify(record.params))}\``);
  const provenance = record.provenance;
  if (provenance?.commit) head.push('', `commit \`${provenance.commit.slice(0, 12)}\`${provenance.ref ? ` on ${provenance.ref}` : ''}${provenance.workflowRunUrl ? ` · [workflow run](${provenance.workflowRunUrl})` : ''}`);
  if (record.error) head.push('', `> **${record.error.code}**: ${cell(record.error.message)}`);
  if (reportUrl) head.push('', `[report artifact](${reportUrl})`);
  return head;
}

function renderRun(input: RunSummaryInput, detail: DetailStep): string {
  const { record, plan } = input;
  const parts = renderRunHead(record, input.reportUrl);
  const stages = Object.entries(record.stages);
  if (detail === 'totals') {
    const counts = new Map<string, number>();
    for (const [, s] of stages) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
    parts.push('', `${stages.length} stages: ${[...counts].map(([status, n]) => `${n} ${status}`).join(', ')} (details left out: the summary would pass GitHub's 1 MiB limit)`);
    parts.push(...outcomeTotals(record)); // sla branch
    return `${parts.join('\n')}\n`;
  }
  parts.push('', renderMermaidDag(plan, (name) => record.stages[name]?.status));
  parts.push('', table(['Stage', 'Status', 'Duration', 'Attempts', 'Rows', 'Checks', 'Dead letters'], stageRows(record)));
  const checks = stages.flatMap(([name, s]) => (s.checks ?? []).map((c) => [name, c.name, c.passed ? '✅ passed' : c.severity === 'warn' ? '⚠️ warned' : '❌ failed', String(c.failing), c.message]));
  if (checks.length && detail !== 'no-rows') parts.push('', '### Checks', '', table(['Stage', 'Check', 'Result', 'Failing', 'Message'], checks));
  const errors = stages.filter(([, s]) => s.error).map(([name, s]) => `- **${name}** [${s.error!.code}] ${cell(s.error!.message)}`);
  if (errors.length) parts.push('', '### Errors', '', ...errors);
  parts.push(...renderSlaBreaches(record), ...renderNotifications(record)); // sla branch
  if (detail === 'full') {
    for (const [name, lines] of input.logs ?? []) {
      if (lines.length) parts.push('', `<details><summary>${name}: ${lines.length} log line${lines.length === 1 ? '' : 's'}</summary>`, '', fence('text', lines.join('\n')), '', '</details>');
    }
  }
  return `${parts.join('\n')}\n`;
}

// sla branch ↓
const NOTIFY_MARK: Record<string, string> = { sent: '✅ sent', failed: '❌ failed', skipped: '⏭️ skipped' };

/** The run's SLA breaches: which SLA, how long, by how much. */
function renderSlaBreaches(record: RunRecord): string[] {
  const breaches = record.slaBreaches ?? [];
  if (!breaches.length) return [];
  const scope = (b: (typeof breaches)[number]) => (b.scope === 'stage' ? `stage ${b.stage}` : b.scope === 'start' ? 'start (tick → start)' : 'run');
  const rows = breaches.map((b) => [scope(b), formatDuration(b.slaMs), formatDuration(b.elapsedMs), formatDuration(Math.max(0, b.elapsedMs - b.slaMs)), b.at]);
  return ['', '### SLA breaches', '', table(['SLA of', 'SLA', 'Took', 'Over by', 'Detected (UTC)'], rows)];
}

/** Each notification sent, failed or skipped: they never change the run's result, so they are listed here. */
function renderNotifications(record: RunRecord): string[] {
  const notifications = record.notifications ?? [];
  if (!notifications.length) return [];
  const rows = notifications.map((n) => [n.channel, n.stage === undefined ? n.event : `${n.event} (stage ${n.stage})`, NOTIFY_MARK[n.status] ?? n.status, n.attempts === undefined ? '' : String(n.attempts), n.error?.message ?? n.reason ?? '']);
  return ['', '### Notifications', '', table(['Channel', 'Event', 'Outcome', 'Attempts', 'Error'], rows)];
}

/** One line each for the totals-only summary. */
function outcomeTotals(record: RunRecord): string[] {
  const lines: string[] = [];
  const breaches = record.slaBreaches?.length ?? 0;
  if (breaches) lines.push('', `${breaches} SLA breach${breaches === 1 ? '' : 'es'}`);
  const notifications = record.notifications ?? [];
  if (notifications.length) {
    const counts = new Map<string, number>();
    for (const n of notifications) counts.set(n.status, (counts.get(n.status) ?? 0) + 1);
    lines.push('', `notifications: ${[...counts].map(([status, n]) => `${n} ${status}`).join(', ')}`);
  }
  return lines;
}

/** The job summary of one run, within `budget` bytes. */
export function renderRunSummary(input: RunSummaryInput, budget: number = STEP_SUMMARY_BUDGET_BYTES): RenderedSummary {
  return fitToBudget((detail) => renderRun(input, detail), budget);
}

function diagnosticRows(diagnostics: readonly Diagnostic[]): string[][] {
  return diagnostics.map((d) => [`${d.severity === 'error' ? '❌' : '⚠️'} ${d.severity}`, d.code, `${d.file}:${d.line}:${d.column}`, d.message]);
}

function renderValidation(input: ValidationSummaryInput, detail: DetailStep): string {
  const errors = input.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = input.diagnostics.length - errors;
  const parts = [
    `## weir validate ${input.ok ? '✅' : '❌'}`,
    '',
    `${input.files.length} file${input.files.length === 1 ? '' : 's'} checked: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
  ];
  if (input.diagnostics.length && detail !== 'no-rows' && detail !== 'totals') {
    parts.push('', '### Diagnostics', '', table(['Severity', 'Code', 'Where', 'Message'], diagnosticRows(input.diagnostics)));
  }
  if (detail !== 'totals') {
    for (const plan of input.plans) {
      parts.push('', `### ${plan.pipeline}`, '', renderMermaidDag(plan), '', renderPlanLevels(plan));
    }
  }
  return `${parts.join('\n')}\n`;
}

/** The job summary of a validation (or a plan), within `budget` bytes. */
export function renderValidationSummary(input: ValidationSummaryInput, budget: number = STEP_SUMMARY_BUDGET_BYTES): RenderedSummary {
  return fitToBudget((detail) => renderValidation(input, detail), budget);
}
