/**
 * The site's two small charts as hand-written inline SVG: a duration trend (a polyline) and a stage
 * timeline (Gantt-like bars). Hand-written, not src/report/charts.ts: Vega renders asynchronously
 * and weighs megabytes to load, while these need a dozen shapes, one per run or stage, sized to
 * the data; each SVG carries role="img" and a <title>/<desc> so screen readers get the numbers.
 */
import { escapeHtml, formatDuration, type Html, statusColour } from './html.ts';

export interface DurationPoint {
  runId: string;
  durationMs: number;
  status: string;
}

const TREND_WIDTH = 320;
const TREND_HEIGHT = 80;
const PAD = 6;

/** A line of run durations, oldest to newest; undefined with fewer than two points. */
export function renderDurationTrend(points: readonly DurationPoint[], label: string): Html | undefined {
  if (points.length < 2) return undefined;
  const max = Math.max(...points.map((p) => p.durationMs), 1);
  const step = (TREND_WIDTH - 2 * PAD) / (points.length - 1);
  const xy = points.map((p, i) => [PAD + i * step, TREND_HEIGHT - PAD - (p.durationMs / max) * (TREND_HEIGHT - 2 * PAD)] as const);
  const line = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  const dots = xy.map(([x, y], i) => `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${statusColour(points[i]!.status)}"/>`).join('');
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const desc = `${points.length} runs, from ${formatDuration(first.durationMs)} to ${formatDuration(last.durationMs)}; longest ${formatDuration(max)}`;
  return `<svg class="chart" role="img" aria-labelledby="trend-title trend-desc" viewBox="0 0 ${TREND_WIDTH} ${TREND_HEIGHT}" width="${TREND_WIDTH}" height="${TREND_HEIGHT}" xmlns="http://www.w3.org/2000/svg">
<title id="trend-title">${escapeHtml(label)}</title><desc id="trend-desc">${escapeHtml(desc)}</desc>
<line x1="${PAD}" y1="${TREND_HEIGHT - PAD}" x2="${TREND_WIDTH - PAD}" y2="${TREND_HEIGHT - PAD}" stroke="#d0d7de"/>
<polyline points="${line}" fill="none" stroke="#57606a" stroke-width="1.5"/>${dots}</svg>`;
}

export interface TimelineBar {
  stage: string;
  status: string;
  /** Milliseconds from the run's start. */
  startMs: number;
  endMs: number;
}

const GANTT_WIDTH = 640;
const ROW = 26;
const LABEL = 140;

/** One bar per stage on a shared time axis from the run's start; undefined when no stage ran. */
export function renderStageTimeline(bars: readonly TimelineBar[], totalMs: number): Html | undefined {
  if (bars.length === 0) return undefined;
  const span = Math.max(totalMs, ...bars.map((b) => b.endMs), 1);
  const scale = (GANTT_WIDTH - LABEL - 10) / span;
  const height = bars.length * ROW + 24;
  const rows = bars.map((bar, i) => {
    const y = i * ROW + 4;
    const x = LABEL + bar.startMs * scale;
    const width = Math.max((bar.endMs - bar.startMs) * scale, 2);
    const text = `${bar.stage}: ${bar.status}, ${formatDuration(bar.endMs - bar.startMs)} from +${formatDuration(bar.startMs)}`;
    return `<g><title>${escapeHtml(text)}</title><text x="${LABEL - 6}" y="${y + 15}" text-anchor="end" font-size="12" fill="#1f2328">${escapeHtml(truncate(bar.stage, 20))}</text><rect x="${x.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${ROW - 8}" rx="3" fill="${statusColour(bar.status)}"/></g>`;
  });
  const axisY = bars.length * ROW + 16;
  return `<svg class="chart" role="img" aria-labelledby="gantt-title" viewBox="0 0 ${GANTT_WIDTH} ${height}" width="${GANTT_WIDTH}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<title id="gantt-title">Stage timeline: ${escapeHtml(bars.map((b) => `${b.stage} ${b.status} ${formatDuration(b.endMs - b.startMs)}`).join('; '))}</title>
${rows.join('\n')}
<text x="${LABEL}" y="${axisY}" font-size="11" fill="#57606a">0</text><text x="${GANTT_WIDTH - 10}" y="${axisY}" font-size="11" text-anchor="end" fill="#57606a">${escapeHtml(formatDuration(span))}</text></svg>`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
