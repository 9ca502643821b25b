/**
 * The overview's due and late intervals, pause state and SLA breaches (sla branch): the same facts
 * `weir status` computes (status.ts), read from an in-memory ledger at a fixed instant.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLedgerStore } from '../../src/ledger/memory-ledger-store.ts';
import { renderOverviewPage } from '../../src/site/overview-page.ts';
import { renderRunPage } from '../../src/site/run-page.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { buildSite } from '../../src/use-cases/site.ts';
import { readStatus } from '../../src/use-cases/status.ts';
import { finishedRun, sampleProject, sampleRuns } from './fixtures.ts';

const NOW = new Date('2026-11-28T12:00:00Z');

async function ledgerWithControl() {
  const ledger = new MemoryLedgerStore();
  const runs = sampleRuns();
  runs[4]!.slaBreaches = [{ scope: 'stage', stage: 'clean', at: '2026-11-24T06:17:40.000Z', slaMs: 10_000, elapsedMs: 19_000 }];
  runs[5]!.slaBreaches = [{ scope: 'start', at: '2026-11-25T06:17:00.000Z', slaMs: 60_000, elapsedMs: 90_000 }];
  runs[5]!.tick = '2026-11-25T06:15:30.000Z';
  runs[5]!.latenessMs = 90_000;
  for (const run of runs) await ledger.finishRun(run);
  await ledger.writeControl('daily-rates', { paused: true, by: 'ana', at: '2026-11-27T09:00:00.000Z', reason: 'source down' });
  return ledger;
}

describe('the overview shows what weir status shows', () => {
  it('gives due intervals, lateness and pause exactly as readStatus computes them, and the SLA breaches of the runs shown', async () => {
    const root = sampleProject();
    const ledger = await ledgerWithControl();
    const deps = { ledger, clock: () => NOW, kinds: defaultStageKinds() };
    const { model } = await buildSite({ root }, deps);
    const status = await readStatus({ root, pipeline: 'daily-rates' }, deps);
    if (!status.ok) throw new Error(status.message);
    const daily = model.pipelines.find((p) => p.pipeline === 'daily-rates')!;
    const expected = status.pipelines[0]!;
    // The 25th succeeded; the 26th and 27th are due by 2026-11-28 12:00 (catchup: last runs the latest only).
    expect(daily.due).toEqual(expected.due);
    expect(daily.due).toEqual({ count: 1, oldest: '2026-11-27T06:17:00.000Z' });
    expect(daily.recentLateness).toEqual(expected.recentLateness);
    expect(daily.paused).toEqual({ by: 'ana', at: '2026-11-27T09:00:00.000Z', reason: 'source down' });
    expect(daily.slaBreaches).toMatchObject({ runs: 2, of: 6, latest: { scope: 'start', runId: sampleRuns()[5]!.runId } });

    const html = renderOverviewPage(model);
    expect(html).toContain('<dd data-key="due" data-count="1">1 interval, oldest from 2026-11-27 06:17 UTC</dd>');
    expect(html).toContain('<dd data-key="late" data-ms="90000">1 min 30 s after its tick</dd>');
    expect(html).toContain('<dd data-key="paused">yes, since 2026-11-27 09:00 UTC by ana: source down</dd>');
    expect(html).toMatch(/<dd data-key="sla-breaches" data-runs="2">2 of the last 6 runs; latest: start, [^<]+ over [^<]+<\/dd>/);
    expect([...html.matchAll(/data-sla="breached"/g)]).toHaveLength(2);
    // A pipeline only the ledger knows has no schedule: no due line, and it is not paused.
    const legacy = model.pipelines.find((p) => p.pipeline === 'legacy-export')!;
    expect(legacy.due).toBeUndefined();
    expect(legacy.paused).toBeUndefined();
  });

  it("lists a run's SLA breaches and its notifications by stage on the run page", () => {
    const run = finishedRun('daily-rates', 24, 'succeeded', 38, {
      slaBreaches: [{ scope: 'stage', stage: 'clean', at: '2026-11-24T06:17:40.000Z', slaMs: 10_000, elapsedMs: 19_000 }],
      notifications: [{ channel: 'oncall', event: 'sla_breach', status: 'sent', at: '2026-11-24T06:17:41.000Z', attempts: 1, stage: 'clean' }],
    });
    const html = renderRunPage(run, { generatedAt: NOW.toISOString() });
    expect(html).toContain('<h2>SLA breaches</h2><ul><li data-key="sla-breach" data-scope="stage">Stage clean ran 19.0 s: 9.0 s over its SLA of 10.0 s (detected 2026-11-24 06:17 UTC)</li></ul>');
    expect(html).toContain('<li>sla_breach (stage clean) to oncall: sent</li>');
  });
});
