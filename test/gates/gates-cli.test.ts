/**
 * Gates through the real CLI, one process per command as an operator (or a workflow) would run them:
 * a run parks and its process exits 0; `weir flags set` in another process; the next `weir run` in a
 * third process resumes the same run without running the finished upstream stages again. Bad input
 * exits 2 naming the file, line and fix, with nothing written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, weir } from '../cli/helpers.ts';

const DOCS = `name: docs
stages:
  extract:
    uses: command
    with: { run: 'echo x >> upstream.log' }
  wait_ready:
    uses: gate
    needs: [extract]
    with: { condition: "flags.pdf_ir_ready == true", timeout: 2d }
  publish:
    uses: sql
    needs: [wait_ready]
    with: { query: "select 1 as n" }
    sets: { published: true }
`;

const lines = (dir: string) => readFileSync(join(dir, 'upstream.log'), 'utf8').trim().split('\n').length;

describe('weir run with a gate, across processes', () => {
  it('parks (exit 0, history waiting), resumes in another process after weir flags set, and never re-runs upstream', async () => {
    const dir = project({ 'pipelines/docs.yml': DOCS });
    const parked = await weir(dir, ['run', 'docs']);
    expect(parked.code).toBe(0);
    expect(parked.stdout).toMatch(/⏸ wait_ready waiting: waiting for flags\.pdf_ir_ready == true/);
    expect(parked.stdout).toMatch(/⏸ parked after .*, waiting on wait_ready/);
    const [waiting] = JSON.parse((await weir(dir, ['history', 'docs', '--json'])).stdout);
    expect(waiting).toMatchObject({ status: 'waiting', waitingOn: ['wait_ready'], stages: { extract: { status: 'succeeded' }, wait_ready: { status: 'waiting' }, publish: { status: 'pending' } } });
    expect((await weir(dir, ['history', 'docs', '--table'])).stdout).toMatch(/docs\s+waiting/);
    const [status] = JSON.parse((await weir(dir, ['status', 'docs', '--json'])).stdout);
    expect(status.lastRun).toMatchObject({ runId: waiting.runId, status: 'waiting' });

    const set = await weir(dir, ['flags', 'set', 'pdf_ir_ready=true', '--pipeline', 'docs'], { USER: 'ada' });
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('flags set (pipeline docs) by ada: pdf_ir_ready=true');
    expect(set.stdout).toContain(`run ${waiting.runId} of 'docs' is parked on wait_ready: the next 'weir run docs'`);

    const resumed = await weir(dir, ['run', 'docs']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`▶ resuming parked run ${waiting.runId} (manual)`);
    expect(resumed.stdout).toMatch(/✔ succeeded/);
    expect(lines(dir)).toBe(1);
    const [done] = JSON.parse((await weir(dir, ['history', 'docs', '--json'])).stdout);
    expect(done).toMatchObject({ runId: waiting.runId, status: 'succeeded', stages: { publish: { status: 'succeeded' } } });

    const flags = JSON.parse((await weir(dir, ['flags', 'docs', '--json'])).stdout);
    expect(flags.map((f: { name: string; value: unknown; by: string }) => [f.name, f.value, f.by])).toEqual([
      ['pdf_ir_ready', true, 'ada'],
      ['published', true, `run ${waiting.runId}`],
    ]);
    const unset = await weir(dir, ['flags', 'unset', 'published', '--pipeline', 'docs']);
    expect(unset.code).toBe(0);
    expect((await weir(dir, ['flags', 'docs', '--table'])).stdout).not.toContain('published');
  }, 90_000);
});

describe('weir flags set from several processes at once', () => {
  it("loses no update: every process's flag is there afterwards", async () => {
    const dir = project({ 'pipelines/docs.yml': DOCS });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => weir(dir, ['flags', 'set', `f${i}=${i}`, '--pipeline', 'docs', '--key', 'doc/1'])));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    const flags = JSON.parse((await weir(dir, ['flags', 'docs', '--json'])).stdout);
    expect(flags.map((f: { name: string; key: string; value: unknown }) => [f.name, f.key, f.value])).toEqual(Array.from({ length: 6 }, (_, i) => [`f${i}`, 'doc/1', i]));
  }, 60_000);
});

describe('bad gate and flag input', () => {
  it('refuses a gate without a condition, a condition on an unknown name and a sets: entry with value and sql: exit 2 with file:line, nothing run', async () => {
    const dir = project({
      'pipelines/bad.yml': `name: bad
stages:
  a:
    uses: command
    with: { run: 'echo x >> upstream.log' }
    sets: { x: { value: 1, sql: "select 1" } }
  g:
    uses: gate
    needs: [a]
    with: { timeout: 2d }
  h:
    uses: gate
    with: { condition: "flag.x == true" }
`,
    });
    const result = await weir(dir, ['run', 'bad']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("pipelines/bad.yml:6:16: error WEIR101: stages.a.sets.x: give exactly one of value or sql");
    expect(result.stderr).toContain("pipelines/bad.yml:10:11: error WEIR302: missing required field 'condition' in stages.g.with: add it");
    expect(result.stderr).toMatch(/pipelines\/bad\.yml:13:\d+: error WEIR302: .*condition: unknown name 'flag': templates can use .*, and flags \(in a gate\)/);
    expect(existsSync(join(dir, 'upstream.log'))).toBe(false);
    expect(existsSync(join(dir, '.weir'))).toBe(false);
  });

  it.each([
    [['flags', 'set', 'ready'], "'ready' is not <name>=<value>"],
    [['flags', 'set', '1ready=true'], "flag name '1ready' is not valid"],
    [['flags', 'unset', 'ready=true'], "'weir flags unset' takes names, not 'ready=true'"],
    [['flags', 'set', 'ready=true', '--pipeline', 'nope'], "no pipeline 'nope'"],
    [['flags', 'set'], "'weir flags set' needs at least one flag"],
  ])('weir %j exits 2 saying what to do, and writes no flag', async (args, message) => {
    const dir = project({ 'pipelines/docs.yml': DOCS });
    const result = await weir(dir, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(existsSync(join(dir, '.weir', 'ledger', '.flags'))).toBe(false);
  });
});
