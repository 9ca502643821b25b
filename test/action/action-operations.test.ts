/** Operations from workflow_dispatch (weir-control.yml): backfill, pause and unpause through the bundled Action. */
import { describe, expect, it } from 'vitest';
import { runBundle, tempFolder } from './bundle-runner.ts';

const PIPELINE = `name: daily
schedule: { cron: "0 6 * * *", catchup: last }
stages:
  a: { uses: sql, with: { query: "select '{{ run.date }}' as day" } }
`;

describe('operations from workflow_dispatch', { timeout: 120_000 }, () => {
  it('pause records who and why; a scheduled run of a paused pipeline records a skip; unpause lets it run', async () => {
    const workspace = tempFolder({ 'pipelines/daily.yml': PIPELINE });
    const env = { GITHUB_ACTOR: 'octocat' };
    const noReason = await runBundle(workspace, { inputs: { command: 'pause', pipeline: 'daily' }, env });
    expect(noReason.code).not.toBe(0);
    expect(noReason.stdout).toMatch(/command: pause needs input 'reason'/);

    const paused = await runBundle(workspace, { inputs: { command: 'pause', pipeline: 'daily', reason: 'vendor outage' }, env });
    expect(paused.code, paused.stdout).toBe(0);
    expect(paused.outputs.status).toBe('paused');
    expect(paused.summary).toMatch(/daily: paused by octocat \(vendor outage\)/);

    const scheduled = await runBundle(workspace, { inputs: { command: 'run', pipeline: 'daily' }, env: { GITHUB_EVENT_NAME: 'schedule' } });
    expect(scheduled.code, scheduled.stdout).toBe(0);
    expect(scheduled.stdout).toMatch(/daily: paused \(paused by octocat at .*: vendor outage\); recorded skipped run/);

    const unpaused = await runBundle(workspace, { inputs: { command: 'unpause', pipeline: 'daily' }, env });
    expect(unpaused.outputs.status).toBe('unpaused');
    const after = await runBundle(workspace, { inputs: { command: 'run', pipeline: 'daily' }, env: { GITHUB_EVENT_NAME: 'schedule' } });
    expect(after.code, after.stdout).toBe(0);
    expect(after.outputs.status).toBe('succeeded');
  });

  it('backfill: the dry run lists each interval and runs nothing; the real one runs the missing intervals, each its own run', async () => {
    const workspace = tempFolder({ 'pipelines/daily.yml': PIPELINE });
    const dry = await runBundle(workspace, { inputs: { command: 'backfill', pipeline: 'daily', from: '2026-11-01', to: '2026-11-03', 'dry-run': 'true' } });
    expect(dry.code, dry.stdout).toBe(0);
    expect(dry.outputs.status).toBe('planned');
    expect(dry.summary).toMatch(/3 intervals, 3 to run \(dry run: nothing ran\)/);
    expect(dry.summary.match(/\| run \|/g)).toHaveLength(3);

    const real = await runBundle(workspace, { inputs: { command: 'backfill', pipeline: 'daily', from: '2026-11-01', to: '2026-11-03', reprocess: 'missing' } });
    expect(real.code, real.stdout).toBe(0);
    expect(real.outputs.status).toBe('succeeded');
    expect(real.outputs['run-id'].split(',')).toHaveLength(3);
    expect(real.summary.match(/succeeded \(run /g)).toHaveLength(3);

    // The same range again: nothing is missing any more.
    const again = await runBundle(workspace, { inputs: { command: 'backfill', pipeline: 'daily', from: '2026-11-01', to: '2026-11-03', 'dry-run': 'true', reprocess: 'missing' } });
    expect(again.summary).toMatch(/3 intervals, 0 to run/);
  });

  it('refuses bad operation inputs with the input named, running nothing', async () => {
    const workspace = tempFolder({ 'pipelines/daily.yml': PIPELINE });
    const badDate = await runBundle(workspace, { inputs: { command: 'backfill', pipeline: 'daily', from: '2026-13-01', to: '2026-11-03' } });
    expect(badDate.stdout).toMatch(/::error::weir: from '2026-13-01' is not a date/);
    const badMode = await runBundle(workspace, { inputs: { command: 'backfill', pipeline: 'daily', from: '2026-11-01', to: '2026-11-03', reprocess: 'some' } });
    expect(badMode.stdout).toMatch(/input 'reprocess': 'some' is not one of missing, failed, all/);
    const noRange = await runBundle(workspace, { inputs: { command: 'backfill', pipeline: 'daily' } });
    expect(noRange.stdout).toMatch(/backfill needs from/);
    const badDry = await runBundle(workspace, { inputs: { command: 'backfill', pipeline: 'daily', from: '2026-11-01', to: '2026-11-03', 'dry-run': 'yes' } });
    expect(badDry.stdout).toMatch(/input 'dry-run': 'yes' is not true or false/);
  });
});
