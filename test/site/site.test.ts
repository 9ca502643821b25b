/**
 * The status site's use case and pure renderers: pages as strings from an in-memory ledger, so
 * every number on them is checked without a browser (test/site/browser.test.ts opens them).
 */
import { describe, expect, it } from 'vitest';
import { MemoryLedgerStore } from '../../src/ledger/memory-ledger-store.ts';
import { escapeHtml, formatDuration } from '../../src/site/html.ts';
import { renderOverviewPage } from '../../src/site/overview-page.ts';
import { renderRunPage, timelineBars } from '../../src/site/run-page.ts';
import { successRate } from '../../src/site/site-model.ts';
import { renderDurationTrend } from '../../src/site/svg-charts.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { buildSite } from '../../src/use-cases/site.ts';
import { finishedRun, sampleProject, sampleRuns } from './fixtures.ts';

const NOW = new Date('2026-11-26T12:00:00Z');

async function siteOf(root: string, runsPerPipeline?: number) {
  const ledger = new MemoryLedgerStore();
  for (const run of sampleRuns()) await ledger.finishRun(run);
  return buildSite({ root, runsPerPipeline }, { ledger, clock: () => NOW, kinds: defaultStageKinds() });
}

describe('buildSite', () => {
  it('gives every pipeline of pipelines/ and of the ledger an overview, with its rate, last success and next tick', async () => {
    const { model } = await siteOf(sampleProject());
    expect(model.pipelines.map((p) => [p.pipeline, p.defined, p.runs.length])).toEqual([
      ['daily-rates', true, 6],
      ['legacy-export', false, 1],
    ]);
    const daily = model.pipelines[0]!;
    expect(successRate(daily.runs)).toEqual({ succeeded: 5, finished: 6, percent: 83 });
    expect(daily.lastSuccess).toBe('2026-11-25T06:17:00.000Z');
    expect(daily.nextTick).toBe('2026-11-27T06:17:00.000Z');
    expect(model.pipelines[1]!.nextTick).toBeUndefined();
  });

  it('writes an index and one page per run shown, and finds an older last success beyond the limit', async () => {
    const { model, pages } = await siteOf(sampleProject(), 1);
    expect(pages.map((p) => p.path)).toEqual(['index.html', 'runs/20261125T061700.000Z-da0025.html', 'runs/20261101T061700.000Z-le0001.html']);
    expect(model.pipelines[1]!.lastSuccess).toBeUndefined();
    const ledger = new MemoryLedgerStore();
    for (const run of [finishedRun('p', 1, 'succeeded', 1), finishedRun('p', 2, 'failed', 1)]) await ledger.finishRun(run);
    const older = await buildSite({ root: sampleProject(), runsPerPipeline: 1 }, { ledger, clock: () => NOW, kinds: defaultStageKinds() });
    expect(older.model.pipelines.find((p) => p.pipeline === 'p')?.lastSuccess).toBe('2026-11-01T06:17:00.000Z');
  });
});

describe('renderOverviewPage', () => {
  it('shows a strip of runs oldest first, each a labelled link to its page, and the key numbers', async () => {
    const { model } = await siteOf(sampleProject());
    const html = renderOverviewPage(model);
    const strip = [...html.matchAll(/<li><a href="(runs\/[^"]+)"[^>]*aria-label="([^"]+)"/g)].map((m) => [m[1], m[2]]);
    expect(strip[0]).toEqual(['runs/20261120T061700.000Z-da0020.html', 'succeeded run at 2026-11-20 06:17 UTC (30.0 s)']);
    expect(strip[2]![1]).toMatch(/^failed run/);
    expect(html).toContain('<dd data-key="success-rate">83% (5 of 6)</dd>');
    expect(html).toContain('<dd data-key="next-tick">2026-11-27 06:17 UTC</dd>');
    expect(html).toContain('Not in pipelines/ any more');
    expect(html).toMatch(/<svg class="chart" role="img"[^>]*>\s*<title[^>]*>Duration of the last 6 runs of daily-rates<\/title>/);
    expect(html).not.toMatch(/<script|src="http|href="http/);
  });

  it('says how to start when there is nothing to show', () => {
    expect(renderOverviewPage({ generatedAt: NOW.toISOString(), pipelines: [] })).toContain('No pipelines and no runs yet');
  });
});

describe('renderRunPage', () => {
  it('shows attempts with their errors, checks, dead letters and the artifact link of a run from Actions', () => {
    const retried = sampleRuns()[5]!;
    const html = renderRunPage(retried, { generatedAt: NOW.toISOString(), artifact: { name: 'weir-daily-rates-x', url: 'https://github.com/acme/data/actions/runs/42#artifacts' } });
    expect(html).toContain('<td data-key="attempts">2</td>');
    expect(html).toContain('Attempt 1: 2026-11-25 06:17 UTC to 2026-11-25 06:17 UTC — <span>HTTP 503 from api</span> (retried after 1.0 s)');
    expect(html).toContain('<td>unique(day)</td><td>warning</td><td>2</td>');
    expect(html).toContain('Dead letters: 3 of 11 rows (in <code>clean_dead_letters</code>)');
    expect(html).toContain('href="https://github.com/acme/data/actions/runs/42#artifacts" data-key="artifact"');
    expect(html).toContain('<title id="gantt-title">Stage timeline: extract succeeded 20.0 s; clean succeeded 20.0 s</title>');
  });

  it('escapes what the ledger holds and has no artifact link for a local run', () => {
    const failed = finishedRun('daily-rates', 22, 'failed', 12);
    const html = renderRunPage(failed, { generatedAt: NOW.toISOString() });
    expect(html).toContain('clean broke &lt;here&gt;');
    expect(html).not.toContain('data-key="artifact"');
  });
});

describe('chart and format helpers', () => {
  it('places stages on the run clock and draws no trend from a single run', () => {
    expect(timelineBars(finishedRun('p', 1, 'succeeded', 10))).toEqual([
      { stage: 'extract', status: 'succeeded', startMs: 0, endMs: 5000 },
      { stage: 'clean', status: 'succeeded', startMs: 5000, endMs: 10_000 },
    ]);
    expect(renderDurationTrend([{ runId: 'a', durationMs: 1, status: 'succeeded' }], 'x')).toBeUndefined();
  });

  it('formats durations and escapes quotes', () => {
    expect([950, 12_340, 245_000, 3_720_000].map(formatDuration)).toEqual(['950 ms', '12.3 s', '4 min 05 s', '1 h 02 min']);
    expect(escapeHtml(`<a href="x">'`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;');
  });
});
