import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import { createLocalRunDeps } from '../../src/entrypoints/local-run-deps.ts';
import { MemoryLedgerStore } from '../../src/ledger/memory-ledger-store.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { readStatus } from '../../src/use-cases/status.ts';
import { summarizeErrors } from '../../src/report/ledger-views.ts';
import { assertNotPaused, PipelinePausedError, runScheduled, setPaused, type ScheduledRunResult } from '../../src/use-cases/scheduled-run.ts';

const HOUR_MS = 3_600_000;
const iso = (text: string) => new Date(text).toISOString();

/** A pipeline read in New York, its deps on a memory ledger and a clock the test moves. */
function setup(schedule: string, start: string) {
  const root = mkdtempSync(join(tmpdir(), 'weir-scheduled-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  const yaml = `name: p\nschedule: ${schedule}\nstages:\n  one:\n    uses: sql\n    with: { query: "select 1 as id" }\n`;
  const { pipeline, diagnostics } = loadPipelineSource(yaml, 'pipelines/p.yml', { kinds: defaultStageKinds(), fileExists: () => true });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const clock = { at: Date.parse(start) };
  const ledger = new MemoryLedgerStore();
  const deps = createLocalRunDeps({ root, env: {} }, { ledger, clock: { now: () => clock.at, sleep: async () => {}, random: () => 0.5 } });
  mkdirSync(join(root, 'pipelines'));
  writeFileSync(join(root, 'pipelines', 'p.yml'), yaml);
  const status = async () => {
    const result = await readStatus({ root, pipeline: 'p' }, { ledger, clock: () => new Date(clock.at), kinds: defaultStageKinds() });
    if (!result.ok) throw new Error(result.message);
    return result.pipelines[0];
  };
  const trigger = (options: { force?: boolean; interval?: { start: string; end: string } } = {}) => runScheduled({ pipeline: pipeline!, root, kinds: defaultStageKinds(), ...options }, deps);
  return { clock, ledger, trigger, status };
}

function ranTicks(result: ScheduledRunResult): string[] {
  if (result.outcome !== 'ran') throw new Error(`expected runs, got ${result.outcome}`);
  return result.runs.map((run) => run.record.tick!);
}

describe('runScheduled', () => {
  it('runs each due interval across the New York fall-back night once, records tick and lateness, and ignores a duplicate trigger', async () => {
    const { clock, ledger, trigger } = setup('{ cron: "30 */6 * * *", timezone: America/New_York, catchup: all, start_date: "2026-11-01T04:30:00Z" }', '2026-11-01T19:00Z');
    // 00:30 EDT, 06:30 EST, 12:30 EST, ... : the 00:30 → 06:30 interval is 7 hours long on this night.
    expect(ranTicks(await trigger())).toEqual([iso('2026-11-01T11:30Z'), iso('2026-11-01T17:30Z')]);
    // Both runs started at the same (frozen) instant: order them by interval, not by run id.
    const runs = (await ledger.listRuns({ pipeline: 'p' })).sort((a, b) => a.interval.start.localeCompare(b.interval.start));
    expect(runs.map((r) => [r.trigger, r.status, r.interval.start])).toEqual([
      ['schedule', 'succeeded', iso('2026-11-01T04:30Z')],
      ['schedule', 'succeeded', iso('2026-11-01T11:30Z')],
    ]);
    expect(runs[0].latenessMs).toBe(Date.parse('2026-11-01T19:00Z') - Date.parse('2026-11-01T11:30Z'));

    clock.at += 5 * 60_000;
    expect(ranTicks(await trigger())).toEqual([]);
    // The next heartbeat arrives 3 hours late: only the one new interval runs.
    clock.at = Date.parse('2026-11-01T23:30Z') + 3 * HOUR_MS;
    expect(ranTicks(await trigger())).toEqual([iso('2026-11-01T23:30Z')]);
    expect((await ledger.listRuns({ pipeline: 'p', limit: 1 }))[0].latenessMs).toBe(3 * HOUR_MS);
  });

  it('catches up at most max_catchup intervals per trigger, oldest first, and the rest on the next one', async () => {
    const { trigger, status } = setup('{ cron: "17 6 * * *", timezone: Europe/Paris, catchup: all, max_catchup: 2, start_date: "2026-03-27" }', '2026-03-31T12:00Z');
    expect((await status()).due).toEqual({ count: 4, oldest: iso('2026-03-27T05:17Z') });
    const first = await trigger();
    // The 29th is the spring-forward day: its tick is 04:17 UTC, an hour earlier than the day before.
    expect(ranTicks(first)).toEqual([iso('2026-03-28T05:17Z'), iso('2026-03-29T04:17Z')]);
    expect(first).toMatchObject({ deferred: 2 });
    expect(ranTicks(await trigger())).toEqual([iso('2026-03-30T04:17Z'), iso('2026-03-31T04:17Z')]);
    expect(ranTicks(await trigger())).toEqual([]);
    expect(await status()).toMatchObject({ due: { count: 0 }, recentLateness: expect.arrayContaining([Date.parse('2026-03-31T12:00Z') - Date.parse('2026-03-31T04:17Z')]) });
  });

  it('records one skipped run per trigger of a paused pipeline and runs nothing; --force runs it', async () => {
    const { ledger, trigger, status } = setup('{ cron: "17 6 * * *", catchup: last }', '2026-06-06T09:00Z');
    await setPaused({ pipeline: 'p', paused: true, by: 'ada', reason: 'vendor outage' }, { ledger, now: () => new Date('2026-06-05T10:00Z') });
    const skipped = await trigger();
    expect(skipped).toMatchObject({ outcome: 'paused', record: { status: 'skipped', trigger: 'schedule', skipReason: 'paused by ada at 2026-06-05T10:00:00.000Z: vendor outage' } });
    const [skip] = await ledger.listRuns({ pipeline: 'p' });
    expect(skip.status).toBe('skipped');
    expect(summarizeErrors(skip)).toBe('paused by ada at 2026-06-05T10:00:00.000Z: vendor outage');
    await expect(assertNotPaused(ledger, 'p', false)).rejects.toThrow(PipelinePausedError);
    expect(await status()).toMatchObject({ paused: { by: 'ada', at: '2026-06-05T10:00:00.000Z', reason: 'vendor outage' }, due: { count: 1 } });
    await expect(assertNotPaused(ledger, 'p', true)).resolves.toBeUndefined();

    expect(ranTicks(await trigger({ force: true }))).toEqual([iso('2026-06-06T06:17Z')]);
    await setPaused({ pipeline: 'p', paused: false, by: 'bob' }, { ledger, now: () => new Date('2026-06-06T10:00Z') });
    expect(ranTicks(await trigger())).toEqual([]);
  });

  it('treats a trigger for an interval that already succeeded as a no-op unless forced', async () => {
    const { ledger, trigger } = setup('{ cron: "17 6 * * *", catchup: last }', '2026-06-06T09:00Z');
    const interval = { start: iso('2026-06-04T06:17Z'), end: iso('2026-06-05T06:17Z') };
    expect(ranTicks(await trigger({ interval }))).toEqual([interval.end]);
    expect(ranTicks(await trigger({ interval }))).toEqual([]);
    expect(ranTicks(await trigger({ interval, force: true }))).toEqual([interval.end]);
    expect(await ledger.listRuns({ pipeline: 'p', interval })).toHaveLength(2);
  });

  it('refuses a schedule with a start_date that is not a date, or a max_catchup below 1, naming the field', () => {
    const yaml = 'name: p\nschedule: { cron: "17 6 * * *", start_date: "last tuesday", max_catchup: 0 }\nstages:\n  one: { uses: sql, with: { query: select 1 } }\n';
    const { diagnostics } = loadPipelineSource(yaml, 'pipelines/p.yml', { kinds: defaultStageKinds(), fileExists: () => true });
    const errors = diagnostics.filter((d) => d.severity === 'error').map((d) => d.message).join('\n');
    expect(errors).toMatch(/start_date/);
    expect(errors).toMatch(/max_catchup/);
  });
});
