/**
 * The report a `report` stage builds, as data, and the Markdown rendering of it. Pure: the stage
 * queries the database and draws the charts; renderers only lay out what they are given.
 */
import type { Row } from '../model/database.ts';

export interface ReportSection {
  title: string;
  columns: string[];
  /** The rows shown (at most the section's limit). */
  rows: Row[];
  /** Rows the section's query returned in all. */
  totalRows: number;
  /** Inline `<svg>` of the section's chart, when it has one. */
  chartSvg?: string;
  /** File name of the section's CSV attachment, when written. */
  csvFile?: string;
}

export interface ReportDocument {
  title: string;
  /** Markdown text (templates already rendered). */
  text: string;
  sections: ReportSection[];
  /** One line under the title: pipeline, run, interval. */
  byline: string;
}

/**
 * GitHub caps a step summary at 1 MiB and the run summary shares it: the report keeps to half, and
 * degrades in steps to fit (shorter tables, then no tables, then titles only).
 */
export const MARKDOWN_BUDGET_BYTES = 512 * 1024;
/** Rows a table keeps in the second degradation step. */
export const SHORT_TABLE_ROWS = 10;

type Detail = 'full' | 'short' | 'counts' | 'titles';
const DETAIL_STEPS: readonly Detail[] = ['full', 'short', 'counts', 'titles'];

/** The report as Markdown within `budgetBytes` (UTF-8), at the most detail that fits. */
export function renderReportMarkdown(report: ReportDocument, budgetBytes = MARKDOWN_BUDGET_BYTES): string {
  for (const detail of DETAIL_STEPS) {
    const text = markdownAt(report, detail);
    if (Buffer.byteLength(text) <= budgetBytes) return text;
  }
  const note = '\n\n_(cut to fit; see the HTML report)_\n';
  const titles = markdownAt(report, 'titles');
  if (Buffer.byteLength(note) >= budgetBytes) return truncateUtf8(titles, budgetBytes);
  return truncateUtf8(titles, budgetBytes - Buffer.byteLength(note)) + note;
}

function markdownAt(report: ReportDocument, detail: Detail): string {
  const parts = [`# ${oneLine(report.title)}`, `_${oneLine(report.byline)}_`];
  if (report.text.trim()) parts.push(detail === 'titles' ? firstParagraph(report.text) : report.text.trim());
  for (const section of report.sections) parts.push(sectionMarkdown(section, detail));
  return `${parts.join('\n\n')}\n`;
}

function sectionMarkdown(section: ReportSection, detail: Detail): string {
  const heading = `## ${oneLine(section.title)}`;
  if (detail === 'titles') return heading;
  const attachment = section.csvFile ? ` · all rows in \`${section.csvFile}\`` : '';
  const shown = detail === 'full' ? section.rows : detail === 'short' ? section.rows.slice(0, SHORT_TABLE_ROWS) : [];
  const count = `${section.totalRows} row${section.totalRows === 1 ? '' : 's'}${shown.length < section.totalRows && shown.length > 0 ? `, first ${shown.length} shown` : ''}${attachment}`;
  if (shown.length === 0) return `${heading}\n\n_${count}_`;
  return `${heading}\n\n${markdownTable(section.columns, shown)}\n\n_${count}_`;
}

/** A GitHub-flavoured Markdown table; `|` and line breaks in cells are escaped. */
export function markdownTable(columns: readonly string[], rows: readonly Row[]): string {
  const cell = (value: unknown) => formatCell(value).replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
  const header = `| ${columns.map(cell).join(' | ')} |`;
  const rule = `| ${columns.map((column) => (rows.some((row) => typeof row[column] === 'number') ? '---:' : '---')).join(' | ')} |`;
  return [header, rule, ...rows.map((row) => `| ${columns.map((column) => cell(row[column])).join(' | ')} |`)].join('\n');
}

/** How a value reads in a table cell: numbers with thousands separators, null as empty. */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 4 });
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function firstParagraph(text: string): string {
  return text.trim().split(/\n\s*\n/)[0] ?? '';
}

/** The longest prefix of `text` within `bytes` UTF-8 bytes, never splitting a character. */
function truncateUtf8(text: string, bytes: number): string {
  const buffer = Buffer.from(text);
  if (buffer.length <= bytes) return text;
  return buffer.subarray(0, bytes).toString('utf8').replace(/\uFFFD$/, '');
}
