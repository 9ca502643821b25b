import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsLedgerStore } from '../../src/ledger/fs-ledger-store.ts';
import { runBundle, tempFolder } from './bundle-runner.ts';

const DAY_MS = 86_400_000;
const SCHEDULE_EVENT = { GITHUB_EVENT_NAME: 'schedule', GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567', GITHUB_REF: 'refs/heads/main', GITHUB_RUN_ID: '77', GITHUB_RUN_ATTEMPT: '1' };

describe('command: run on a cron event, as the runner runs dist/index.js', () => {
  it('runs each due interval of a scheduled pipeline as its own run, and a second cron event runs nothing', async () => {
    const start = new Date(Date.now() - 3 * DAY_MS).toISOString().slice(0, 10);
    const workspace = tempFolder({
      'pipelines/daily.yml': `name: daily\nschedule: { cron: "17 6 * * *", catchup: all, start_date: "${start}" }\nstages:\n  one: { uses: sql, with: { query: select 1 as id } }\n`,
    });
    const first = await runBundle(workspace, { inputs: { command: 'run', pipeline: 'daily' }, env: SCHEDULE_EVENT });
    expect(first.code).toBe(0);
    const runs = await new FsLedgerStore(join(workspace, '.weir', 'ledger')).listRuns({ pipeline: 'daily' });
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.every((r) => r.trigger === 'schedule' && r.status === 'succeeded' && r.tick === r.interval.end)).toBe(true);
    expect(first.outputs['run-id'].split(',')).toHaveLength(runs.length);

    const second = await runBundle(workspace, { inputs: { command: 'run', pipeline: 'daily' }, env: SCHEDULE_EVENT });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('daily: nothing due');
    expect(await new FsLedgerStore(join(workspace, '.weir', 'ledger')).listRuns({ pipeline: 'daily' })).toHaveLength(runs.length);
  });
});
