/**
 * The distributed path process by process: `weir plan --handoff` in one folder, each segment (and
 * shard) with `weir run --segment` in a folder of its own, as separate runners would, `weir finalize`
 * in another; they share only the hand-off folder. The result must be what one process gives.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { project, weir } from '../cli/helpers.ts';
import { FANOUT_FILES, tableDigest } from './fixtures.ts';

const GPU = { WEIR_GPU: '1' };

function runner(): string {
  const dir = project(FANOUT_FILES);
  chmodSync(join(dir, 'scripts/embed.sh'), 0o755);
  return dir;
}

function handoffDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-handoff-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The run folder a segment job left (`.weir/runs/fanout/<run id>.<segment>[.shard-i]`). */
function segmentDb(dir: string, runId: string, part: string): string {
  return join(dir, '.weir', 'runs', 'fanout', `${runId}.${part}`, 'weir.duckdb');
}

interface Planned {
  runId: string;
  segments: { id: string; runnerLabels: string[]; stages: string[]; needs: string[]; shards?: { count: number } }[];
  matrix: { include: { segment: string; 'runs-on': string | string[]; shard: number; shards: number }[] };
}

async function plan(handoff: string, env: Record<string, string> = {}): Promise<Planned> {
  const result = await weir(runner(), ['plan', 'fanout', '--handoff', handoff, '--date', '2026-11-30', '--json'], env);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Planned;
}

