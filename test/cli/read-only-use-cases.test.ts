/**
 * The read-only use cases the CLI renders, against an in-memory ledger: their results are data,
 * so every case is checked without spawning the CLI.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AmbiguousRunIdError } from '../../src/ledger/errors.ts';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RunQuery } from '../../src/ledger/ledger-store.ts';
import type { RunRecord } from '../../src/ledger/run-record.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { readHistory } from '../../src/use-cases/history.ts';
import { readStatus } from '../../src/use-cases/status.ts';

function run(runId: string, pipeline: string, status: RunRecord['status'] = 'succeeded'): RunRecord {
  return { runId, pipeline, status, trigger: 'manual', params: {}, interval: { start: 'a', end: 'b' }, startedAt: runId, stages: {} };
}

function memoryLedger(records: RunRecord[]) {
  return {
    pipelines: async () => [...new Set(records.map((r) => r.pipeline))].sort(),
    listRuns: async (query: RunQuery = {}) =>
      records
        .filter((r) => query.pipeline === undefined || r.pipeline === query.pipeline)
        .filter((r) => query.status === undefined || r.status === query.status)
        .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
        .slice(0, query.limit),
    getRun: async (prefix: string) => {
      const matches = records.filter((r) => r.runId.startsWith(prefix)).sort((a, b) => b.runId.localeCompare(a.runId));
      const exact = matches.find((r) => r.runId === prefix);
      if (!exact && matches.length > 1) throw new AmbiguousRunIdError(prefix, matches.map((r) => r.runId));
      return exact ?? matches[0];
    },
  };
}

const RUNS = [run('20261122T061700Z-aaaa', 'daily'), run('20261122T061700Z-aaab', 'daily', 'failed'), run('20261123T061700Z-bbbb', 'weekly', 'cancelled')];

describe('readHistory', () => {
  const deps = { ledger: memoryLedger(RUNS), isPipeline: async (name: string) => name === 'hourly' };

  it('lists runs newest first, for all pipelines or one, up to the limit', async () => {
    expect(await readHistory({ limit: 2 }, deps)).toEqual({ kind: 'runs', runs: [RUNS[2], RUNS[1]] });
    expect(await readHistory({ target: 'daily', limit: 20 }, deps)).toMatchObject({ kind: 'runs', runs: [{ pipeline: 'daily' }, { pipeline: 'daily' }] });
  });

  it('finds one run by a unique prefix, and refuses an ambiguous one with the matches', async () => {
    expect(await readHistory({ target: '20261123', limit: 20 }, deps)).toEqual({ kind: 'run', run: RUNS[2] });
    expect(await readHistory({ target: '20261122T061700Z-aa', limit: 20 }, deps)).toEqual({
      kind: 'ambiguous',
      target: '20261122T061700Z-aa',
      matches: ['20261122T061700Z-aaab', '20261122T061700Z-aaaa'],
    });
  });

  it('lists no runs for a defined pipeline that never ran, and says what is unknown otherwise', async () => {
    expect(await readHistory({ target: 'hourly', limit: 20 }, deps)).toEqual({ kind: 'runs', runs: [] });
    expect(await readHistory({ target: 'nope', limit: 20 }, deps)).toEqual({ kind: 'not_found', target: 'nope', pipelines: ['daily', 'weekly'] });
  });
});

describe('readStatus', () => {
  it("gives each pipeline's schedule, time zone, last run and next tick from the injected clock", async () => {
    const root = mkdtempSync(join(tmpdir(), 'weir-status-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'pipelines'));
    writeFileSync(join(root, 'pipelines', 'daily.yml'), 'name: daily\nschedule: { cron: "0 6 * * *", timezone: Europe/Paris }\nstages:\n  a: { uses: sql, with: { query: select 1 } }\n');
    const deps = { ledger: memoryLedger(RUNS), clock: () => new Date('2026-11-24T12:00:00Z'), kinds: defaultStageKinds() };
    const result = await readStatus({ root, pipeline: 'daily' }, deps);
    expect(result).toEqual({
      ok: true,
      pipelines: [
        {
          pipeline: 'daily',
          schedule: '0 6 * * *',
          timezone: 'Europe/Paris',
          lastRun: { runId: '20261122T061700Z-aaab', status: 'failed', startedAt: '20261122T061700Z-aaab' },
          lastSuccess: '20261122T061700Z-aaaa',
          nextTick: '2026-11-25T05:00:00.000Z',
          // catch-up issue: the latest interval (catchup: last) has no succeeded run.
          due: { count: 1, oldest: '2026-11-23T05:00:00.000Z' },
        },
      ],
    });
    expect(await readStatus({ root, pipeline: 'dayly' }, deps)).toMatchObject({ ok: false, message: expect.stringContaining("(did you mean 'daily'?)") });
  });
});
