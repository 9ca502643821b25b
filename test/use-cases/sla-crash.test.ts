/**
 * A scheduled run killed with SIGKILL right after it started past its SLA (through the
 * WEIR_TEST_CRASH_AT seam, never by timing): the breach was in its event log before the kill, so
 * the recovered record keeps it. The interval is from January: its start is months past its tick.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, project, weir } from '../cli/helpers.ts';

const PIPELINE = `name: p
schedule: { cron: "17 6 * * *", catchup: all, start_date: "2026-01-01", max_catchup: 1 }
sla: 1m
stages:
  one: { uses: sql, with: { query: "select 1 as n" } }
`;

function runKilledAt(dir: string, step: string): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', 'p', '--trigger', 'schedule'], { cwd: dir, stdio: 'ignore', env: { ...process.env, WEIR_TEST_CRASH_AT: step } });
    child.once('exit', (_code, signal) => resolve(signal));
  });
}

describe('an SLA breach of a run that is killed', () => {
  it('is kept by the recovered record, and the next trigger runs the interval again with its own breach', async () => {
    const dir = project({ 'pipelines/p.yml': PIPELINE });
    expect(await runKilledAt(dir, 'active-saved')).toBe('SIGKILL');
    const [dead] = JSON.parse((await weir(dir, ['history', 'p', '--json'])).stdout);
    expect(dead).toMatchObject({ status: 'abandoned', tick: '2026-01-02T06:17:00.000Z', slaBreaches: [{ scope: 'start', slaMs: 60_000 }] });
    expect(dead.slaBreaches[0].elapsedMs).toBe(dead.latenessMs);

    const next = await weir(dir, ['run', 'p', '--trigger', 'schedule', '--json']);
    expect(next.code, next.stderr).toBe(0);
    const runs = JSON.parse((await weir(dir, ['history', 'p', '--json'])).stdout) as { status: string; tick: string; slaBreaches?: { scope: string }[] }[];
    expect(runs.map((r) => [r.status, r.tick, r.slaBreaches?.map((b) => b.scope)])).toEqual([
      ['succeeded', '2026-01-02T06:17:00.000Z', ['start']],
      ['abandoned', '2026-01-02T06:17:00.000Z', ['start']],
    ]);
  });
});
