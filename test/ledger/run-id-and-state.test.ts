import { describe, expect, it, onTestFinished } from 'vitest';
import { abandonRun, latestRecord } from '../../src/ledger/abandon-run.ts';
import { compareRunIds, newRunId, sortNewestFirst, tryParseRunId } from '../../src/ledger/run-id.ts';
import { applyCommit, type CommittedRun, emptyPipelineState, foldCommits, laterWatermark } from '../../src/model/state.ts';
import { activeRun, files, owner, runEvents } from './ledger-fixtures.ts';

describe('run ids', () => {
  it('encode the start time to the millisecond and a random suffix', () => {
    const id = newRunId(Date.parse('2026-12-01T15:04:05.123Z'), () => '3f9a1c');
    expect(id).toBe('20261201T150405.123Z-3f9a1c');
    expect(tryParseRunId(id)).toEqual({ startedAtMs: Date.parse('2026-12-01T15:04:05.123Z'), day: '2026-12/01', suffix: '3f9a1c' });
    expect(newRunId(0)).toMatch(/^19700101T000000\.000Z-[0-9a-f]{6}$/);
  });

  it('parse and sort first-format ids among new ones by start time', () => {
    expect(tryParseRunId('20261201T150405Z-ab12')).toEqual({ startedAtMs: Date.parse('2026-12-01T15:04:05.000Z'), day: '2026-12/01', suffix: 'ab12' });
    const ids = ['20261201T150405.500Z-aaaaaa', '20261201T150405Z-ab12', '20261201T150404.999Z-ffffff', 'imported', '20261201T150406Z-0000'];
    expect(sortNewestFirst(ids)).toEqual(['20261201T150406Z-0000', '20261201T150405.500Z-aaaaaa', '20261201T150405Z-ab12', '20261201T150404.999Z-ffffff', 'imported']);
    expect(compareRunIds('20261201T150405Z-ab12', '20261201T150405.001Z-00')).toBeLessThan(0);
    expect(tryParseRunId('r1')).toBeUndefined();
  });
});

describe('state as a fold of commits', () => {
  it('keeps the later watermark: numerically for numbers, else in string (ISO) order', () => {
    expect(laterWatermark('9', '10')).toBe('10');
    expect(laterWatermark('10', '9')).toBe('10');
    expect(laterWatermark('2026-11-02T00:00:00Z', '2026-11-01T00:00:00Z')).toBe('2026-11-02T00:00:00Z');
    expect(laterWatermark('b', 'a')).toBe('b');
  });

  it('gives the same state whatever order the commits are applied in, and applying one twice changes nothing', () => {
    const commits: CommittedRun[] = [
      { runId: 'r1', at: '2026-11-01T00:00:00Z', commit: { processedFiles: files('a', 'shared'), watermarks: { n: '5' } } },
      { runId: 'r2', at: '2026-11-02T00:00:00Z', commit: { processedFiles: files('b', 'shared'), watermarks: { n: '12' } } },
      { runId: 'r3', at: '2026-11-03T00:00:00Z', commit: { processedFiles: files('c'), watermarks: { n: '7', m: 'x' } } },
    ];
    const inOrder = foldCommits(emptyPipelineState(), commits);
    let reversed = emptyPipelineState();
    for (const c of [...commits].reverse()) reversed = applyCommit(reversed, c.commit, c.runId, c.at);
    expect(reversed).toEqual(inOrder);
    expect(foldCommits(inOrder, commits)).toEqual(inOrder);
    expect(inOrder.watermarks).toEqual({ n: '12', m: 'x' });
    expect(inOrder.processedFiles.shared.runId).toBe('r1');
  });
});

describe('closing a dead run', () => {
  it('cancels unfinished stages and names the dead process and what to do', () => {
    const run = { ...activeRun('r1', owner('r1', 77)), startedAt: '2026-11-02T06:00:00.000Z' };
    const closed = abandonRun(run, Date.parse('2026-11-02T06:00:10.000Z'));
    expect(closed).toMatchObject({ status: 'abandoned', finishedAt: '2026-11-02T06:00:10.000Z', durationMs: 10_000, stages: { a: { status: 'cancelled' }, b: { status: 'cancelled' } } });
    expect(closed.stages.a.attempts[0].finishedAt).toBe('2026-11-02T06:00:10.000Z');
    expect(closed.error).toMatchObject({ code: 'abandoned', name: 'AbandonedError' });
    expect(closed.error?.message).toBe("run r1 of 'p' was abandoned: its process (pid 77 on host test-host) died without finishing it; rerun the pipeline (weir run p)");
  });

  it('trusts the events when they got further than the saved record, and the record otherwise', () => {
    const saved = activeRun('r1', owner('r1', 77));
    expect(latestRecord(saved, runEvents('r1', {}, 4)).stages.b.status).toBe('running');
    expect(latestRecord(saved, runEvents('r1', {}, 4)).owner).toEqual(owner('r1', 77));
    expect(latestRecord(saved, runEvents('r1', {}, 1))).toBe(saved);
    expect(latestRecord(saved, undefined)).toBe(saved);
  });
});

describe('killing a dead run’s process group', () => {
  it('kills a live group and accepts one that is already gone', async () => {
    const { spawn } = await import('node:child_process');
    const { killProcessGroup } = await import('../../src/ledger/owner-liveness.ts');
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    onTestFinished(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
    const exited = new Promise((done) => child.on('exit', (_code, signal) => done(signal)));
    killProcessGroup(child.pid!);
    expect(await exited).toBe('SIGKILL');
    expect(() => killProcessGroup(child.pid!)).not.toThrow();
  });
});
