/** `weir backfill` through the real CLI: each missing interval its own run, done ones skipped. */
import { describe, expect, it } from 'vitest';
import { project, weir } from '../cli/helpers.ts';

const DAILY = `name: daily
stages:
  stamp:
    uses: sql
    with: { query: "select '{{ interval.start }}' as day" }
`;

interface Run {
  runId: string;
  status: string;
  trigger: string;
  interval: { start: string; end: string };
}

async function history(dir: string): Promise<Run[]> {
  const result = await weir(dir, ['history', 'daily', '--json']);
  return result.code === 0 ? JSON.parse(result.stdout) : [];
}

describe('weir backfill', () => {
  it('runs each of 3 days as its own backfill run, then a second backfill runs none', async () => {
    const dir = project({ 'pipelines/daily.yml': DAILY });
    const first = await weir(dir, ['backfill', 'daily', '--from', '2025-01-01', '--to', '2025-01-03', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).runs.map((r: { record: Run }) => r.record.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const runs = await history(dir);
    expect(runs.map((r) => [r.interval.start.slice(0, 10), r.trigger]).sort()).toEqual([
      ['2025-01-01', 'backfill'],
      ['2025-01-02', 'backfill'],
      ['2025-01-03', 'backfill'],
    ]);
    const second = await weir(dir, ['backfill', 'daily', '--from', '2025-01-01', '--to', '2025-01-03', '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).runs).toEqual([]);
    expect(await history(dir)).toHaveLength(3);
  });

  it('--dry-run lists the missing intervals and what it would skip, writing nothing', async () => {
    const dir = project({ 'pipelines/daily.yml': DAILY });
    expect((await weir(dir, ['run', 'daily', '--date', '2025-01-01'])).code).toBe(0);
    expect((await weir(dir, ['run', 'daily', '--date', '2025-01-03'])).code).toBe(0);
    const [jan3, jan1] = await history(dir);
    const dry = await weir(dir, ['backfill', 'daily', '--from', '2025-01-01', '--to', '2025-01-04', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`2025-01-01T00:00:00.000Z .*skip: succeeded in run ${jan1.runId}`));
    expect(dry.stdout).toMatch(/2025-01-02T00:00:00.000Z .* run\n/);
    expect(dry.stdout).toMatch(new RegExp(`2025-01-03T00:00:00.000Z .*skip: succeeded in run ${jan3.runId}`));
    expect(dry.stdout).toMatch(/2025-01-04T00:00:00.000Z .* run\s*$/);
    expect(await history(dir)).toHaveLength(2);
  });

  it('--reprocess all runs every interval again, and --newest-first starts with the last one', async () => {
    const dir = project({ 'pipelines/daily.yml': DAILY });
    expect((await weir(dir, ['backfill', 'daily', '--from', '2025-01-01', '--to', '2025-01-02'])).code).toBe(0);
    const again = await weir(dir, ['backfill', 'daily', '--from', '2025-01-01', '--to', '2025-01-03', '--reprocess', 'all', '--newest-first', '--json']);
    expect(again.code).toBe(0);
    const ran: Run[] = JSON.parse(again.stdout).runs.map((r: { record: Run }) => r.record);
    expect(ran.map((r) => r.interval.start.slice(0, 10))).toEqual(['2025-01-03', '2025-01-02', '2025-01-01']);
    // Run ids sort by start time: the newest interval started first.
    expect([...ran].sort((a, b) => a.runId.localeCompare(b.runId)).map((r) => r.interval.start.slice(0, 10))).toEqual(['2025-01-03', '2025-01-02', '2025-01-01']);
    expect(await history(dir)).toHaveLength(5);
  });

  it('says why it runs one interval at a time when the pipeline allows one active run', async () => {
    const dir = project({ 'pipelines/daily.yml': DAILY });
    const result = await weir(dir, ['backfill', 'daily', '--from', '2025-01-01', '--to', '2025-01-02', '--max-parallel', '3']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/max_active_runs: 1.*1 at a time, not 3/);
  });

  it('exits 1 when an interval failed, and refuses a bad --reprocess with exit 2', async () => {
    const dir = project({ 'pipelines/daily.yml': `${DAILY}  check:\n    uses: command\n    needs: [stamp]\n    policy: { retries: 0 }\n    with: { run: 'test {{ interval.start | date }} != 2025-01-02' }\n` });
    const result = await weir(dir, ['backfill', 'daily', '--from', '2025-01-01', '--to', '2025-01-03', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).runs.map((r: { record: Run }) => r.record.status)).toEqual(['succeeded', 'failed', 'succeeded']);
    expect((await weir(dir, ['backfill', 'daily', '--from', '2025-01-01', '--to', '2025-01-03', '--reprocess', 'some'])).code).toBe(2);
  });
});
