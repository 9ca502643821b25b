import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StageFailedError } from '../../src/model/errors.ts';
import { renderChartSvg } from '../../src/report/charts.ts';
import { renderReportMarkdown, SHORT_TABLE_ROWS, type ReportDocument } from '../../src/stages/report-document.ts';
import { ReportWith, reportStage, type ReportOutputs } from '../../src/stages/report.ts';
import { createTestContext, type TestContext } from './context.ts';

let ctx: TestContext;

beforeEach(async () => {
  ctx = await createTestContext({ stage: 'weekly' });
  await ctx.db.exec(`CREATE TABLE by_store AS SELECT * FROM (VALUES ('berlin', 12, 340.5::DOUBLE), ('lisbon', 7, 120.25), ('oslo', 3, 99.0)) t(store, orders, revenue)`);
  await ctx.db.exec(`CREATE TABLE trend AS SELECT DATE '2026-11-02' + INTERVAL (i) DAY AS day, i * 10 AS revenue FROM range(0, 120) r(i)`);
});
afterEach(() => ctx.dispose());

const run = (input: Record<string, unknown>) => reportStage.run(ctx, ReportWith.parse(input));
const read = (file: string) => readFile(join(ctx.root, file), 'utf8');

/** Every URL the page would load or link to: none may leave the file. */
function externalReferences(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href)\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[1]!).filter((url) => /^(https?:)?\/\//i.test(url));
}

describe('report stage', () => {
  it('writes Markdown, self-contained HTML with a bar and a line chart, and a CSV per section', async () => {
    const result = await run({
      title: 'Weekly sales',
      text: 'Orders of **the week**. See [the docs](https://example.com/docs) ![logo](https://example.com/logo.png)',
      path: 'out/report',
      sections: [
        { title: 'By store', table: 'by_store', chart: { type: 'bar', x: 'store', y: 'revenue' } },
        { title: 'Trend', query: 'SELECT strftime(day, \'%Y-%m-%d\') AS day, revenue FROM trend ORDER BY day;', limit: 30, chart: { type: 'line', x: 'day', y: 'revenue' } },
      ],
    });
    const report = result.outputs?.report as ReportOutputs;
    expect(report).toEqual({
      title: 'Weekly sales',
      markdown: 'out/report/weekly.md',
      html: 'out/report/weekly.html',
      csv: ['out/report/weekly-1-by-store.csv', 'out/report/weekly-2-trend.csv'],
    });
    expect(result.outputs?.files).toHaveLength(4);

    const html = await read(report.html!);
    expect(html).toContain('<h1>Weekly sales</h1>');
    expect(html).toContain('<strong>the week</strong>');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toMatch(/<td class="num">340\.5<\/td>/);
    expect(html).toContain('120 rows, first 30 shown');
    expect(html).not.toMatch(/<script|<link|@import|url\(/i);
    expect(externalReferences(html)).toEqual([]);

    const markdown = await read(report.markdown!);
    expect(markdown).toContain('# Weekly sales');
    expect(markdown).toContain('| store | orders | revenue |');
    expect(markdown).toContain('| berlin | 12 | 340.5 |');

    const csv = (await read(report.csv[1]!)).trim().split('\n');
    expect(csv[0]).toBe('day,revenue');
    expect(csv).toHaveLength(121);
  });

  it('writes only the outputs asked for', async () => {
    const result = await run({ path: 'only-md', outputs: ['markdown'], sections: [{ table: 'by_store' }] });
    expect(result.outputs?.report).toEqual({ title: 'test-pipeline', markdown: 'only-md/weekly.md', csv: [] });
    expect(await read('only-md/weekly.md')).toContain('## by_store');
  });

  it('fails with the section and the fix when a section query is wrong', async () => {
    await expect(run({ path: 'x', sections: [{ title: 'Broken', query: 'SELECT * FROM missing_table' }] })).rejects.toThrow(StageFailedError);
    await expect(run({ path: 'x', sections: [{ title: 'Broken', query: 'SELECT * FROM missing_table' }] })).rejects.toThrow(/report section 'Broken' \(sections\[0\]\) failed/);
  });

  it('names the missing column when a chart axis is not in the rows', async () => {
    await expect(run({ path: 'x', sections: [{ table: 'by_store', chart: { type: 'bar', x: 'shop', y: 'revenue' } }] })).rejects.toThrow(/chart column 'shop' is not in its rows \(columns: store, orders, revenue\)/);
  });

  it('refuses a path outside the project', async () => {
    await expect(run({ path: '../elsewhere', sections: [{ table: 'by_store' }] })).rejects.toThrow(/outside the project/);
  });

  it('rejects a section with both query and table, and an unknown output', () => {
    expect(ReportWith.safeParse({ sections: [{ query: 'select 1', table: 't' }] }).success).toBe(false);
    expect(ReportWith.safeParse({ outputs: ['pdf'] }).success).toBe(false);
  });
});

describe('report Markdown size budget', () => {
  const rows = Array.from({ length: 200 }, (_, i) => ({ id: i, name: `row ${i} ${'x'.repeat(40)}` }));
  const document: ReportDocument = { title: 'Big', byline: 'p · run r', text: 'First paragraph.\n\nSecond paragraph.', sections: [{ title: 'Rows', columns: ['id', 'name'], rows, totalRows: 5000, csvFile: 'rows.csv' }] };
  const full = renderReportMarkdown(document, Number.MAX_SAFE_INTEGER);

  it('keeps every row shown when the budget allows', () => {
    expect(full.match(/^\| \d/gm)).toHaveLength(200);
  });

  it('degrades in steps: shorter tables, then counts only, then titles, then a cut', () => {
    const short = renderReportMarkdown(document, Buffer.byteLength(full) - 1);
    expect(short.match(/^\| \d/gm)).toHaveLength(SHORT_TABLE_ROWS);
    const counts = renderReportMarkdown(document, Buffer.byteLength(short) - 1);
    expect(counts).not.toContain('| id |');
    expect(counts).toContain('5000 rows · all rows in `rows.csv`');
    const titles = renderReportMarkdown(document, Buffer.byteLength(counts) - 1);
    expect(titles).toContain('## Rows');
    expect(titles).not.toContain('Second paragraph');
    const cut = renderReportMarkdown(document, 45);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(45);
    expect(cut).toContain('cut to fit');
  });
});

describe('charts', () => {
  it('renders a bar chart headless as an SVG with one bar per row and axis labels', async () => {
    const svg = await renderChartSvg([{ k: 'a', v: 1 }, { k: 'b', v: 4 }, { k: 'c', v: 2 }], { type: 'bar', x: 'k', y: 'v' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/role-mark[^"]*"[^>]*>/g)?.length).toBeGreaterThan(0);
    expect(svg.match(/<path [^>]*aria-label="k: [abc]; v: \d"/g) ?? svg.match(/aria-label="k: [abc]/g)).toHaveLength(3);
    expect(svg).toContain('>k</text>');
  });
});
