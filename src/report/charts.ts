/**
 * Charts for reports, rendered to inline SVG on the server, with no DOM and no browser.
 *
 * Vega-Lite compiles a small chart spec to Vega, and Vega's headless View renders it to an SVG
 * string (`renderer: 'none'` + `toSVG()`): axes, scales, ticks and legends come from a well-kept
 * library instead of hand-drawn geometry, and the output holds no script and no external reference,
 * so it can be inlined in a self-contained HTML report or an email. Text is measured by Vega's
 * estimate (no canvas package needed). vega and vega-lite load on first use only: a CLI command that
 * draws no chart never pays for them (they stay outside the bundle, see scripts/build.ts).
 */
import type { Row } from '../model/database.ts';

export type ChartType = 'bar' | 'line';

export interface ChartSpec {
  type: ChartType;
  /** Column on the x axis (categories for bar, ordered values for line). */
  x: string;
  /** Column on the y axis (a number). */
  y: string;
  /** Column whose values split the marks into coloured series. Default: none. */
  color?: string;
}

/** Chart size in CSS pixels: fits a phone screen and an email column (~600 px). */
export const CHART_WIDTH = 520;
export const CHART_HEIGHT = 240;

/** Renders `rows` as a bar or line chart; resolves to an `<svg …>…</svg>` string. */
export async function renderChartSvg(rows: readonly Row[], chart: ChartSpec, title?: string): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile(toVegaLiteSpec(rows, chart, title) as unknown as Parameters<typeof vegaLite.compile>[0]);
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The Vega-Lite spec of a chart (pure; exported for tests). */
export function toVegaLiteSpec(rows: readonly Row[], chart: ChartSpec, title?: string): Record<string, unknown> {
  const xType = chart.type === 'bar' ? 'nominal' : guessOrderedType(rows, chart.x);
  const encoding: Record<string, unknown> = {
    x: { field: chart.x, type: xType, sort: null, title: chart.x },
    y: { field: chart.y, type: 'quantitative', title: chart.y },
  };
  if (chart.color) encoding.color = { field: chart.color, type: 'nominal', title: chart.color };
  return {
    ...(title ? { title } : {}),
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    background: 'white',
    // BIGINT and HUGEINT sums arrive as strings (JSON-safe): the y axis needs numbers.
    data: { values: rows.map((row) => ({ ...row, [chart.y]: toNumber(row[chart.y]) })) },
    mark: chart.type === 'bar' ? { type: 'bar', tooltip: false } : { type: 'line', point: true },
    encoding,
  };
}

function toNumber(value: unknown): unknown {
  return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
}

/** Dates draw on a time axis, numbers on a linear one, anything else as ordered labels. */
function guessOrderedType(rows: readonly Row[], field: string): 'temporal' | 'quantitative' | 'ordinal' {
  const sample = rows.find((row) => row[field] !== null && row[field] !== undefined)?.[field];
  if (typeof sample === 'number') return 'quantitative';
  if (typeof sample === 'string' && /^\d{4}-\d{2}-\d{2}/.test(sample)) return 'temporal';
  return 'ordinal';
}
