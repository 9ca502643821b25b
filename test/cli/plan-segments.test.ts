/** `weir plan --segments` through the real CLI: the three formats, and bad flags and files (exit 2, nothing on stdout). */
import { describe, expect, it } from 'vitest';
import { project, weir } from './helpers.ts';

const FANOUT = `name: fanout
stages:
  extract:
    uses: sql
    with: { query: "select range as id from range(10)" }
  customers:
    uses: sql
    with: { query: "select 1 as id", table: clients }
  clean:
    uses: sql
    needs: [extract, customers]
    with: { query: "select * from extract" }
  embed:
    uses: sql
    needs: [clean]
    runs-on: [self-hosted, gpu]
    shards: 2
    shard_by: id
    with: { query: "select * from clean" }
  load:
    uses: sql
    needs: [embed]
    with: { query: "select count(*) as n from embed" }
`;

describe('weir plan --segments', () => {
  it('prints one block per segment with its runner, stages, needs, tables and shards', async () => {
    const dir = project({ 'pipelines/fanout.yml': FANOUT });
    const result = await weir(dir, ['plan', 'fanout', '--segments']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('fanout: 5 stages in 3 segments, 4 jobs in the generated workflow');
    expect(result.stdout).toContain(
      [
        'segment embed',
        '  runs-on:  self-hosted, gpu',
        '  shards:   2 jobs, each over a part of clean (hash of id)',
        '  stages:   embed',
        '  needs:    extract',
        '  inputs:   extract from extract, clients (stage customers) from extract, clean from extract',
        '  outputs:  embed',
      ].join('\n'),
    );
    expect(result.stdout).toMatch(/segment extract\n {2}runs-on: {2}ubuntu-latest \(default\)\n {2}stages: {3}extract, customers, clean\n {2}needs: {4}-\n/);
  });

  it('adds the segments and the job matrix to the plan as JSON', async () => {
    const dir = project({ 'pipelines/fanout.yml': FANOUT });
    const result = await weir(dir, ['plan', 'fanout', '--segments', '--json']);
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan.pipeline).toBe('fanout');
    expect(plan.levels).toHaveLength(4);
    expect(plan.segments.map((s: { id: string }) => s.id)).toEqual(['extract', 'embed', 'load']);
    expect(plan.segments[1]).toEqual({
      id: 'embed',
      runnerLabels: ['self-hosted', 'gpu'],
      stages: ['embed'],
      needs: ['extract'],
      inputs: [
        { table: 'extract', stage: 'extract', segment: 'extract' },
        { table: 'clients', stage: 'customers', segment: 'extract' },
        { table: 'clean', stage: 'clean', segment: 'extract' },
      ],
      outputs: [{ table: 'embed', stage: 'embed', segment: 'embed' }],
      shards: { count: 2, by: 'id', table: 'clean' },
    });
    expect(plan.matrix.include).toEqual([
      { segment: 'extract', 'runs-on': 'ubuntu-latest', shard: 1, shards: 1 },
      { segment: 'embed', 'runs-on': ['self-hosted', 'gpu'], shard: 1, shards: 2 },
      { segment: 'embed', 'runs-on': ['self-hosted', 'gpu'], shard: 2, shards: 2 },
      { segment: 'load', 'runs-on': 'ubuntu-latest', shard: 1, shards: 1 },
    ]);
  });

  it('draws one Mermaid subgraph per segment with the edges between stages', async () => {
    const dir = project({ 'pipelines/fanout.yml': FANOUT });
    const result = await weir(dir, ['plan', 'fanout', '--segments', '--mermaid']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('flowchart LR');
    expect(lines.filter((l) => l.trimStart().startsWith('subgraph '))).toEqual([
      '  subgraph g0["extract · ubuntu-latest (default)"]',
      '  subgraph g1["embed · self-hosted, gpu · 2 shards"]',
      '  subgraph g2["load · ubuntu-latest (default)"]',
    ]);
    expect(lines.filter((l) => l.trim() === 'end')).toHaveLength(3);
    expect(lines).toContain('    s3["embed<br/><small>sql</small>"]');
    expect(lines.filter((l) => l.includes('-->'))).toEqual(['  s0 --> s2', '  s1 --> s2', '  s2 --> s3', '  s3 --> s4']);
  });

  it('marks the stages a selection leaves out', async () => {
    const dir = project({ 'pipelines/fanout.yml': FANOUT });
    const result = await weir(dir, ['plan', 'fanout', '--segments', '--from', 'embed']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('  stages:   extract (not selected), customers (not selected), clean (not selected)');
  });

  it('refuses --json with --mermaid, and flags it does not take, with exit 2 and nothing on stdout', async () => {
    const dir = project({ 'pipelines/fanout.yml': FANOUT });
    const both = await weir(dir, ['plan', 'fanout', '--segments', '--json', '--mermaid']);
    expect(both).toMatchObject({ code: 2, stdout: '' });
    expect(both.stderr).toContain("'weir plan' prints JSON or Mermaid, not both: pass --json or --mermaid");
    const typo = await weir(dir, ['plan', 'fanout', '--segmnts']);
    expect(typo).toMatchObject({ code: 2, stdout: '' });
    expect(typo.stderr).toContain("unknown option '--segmnts' (did you mean '--segments'?)");
    // --segment (one segment of a run) belongs to 'weir run', not to 'weir plan'.
    const runOption = await weir(dir, ['plan', 'fanout', '--segment', 'embed']);
    expect(runOption).toMatchObject({ code: 2, stdout: '' });
    const elsewhere = await weir(dir, ['validate', '--segments']);
    expect(elsewhere).toMatchObject({ code: 2, stdout: '' });
    expect(elsewhere.stderr).toContain("'weir validate' does not take --segments");
  });

  it('plans nothing for a sharded stage with no table to partition, naming the file, line and fix', async () => {
    const dir = project({ 'pipelines/fanout.yml': FANOUT.replace('    needs: [clean]\n', '') });
    const result = await weir(dir, ['plan', 'fanout', '--segments']);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(/pipelines\/fanout\.yml:\d+:5: error WEIR309: stage 'embed' has shards but none of the stages it needs produces a table to partition/);
    expect(result.stderr).toContain('nothing was planned');
  });
});
