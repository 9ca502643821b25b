/**
 * A finished run's report, as the files of its artifact: Markdown, a self-contained HTML page (inline
 * CSS, no script, no external request: it opens from a downloaded zip), and CSV tables of stages and
 * checks. Pure functions of the run record.
 */
import type { RunRecord, StageRecord } from '../ledger/run-record.ts';
import { retryCount } from '../ledger/run-record.ts';

/**
 * Longest error message kept in a table cell: a stage may fail with a whole HTTP body or stack in
 * its message, which would drown the table. The run record JSON in the same artifact keeps it whole.
 */
export const MAX_CELL_CHARS = 2_000;

/** One row per stage, in the record's order (plan order). */
export interface StageRow {
  stage: string;
  status: string;
  startedAt: string;
  finishedAt: string;
  durationMs: string;
  attempts: string;
  retries: string;
  rows: string;
  table: string;
  checksPassed: string;
  checksFailed: string;
  deadLetters: string;
  error: string;
}

function clip(text: string): string {
  return text.length <= MAX_CELL_CHARS ? text : `${text.slice(0, MAX_CELL_CHARS - 1)}…`;
}

function stageRow(stage: string, record: StageRecord): StageRow {
  const checks = record.checks ?? [];
  return {
    stage,
    status: record.status,
    startedAt: record.startedAt ?? '',
    finishedAt: record.finishedAt ?? '',
    durationMs: record.durationMs === undefined ? '' : String(record.durationMs),
    attempts: String(record.attempts.length),
    retries: String(retryCount(record)),
    rows: record.rows === undefined ? '' : String(record.rows),
    table: record.table ?? '',
    checksPassed: String(checks.filter((c) => c.passed).length),
    checksFailed: String(checks.filter((c) => !c.passed).length),
    deadLetters: record.deadLetters ? String(record.deadLetters.count) : '',
    error: clip(record.error?.message ?? record.skipDetail ?? record.waitDetail ?? ''),
  };
}

export function stageRows(record: RunRecord): StageRow[] {
  return Object.entries(record.stages).map(([name, stage]) => stageRow(name, stage));
}

const STAGE_COLUMNS: readonly (keyof StageRow)[] = ['stage', 'status', 'startedAt', 'finishedAt', 'durationMs', 'attempts', 'retries', 'rows', 'table', 'checksPassed', 'checksFailed', 'deadLetters', 'error'];
const STAGE_CSV_HEADER = ['stage', 'status', 'started_at', 'finished_at', 'duration_ms', 'attempts', 'retries', 'rows', 'table', 'checks_passed', 'checks_failed', 'dead_letters', 'error'];

/**
 * RFC 4180 CSV: quoted when a field holds a comma, quote or line break; CRLF line ends. Hand-written
 * because it is these few lines, and the engine otherwise needs no CSV writer.
 */
export function toCsv(rows: readonly (readonly string[])[]): string {
  const field = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  return rows.map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}

export function renderStagesCsv(record: RunRecord): string {
  return toCsv([STAGE_CSV_HEADER, ...stageRows(record).map((row) => STAGE_COLUMNS.map((column) => row[column]))]);
}

export function renderChecksCsv(record: RunRecord): string {
  const rows = Object.entries(record.stages).flatMap(([stage, s]) =>
    (s.checks ?? []).map((c) => [stage, c.name, c.kind, c.severity, c.passed ? 'true' : 'false', String(c.failing), clip(c.message)]));
  return toCsv([['stage', 'check', 'kind', 'severity', 'passed', 'failing', 'message'], ...rows]);
}

function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '–';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The lines above the tables, shared by both formats. */
function headline(record: RunRecord): { title: string; facts: [string, string][] } {
  const params = Object.entries(record.params).map(([k, v]) => `${k}=${String(v)}`).join(', ');
  const facts: [string, string][] = [
    ['Status', record.status],
    ['Run', record.runId],
    ['Trigger', record.trigger],
    ['Interval', `${record.interval.start} → ${record.interval.end}`],
    ['Started', record.startedAt],
    ['Duration', formatDuration(record.durationMs)],
  ];
  if (params) facts.push(['Params', params]);
  if (record.error) facts.push(['Error', clip(`${record.error.code}: ${record.error.message}`)]);
  return { title: `weir run ${record.pipeline} — ${record.status}`, facts };
}

function markdownCell(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replace(/\r?\n/g, '<br>');
}

export function renderRunMarkdown(record: RunRecord): string {
  const { title, facts } = headline(record);
  const lines = [`# ${title}`, '', ...facts.map(([k, v]) => `- **${k}:** ${markdownCell(v)}`), '', '## Stages', ''];
  lines.push('| Stage | Status | Duration | Attempts | Rows | Checks | Dead letters | Error |', '|---|---|---|---|---|---|---|---|');
  for (const row of stageRows(record)) {
    const checks = row.checksFailed === '0' ? row.checksPassed : `${row.checksPassed} passed, ${row.checksFailed} failed`;
    const cells = [row.stage, row.status, formatDuration(row.durationMs ? Number(row.durationMs) : undefined), row.attempts, row.rows || '–', checks, row.deadLetters || '–', row.error || ''];
    lines.push(`| ${cells.map(markdownCell).join(' | ')} |`);
  }
  const checks = Object.entries(record.stages).flatMap(([stage, s]) => (s.checks ?? []).map((c) => ({ stage, ...c })));
  if (checks.length > 0) {
    lines.push('', '## Checks', '', '| Stage | Check | Severity | Result | Failing rows | Message |', '|---|---|---|---|---|---|');
    for (const c of checks) lines.push(`| ${[c.stage, c.name, c.severity, c.passed ? 'passed' : 'failed', String(c.failing), clip(c.message)].map(markdownCell).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/** Inline styles only: the page must render from a downloaded zip, offline, with no request. */
const HTML_STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1f2328}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}.succeeded,.passed{color:#1a7f37}.failed,.abandoned{color:#cf222e}.skipped,.cancelled,.reused{color:#6e7781}
dt{font-weight:600;float:left;clear:left;width:7rem}dd{margin-left:8rem}`;

function htmlTable(header: readonly string[], rows: readonly (readonly string[])[], statusColumn: number): string {
  const head = `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((cell, i) => (i === statusColumn ? `<td class="${escapeHtml(cell)}">` : '<td>') + escapeHtml(cell) + '</td>').join('')}</tr>`);
  return `<table>${head}${body.join('')}</table>`;
}

export function renderRunHtml(record: RunRecord): string {
  const { title, facts } = headline(record);
  const stages = stageRows(record).map((r) => [r.stage, r.status, formatDuration(r.durationMs ? Number(r.durationMs) : undefined), r.attempts, r.rows, `${r.checksPassed}/${Number(r.checksPassed) + Number(r.checksFailed)}`, r.deadLetters, r.error]);
  const checks = Object.entries(record.stages).flatMap(([stage, s]) => (s.checks ?? []).map((c) => [stage, c.name, c.severity, c.passed ? 'passed' : 'failed', String(c.failing), clip(c.message)]));
  const parts = [
    '<!doctype html>', '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title><style>${HTML_STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<dl>${facts.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`,
    '<h2>Stages</h2>', htmlTable(['Stage', 'Status', 'Duration', 'Attempts', 'Rows', 'Checks passed', 'Dead letters', 'Error'], stages, 1),
  ];
  if (checks.length > 0) parts.push('<h2>Checks</h2>', htmlTable(['Stage', 'Check', 'Severity', 'Result', 'Failing rows', 'Message'], checks, 3));
  parts.push('</body></html>');
  return `${parts.join('\n')}\n`;
}