// Each test starts 5 to 12 CLI processes.
describe('a run split into segments, process by process', { timeout: 90_000 }, () => {
  it('gives the tables one process gives, and one whole run record with each stage once and its runner labels', async () => {
    const single = runner();
    const one = await weir(single, ['run', 'fanout', '--date', '2026-11-30', '--json'], GPU);
    expect(one.code, one.stderr).toBe(0);
    const oneRecord = JSON.parse(one.stdout) as { runId: string };

    const handoff = handoffDir();
    const planned = await plan(handoff);
    expect(planned.segments.map((s) => s.id)).toEqual(['docs', 'topics', 'embed', 'rank', 'summary']);
    expect(planned.matrix.include.filter((e) => e.segment === 'embed').map((e) => `${e.shard}/${e.shards}`)).toEqual(['1/3', '2/3', '3/3']);

    const dirs: Record<string, string> = {};
    for (const entry of planned.matrix.include) {
      const part = entry.shards > 1 ? `${entry.segment}.shard-${entry.shard}` : entry.segment;
      dirs[part] = runner();
      const args = ['run', 'fanout', '--segment', entry.segment, '--handoff', handoff, ...(entry.shards > 1 ? ['--shard', `${entry.shard}/${entry.shards}`] : [])];
      const result = await weir(dirs[part], args, GPU);
      expect(result.code, `${part}: ${result.stdout}${result.stderr}`).toBe(0);
    }
    const final = runner();
    const finalized = await weir(final, ['finalize', planned.runId, '--handoff', handoff, '--json']);
    expect(finalized.code, finalized.stderr).toBe(0);
    const record = JSON.parse(finalized.stdout);

    // The tables: identical to the one-process run (rows and digest), none lost or doubled by the shards.
    const singleDb = join(single, '.weir', 'runs', 'fanout', oneRecord.runId, 'weir.duckdb');
    expect(await tableDigest(segmentDb(dirs.summary, planned.runId, 'summary'), 'summary')).toEqual(await tableDigest(singleDb, 'summary'));
    expect(await tableDigest(segmentDb(dirs.rank, planned.runId, 'rank'), 'rank')).toEqual(await tableDigest(singleDb, 'rank'));
    const shardRows = await Promise.all([1, 2, 3].map(async (i) => (await tableDigest(segmentDb(dirs[`embed.shard-${i}`], planned.runId, `embed.shard-${i}`), 'vectors')).rows));
    expect(shardRows.reduce((a, b) => a + b, 0)).toBe(1200);
    expect(shardRows.every((n) => n > 250 && n < 550)).toBe(true);

    // The record: every stage once, succeeded, with its segment and runner labels; the shards summed.
    expect(record.status).toBe('succeeded');
    expect(Object.keys(record.stages).sort()).toEqual(['docs', 'embed', 'rank', 'summary', 'topics']);
    expect(record.stages.embed).toMatchObject({ status: 'succeeded', rows: 1200, segment: 'embed', runnerLabels: ['self-hosted', 'gpu'], outputs: { shards: 3 } });
    expect(record.stages.embed.outputs.rows_by_shard).toEqual(shardRows);
    expect(record.stages.rank).toMatchObject({ status: 'succeeded', rows: 1200, runnerLabels: ['highmem'] });
    expect(record.stages.docs).toMatchObject({ status: 'succeeded', rows: 1200, runnerLabels: [] });
    expect(record.segments.map((s: { segment: string; shard?: number; status: string }) => `${s.segment}${s.shard ? `#${s.shard}` : ''}:${s.status}`)).toEqual([
      'docs:succeeded', 'topics:succeeded', 'embed#1:succeeded', 'embed#2:succeeded', 'embed#3:succeeded', 'rank:succeeded', 'summary:succeeded',
    ]);
    // Recorded in the finalize folder's ledger; finalizing again writes nothing.
    const history = await weir(final, ['history', planned.runId, '--json']);
    expect(JSON.parse(history.stdout)).toMatchObject({ runId: planned.runId, status: 'succeeded' });
    const again = await weir(final, ['finalize', planned.runId, '--handoff', handoff]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already recorded \(succeeded\); nothing written/);
  });

  it('a failing shard fails the run: what depends on it is skipped, finalize still records it, no state is committed', async () => {
    const handoff = handoffDir();
    const planned = await plan(handoff);
    const at = runner();
    for (const id of ['docs', 'topics']) expect((await weir(at, ['run', 'fanout', '--segment', id, '--handoff', handoff], GPU)).code).toBe(0);
    for (const shard of [1, 2, 3]) {
      const result = await weir(runner(), ['run', 'fanout', '--segment', 'embed', '--shard', `${shard}/3`, '--handoff', handoff], { ...GPU, FAIL_SHARD: '2' });
      expect(result.code, result.stderr).toBe(shard === 2 ? 1 : 0);
    }
    // The next segment refuses to start on a failed upstream shard (in Actions its job is skipped).
    const rank = await weir(runner(), ['run', 'fanout', '--segment', 'rank', '--handoff', handoff], GPU);
    expect(rank.code).toBe(1);
    expect(rank.stderr).toMatch(/shard 2\/3 of segment 'embed' of run .* failed: segment 'rank' needs its tables/);

    const final = runner();
    const finalized = await weir(final, ['finalize', '--handoff', handoff, '--json']);
    expect(finalized.code).toBe(1);
    const record = JSON.parse(finalized.stdout);
    expect(record.runId).toBe(planned.runId);
    expect(record.status).toBe('failed');
    expect(record.stages.embed.status).toBe('failed');
    expect(record.stages.embed.error.message).toMatch(/^shard 2\/3: script scripts\/embed.sh exited with code 3/);
    expect(record.stages.rank).toMatchObject({ status: 'skipped', skipReason: 'upstream_failed' });
    expect(record.stages.summary).toMatchObject({ status: 'skipped', skipReason: 'upstream_skipped' });
    expect(record.stages.docs.status).toBe('succeeded');
    expect(record.segments.filter((s: { status: string }) => s.status === 'missing').map((s: { segment: string }) => s.segment)).toEqual(['rank', 'summary']);
    expect(record.commit).toBeUndefined();
    const history = await weir(final, ['history', planned.runId, '--json']);
    expect(JSON.parse(history.stdout).status).toBe('failed');
    // Nothing re-ran: finalizing again writes nothing.
    const unchanged = await weir(final, ['finalize', '--handoff', handoff]);
    expect(unchanged.stdout).toMatch(/already recorded \(failed\)/);

    // Re-run only what failed (GitHub's "re-run failed jobs"): shard 2, then what was skipped behind it.
    const rerun = await weir(runner(), ['run', 'fanout', '--segment', 'embed', '--shard', '2/3', '--handoff', handoff], GPU);
    expect(rerun.code, rerun.stderr).toBe(0);
    for (const id of ['rank', 'summary']) expect((await weir(runner(), ['run', 'fanout', '--segment', id, '--handoff', handoff], GPU)).code).toBe(0);
    const second = await weir(final, ['finalize', '--handoff', handoff, '--json']);
    expect(second.code, second.stderr).toBe(0);
    const attempt = JSON.parse(second.stdout);
    expect(attempt).toMatchObject({ status: 'succeeded', retryOf: planned.runId, attempt: 2, trigger: 'retry' });
    expect(attempt.runId).not.toBe(planned.runId);
    expect(attempt.stages.embed).toMatchObject({ status: 'succeeded', rows: 1200 });
    // The parts that had succeeded were reused as they were: same hosts and finish times as in the first attempt.
    const reused = (r: { segments: { segment: string; shard?: number; finishedAt: string }[] }) => r.segments.filter((x) => x.segment === 'docs' || (x.segment === 'embed' && x.shard !== 2)).map((x) => x.finishedAt);
    expect(reused(attempt)).toEqual(reused(record));
    const attempts = await weir(final, ['history', planned.runId, '--table']);
    expect(attempts.stdout).toContain(attempt.runId);
  });

  it('a segment whose job never reported is recorded as lost, and its downstream skipped', async () => {
    const handoff = handoffDir();
    await plan(handoff);
    const at = runner();
    for (const id of ['docs', 'topics']) expect((await weir(at, ['run', 'fanout', '--segment', id, '--handoff', handoff], GPU)).code).toBe(0);
    // embed's jobs never ran (a lost runner): finalize still records the run.
    const finalized = await weir(runner(), ['finalize', '--handoff', handoff, '--json']);
    expect(finalized.code).toBe(1);
    const record = JSON.parse(finalized.stdout);
    expect(record.stages.embed.status).toBe('failed');
    expect(record.stages.embed.error).toMatchObject({ code: 'abandoned' });
    expect(record.stages.embed.error.message).toMatch(/never reported/);
    expect(record.stages.rank.status).toBe('skipped');
    expect(finalized.stderr).toMatch(/part\(s\) never reported: embed.shard-1, embed.shard-2, embed.shard-3, rank, summary/);
  });

  it('refuses bad input before anything runs: an unknown segment, a wrong shard, a changed pipeline, no hand-off', async () => {
    const handoff = handoffDir();
    await plan(handoff);
    const dir = runner();
    const unknown = await weir(dir, ['run', 'fanout', '--segment', 'nope', '--handoff', handoff], GPU);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--segment 'nope' is not a segment of .*fanout.yml; its segments: docs, topics, embed, rank, summary/);
    const noShard = await weir(dir, ['run', 'fanout', '--segment', 'embed', '--handoff', handoff], GPU);
    expect(noShard.code).toBe(2);
    expect(noShard.stderr).toMatch(/runs as 3 shards: give --shard <i>\/3/);
    const badShard = await weir(dir, ['run', 'fanout', '--segment', 'embed', '--shard', '4/3', '--handoff', handoff], GPU);
    expect(badShard.code).toBe(2);
    expect(badShard.stderr).toMatch(/--shard '4\/3' is not a shard/);
    const noHandoff = await weir(dir, ['run', 'fanout', '--segment', 'docs'], GPU);
    expect(noHandoff.code).toBe(2);
    expect(noHandoff.stderr).toMatch(/needs --handoff <dir>/);
    const withParam = await weir(dir, ['run', 'fanout', '--segment', 'docs', '--handoff', handoff, '--param', 'a=1'], GPU);
    expect(withParam.code).toBe(2);
    expect(withParam.stderr).toMatch(/--param does not apply to a segment/);
    // A runner that checked out another version of the pipeline.
    const changed = project({ ...FANOUT_FILES, 'pipelines/fanout.yml': FANOUT_FILES['pipelines/fanout.yml'].replace('range(1, 1201)', 'range(1, 1202)') });
    const stale = await weir(changed, ['run', 'fanout', '--segment', 'docs', '--handoff', handoff], GPU);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/fanout.yml changed after run .* was planned/);
    // A gate cannot park a run split into jobs.
    const gated = project({ 'pipelines/gated.yml': 'name: gated\nstages:\n  a: { uses: sql, with: { query: "select 1 as x" } }\n  wait: { uses: gate, needs: a, with: { condition: "flags.ready == true" } }\n  b: { uses: command, needs: wait, runs-on: gpu, with: { run: "true" } }\n' });
    const refused = await weir(gated, ['plan', 'gated', '--handoff', handoffDir()]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/stage 'wait' is a gate: a run split into segments cannot park on a gate yet/);
    // Nothing was handed on by the refused jobs.
    const runDir = readdirSync(handoff)[0];
    expect(existsSync(join(handoff, runDir, 'parts'))).toBe(false);
  });
});
