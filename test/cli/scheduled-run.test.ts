import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/ledger/run-record.ts';
import { project, weir } from './helpers.ts';

const DAY_MS = 86_400_000;

/** A daily pipeline that catches up every interval since five days ago. */
function scheduledProject(): string {
  const start = new Date(Date.now() - 5 * DAY_MS).toISOString().slice(0, 10);
  return project({
    'pipelines/daily.yml': `name: daily
schedule: { cron: "17 6 * * *", timezone: Europe/Paris, catchup: all, start_date: "${start}" }
stages:
  one:
    uses: sql
    with: { query: "select 1 as id" }
`,
  });
}

async function history(dir: string): Promise<RunRecord[]> {
  return JSON.parse((await weir(dir, ['history', 'daily', '--json'])).stdout) as RunRecord[];
}

describe('weir run --trigger schedule', () => {
  it('runs each due interval once as its own scheduled run, and a second trigger in a row runs nothing', async () => {
    const dir = scheduledProject();
    const first = await weir(dir, ['run', 'daily', '--trigger', 'schedule', '--quiet']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const runs = await history(dir);
    expect(runs.length).toBeGreaterThanOrEqual(4);
    expect(runs.every((r) => r.status === 'succeeded' && r.trigger === 'schedule')).toBe(true);
    expect(new Set(runs.map((r) => r.interval.start)).size).toBe(runs.length);
    for (const run of runs) {
      expect(run.tick).toBe(run.interval.end);
      expect(run.latenessMs).toBe(Date.parse(run.startedAt) - Date.parse(run.tick!));
    }

    const second = await weir(dir, ['run', 'daily', '--trigger', 'schedule']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('daily: nothing due');
    expect(await history(dir)).toHaveLength(runs.length);
  });

  it('records a skipped run for a paused pipeline, refuses a manual run without --force, and runs again once unpaused', async () => {
    const dir = scheduledProject();
    const paused = await weir(dir, ['pause', 'daily', '--reason', 'source API down'], { USER: 'ada', GITHUB_ACTOR: '' });
    expect(paused.code).toBe(0);
    expect(paused.stdout).toContain('daily: paused by ada (source API down)');

    const [status] = JSON.parse((await weir(dir, ['status', 'daily', '--json'])).stdout);
    expect(status).toMatchObject({ paused: { by: 'ada', reason: 'source API down' }, due: { count: expect.any(Number) } });
    expect((await weir(dir, ['status', 'daily', '--table'])).stdout).toMatch(/paused[\s\S]*by ada: source API down/);

    const trigger = await weir(dir, ['run', 'daily', '--trigger', 'schedule']);
    expect(trigger.code).toBe(0);
    expect(trigger.stdout).toContain('daily: paused (paused by ada at');
    const [skip] = await history(dir);
    expect(skip).toMatchObject({ status: 'skipped', trigger: 'schedule', stages: {} });
    expect(skip.skipReason).toMatch(/^paused by ada at .*: source API down$/);

    const manual = await weir(dir, ['run', 'daily']);
    expect(manual.code).toBe(2);
    expect(manual.stderr).toContain("pipeline 'daily' is paused since");
    expect(manual.stderr).toContain("run 'weir unpause daily', or pass --force");
    expect(await history(dir)).toHaveLength(1);

    const forced = await weir(dir, ['run', 'daily', '--force', '--quiet']);
    expect(forced.code).toBe(0);
    expect(await history(dir)).toHaveLength(2);

    expect((await weir(dir, ['unpause', 'daily'], { USER: 'bob' })).code).toBe(0);
    await weir(dir, ['run', 'daily', '--trigger', 'schedule', '--quiet']);
    const after = await history(dir);
    expect(after.filter((r) => r.trigger === 'schedule' && r.status === 'succeeded').length).toBeGreaterThanOrEqual(4);
  });

  it('refuses an unknown trigger and pause without a reason', async () => {
    const dir = scheduledProject();
    const trigger = await weir(dir, ['run', 'daily', '--trigger', 'cron']);
    expect(trigger.code).toBe(2);
    expect(trigger.stderr).toContain("--trigger 'cron' is not a trigger");
    const pause = await weir(dir, ['pause', 'daily']);
    expect(pause.code).toBe(2);
    expect(pause.stderr).toContain('needs --reason');
  });
});
