/**
 * `uses: report` — a report built from queries on the run's tables: a title, templated Markdown
 * text, and sections (a table and optionally a bar or line chart each). Written as Markdown (fits a
 * job summary, within a size budget), one self-contained HTML page (inline CSS and SVG) and CSV
 * attachments (all rows of each section). The stage's outputs list the files, so notifications can
 * send the report inline.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { quoteIdent, quoteLiteral, type Row } from '../model/database.ts';
import { StageFailedError } from '../model/errors.ts';
import { renderChartSvg } from '../report/charts.ts';
import { renderReportMarkdown, type ReportDocument, type ReportSection } from './report-document.ts';
import { renderReportHtml } from './report-html.ts';
import type { StageContext, StageKind, StageResult } from './stage-kind.ts';

const ChartConfig = z.strictObject({
  type: z.enum(['bar', 'line']).describe('bar or line.'),
  x: z.string().min(1).describe('Column on the x axis.'),
  y: z.string().min(1).describe('Column on the y axis (numbers).'),
  color: z.string().min(1).optional().describe('Column that splits the marks into series. Default: none.'),
});

const SectionConfig = z
  .strictObject({
    title: z.string().min(1).optional().describe('Section heading. Default: the table name, or "Section <n>".'),
    query: z.string().min(1).optional().describe('SELECT on the run\'s tables (this or table).'),
    table: z.string().min(1).optional().describe('Table to show (this or query).'),
    chart: ChartConfig.optional().describe('A chart of the rows shown. Default: none.'),
    limit: z.number().int().positive().default(50).describe('Rows shown in the report (the CSV has all). Default: 50.'),
  })
  .refine((s) => (s.query === undefined) !== (s.table === undefined), { message: 'set exactly one of query or table', path: ['query'] });

export const ReportOutput = z.enum(['markdown', 'html', 'csv']);
export type ReportOutput = z.infer<typeof ReportOutput>;

export const ReportWith = z.strictObject({
  title: z.string().min(1).optional().describe('Report title. Default: the pipeline name.'),
  text: z.string().optional().describe('Markdown text under the title (templated). Default: none.'),
  sections: z.array(SectionConfig).default([]).describe('Tables and charts, in order.'),
  outputs: z.array(ReportOutput).min(1).default(['markdown', 'html', 'csv']).describe('Files to write. Default: markdown, html, csv.'),
  path: z.string().min(1).optional().describe('Folder to write to, relative to the project root. Default: out/reports/<pipeline>/<run date>.'),
  markdown_budget: z.number().int().positive().optional().describe('Most bytes of the Markdown file; it degrades in steps to fit. Default: 512 KiB (half a job summary).'),
});
export type ReportWith = z.infer<typeof ReportWith>;
type SectionConfig = z.infer<typeof SectionConfig>;

/** What a report stage leaves in its outputs (record), read by notifications. Paths are relative to the project root. */
export interface ReportOutputs {
  title: string;
  markdown?: string;
  html?: string;
  csv: string[];
}

export const reportStage: StageKind<ReportWith> = {
  name: 'report',
  summary: 'Build a report (Markdown, self-contained HTML with charts, CSV) from queries on the run\'s tables.',
  with: ReportWith,
  producesTable: false,
  run: runReport,
};

async function runReport(ctx: StageContext, config: ReportWith): Promise<StageResult> {
  const folder = config.path ?? `out/reports/${ctx.pipeline}/${ctx.render('{{ run.date }}')}`;
  const wants = new Set(config.outputs);
  const sections: ReportSection[] = [];
  const written: ReportOutputs = { title: config.title ?? ctx.pipeline, csv: [] };
  for (const [index, section] of config.sections.entries()) {
    const built = await buildSection(ctx, section, index);
    if (wants.has('csv')) {
      built.csvFile = `${ctx.stage}-${index + 1}-${slug(built.title)}.csv`;
      written.csv.push(await writeCsv(ctx, section, join(folder, built.csvFile)));
    }
    sections.push(built);
  }
  const document: ReportDocument = { title: written.title, text: config.text ?? '', sections, byline: `${ctx.pipeline} · run ${ctx.runId} · ${ctx.render('{{ interval.start }} → {{ interval.end }}')}` };
  if (wants.has('markdown')) written.markdown = await writeText(ctx, join(folder, `${ctx.stage}.md`), renderReportMarkdown(document, config.markdown_budget));
  if (wants.has('html')) written.html = await writeText(ctx, join(folder, `${ctx.stage}.html`), renderReportHtml(document));
  const files = [written.markdown, written.html, ...written.csv].filter((file): file is string => file !== undefined);
  ctx.log.info(`wrote the report '${written.title}' to ${folder}: ${files.length} file${files.length === 1 ? '' : 's'}`);
  return { outputs: { report: written, files } };
}

function sourceSql(section: SectionConfig): string {
  return section.table !== undefined ? `SELECT * FROM ${quoteIdent(section.table)}` : section.query!.trim().replace(/;+$/, '');
}

async function buildSection(ctx: StageContext, section: SectionConfig, index: number): Promise<ReportSection> {
  const title = section.title ?? section.table ?? `Section ${index + 1}`;
  const sql = sourceSql(section);
  let rows: Row[];
  let totalRows: number;
  try {
    rows = await ctx.db.query(`SELECT * FROM (${sql}) LIMIT ${section.limit}`, ctx.signal);
    totalRows = Number(await ctx.db.scalar(`SELECT count(*) FROM (${sql})`, ctx.signal));
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    throw new StageFailedError(`report section '${title}' (sections[${index}]) failed: ${(error as Error).message}; check its query or table`, { cause: error, stage: ctx.stage });
  }
  const columns = rows[0] ? Object.keys(rows[0]) : [];
  const built: ReportSection = { title, columns, rows, totalRows };
  if (section.chart) {
    for (const axis of [section.chart.x, section.chart.y, section.chart.color]) {
      if (axis !== undefined && rows.length > 0 && !columns.includes(axis)) {
        throw new StageFailedError(`report section '${title}': chart column '${axis}' is not in its rows (columns: ${columns.join(', ')}); fix sections[${index}].chart`, { stage: ctx.stage });
      }
    }
    built.chartSvg = await renderChartSvg(rows, section.chart);
  }
  return built;
}

/** CSV of every row of the section, written by DuckDB's COPY to a temporary name, then renamed. */
async function writeCsv(ctx: StageContext, section: SectionConfig, file: string): Promise<string> {
  const target = ctx.writePath(file, 'with.path');
  const temp = `${target}.${ctx.runId}.tmp`;
  await mkdir(dirname(target), { recursive: true });
  try {
    await ctx.db.exec(`COPY (${sourceSql(section)}) TO ${quoteLiteral(temp)} (FORMAT csv, HEADER true)`, ctx.signal);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    if (ctx.signal.aborted) throw error;
    throw new StageFailedError(`could not write the report's CSV ${file}: ${(error as Error).message}`, { cause: error, stage: ctx.stage });
  }
  return file;
}

async function writeText(ctx: StageContext, file: string, text: string): Promise<string> {
  const target = ctx.writePath(file, 'with.path');
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.${ctx.runId}.tmp`;
  await writeFile(temp, text);
  await rename(temp, target);
  return file;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'section';
}
