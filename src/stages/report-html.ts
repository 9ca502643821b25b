/**
 * The report as one self-contained HTML page: inline CSS, charts as inline SVG, no script and no
 * external reference (no `src`/`href` to the network), so it opens offline, as an artifact, or as
 * the body of an email. Pure.
 */
import { Marked } from 'marked';
import { formatCell, type ReportDocument, type ReportSection } from './report-document.ts';

const STYLE = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff;margin:0 auto;padding:16px;max-width:960px}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin:1.6em 0 .4em;border-bottom:1px solid #d0d7de}
.byline{color:#57606a;margin:0 0 1em}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:.92em}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:.5em 0;max-width:100%;overflow-x:auto}figure svg{max-width:100%;height:auto}
.note{color:#57606a;font-size:.9em}
`.trim();

/**
 * Markdown text to HTML; links and images that point at the network become plain text (no external
 * requests). Built on first use: every run loads this module with the stage kinds, few render a report.
 */
let markdown: Marked | undefined;
const markdownRenderer = (): Marked => (markdown ??= new Marked({
  async: false,
  renderer: {
    link({ href, tokens }) {
      const text = this.parser.parseInline(tokens);
      return isExternal(href) ? `${text} (${escapeHtml(href)})` : `<a href="${escapeHtml(href)}">${text}</a>`;
    },
    image({ href, text }) {
      return isExternal(href) ? escapeHtml(text) : `<img src="${escapeHtml(href)}" alt="${escapeHtml(text)}">`;
    },
    html({ text }) {
      // Raw HTML in the text is shown, not interpreted: it could load remote content.
      return escapeHtml(text);
    },
  },
}));

function isExternal(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:|^\/\//i.test(url.trim()) && !/^mailto:/i.test(url.trim());
}

export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

export function renderReportHtml(report: ReportDocument): string {
  const body = [
    `<h1>${escapeHtml(report.title)}</h1>`,
    `<p class="byline">${escapeHtml(report.byline)}</p>`,
    report.text.trim() ? markdownRenderer().parse(report.text) as string : '',
    ...report.sections.map(sectionHtml),
  ].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(report.title)}</title><style>${STYLE}</style></head>
<body>
${body}
</body></html>
`;
}

function sectionHtml(section: ReportSection): string {
  const chart = section.chartSvg ? `<figure role="img" aria-label="${escapeHtml(`Chart: ${section.title}`)}">${section.chartSvg}</figure>` : '';
  const shown = section.rows.length;
  const more = shown < section.totalRows ? `, first ${shown} shown` : '';
  const attachment = section.csvFile ? ` · all rows in ${escapeHtml(section.csvFile)}` : '';
  const note = `<p class="note">${section.totalRows} row${section.totalRows === 1 ? '' : 's'}${more}${attachment}</p>`;
  return `<section><h2>${escapeHtml(section.title)}</h2>${chart}${shown ? tableHtml(section) : ''}${note}</section>`;
}

function tableHtml(section: ReportSection): string {
  const numeric = new Set(section.columns.filter((column) => section.rows.some((row) => typeof row[column] === 'number')));
  const head = section.columns.map((column) => `<th scope="col">${escapeHtml(column)}</th>`).join('');
  const rows = section.rows
    .map((row) => `<tr>${section.columns.map((column) => `<td${numeric.has(column) ? ' class="num"' : ''}>${escapeHtml(formatCell(row[column]))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table></div>`;
}
