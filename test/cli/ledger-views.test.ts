/** `weir history` and `weir status` as a user reads them, driven through the real binary. */
import { describe, expect, it } from 'vitest';
import { project, weir } from './helpers.ts';

const BROKEN = `name: broken
stages:
  a:
    uses: sql
    with: { query: "select 1 as x" }
  b:
    uses: sql
    needs: [a]
    policy: { retries: 0 }
    with: { query: "select * from no_such_table" }
`;

const NIGHTLY = `name: nightly
schedule: { cron: "30 2 * * *", timezone: Asia/Tokyo }
stages:
  a: { uses: sql, with: { query: "select 1 as x" } }
`;

describe('weir history', () => {
  it("shows a failed stage's error code in the table and in a run's detail", async () => {
    const dir = project({ 'pipelines/broken.yml': BROKEN });
    expect((await weir(dir, ['run', 'broken'])).code).toBe(1);
    const table = await weir(dir, ['history', '--table']);
    expect(table.stdout).toMatch(/^run\s+pipeline\s+status.*\berror$/m);
    expect(table.stdout).toMatch(/broken\s+failed.*b: stage_failed/);
    const [record] = JSON.parse((await weir(dir, ['history', '--json'])).stdout);
    const detail = await weir(dir, ['history', record.runId, '--table']);
    expect(detail.stdout).toMatch(/^b\s+failed.*\[stage_failed\] .*no_such_table/m);
  });

  it('says a defined pipeline has no runs yet instead of refusing its name', async () => {
    const dir = project({ 'pipelines/nightly.yml': NIGHTLY });
    const result = await weir(dir, ['history', 'nightly', '--table']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("no runs of 'nightly' yet: start one with 'weir run nightly'");
  });

  it('refuses an ambiguous run-id prefix, listing the matching runs on indented lines', async () => {
    const dir = project({ 'pipelines/nightly.yml': NIGHTLY });
    expect((await weir(dir, ['run', 'nightly'])).code).toBe(0);
    expect((await weir(dir, ['run', 'nightly'])).code).toBe(0);
    const ids = JSON.parse((await weir(dir, ['history', '--json'])).stdout).map((r: { runId: string }) => r.runId);
    const result = await weir(dir, ['history', '20']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("run id prefix '20' matches 2 runs; give more of the id:");
    for (const id of ids) expect(result.stderr).toContain(`\n  ${id}`);
  });
});

describe('weir status', () => {
  it("filters to one pipeline and shows its cron's time zone", async () => {
    const dir = project({ 'pipelines/nightly.yml': NIGHTLY, 'pipelines/broken.yml': BROKEN });
    const table = await weir(dir, ['status', 'nightly', '--table']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('30 2 * * * (Asia/Tokyo)');
    expect(table.stdout).not.toContain('broken');
    const json = JSON.parse((await weir(dir, ['status', 'nightly', '--json'])).stdout);
    expect(json).toEqual([expect.objectContaining({ pipeline: 'nightly', schedule: '30 2 * * *', timezone: 'Asia/Tokyo' })]);
  });

  it('suggests the pipeline meant when the name is unknown', async () => {
    const dir = project({ 'pipelines/nightly.yml': NIGHTLY });
    const result = await weir(dir, ['status', 'nightlly']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no pipeline 'nightlly' (did you mean 'nightly'?)");
  });
});

describe('weir run --quiet', () => {
  it('names the pipeline on every line it prints', async () => {
    const dir = project({ 'pipelines/nightly.yml': NIGHTLY, 'pipelines/broken.yml': BROKEN });
    const result = await weir(dir, ['run', '--all', '--quiet']);
    expect(result.code).toBe(1);
    // A multi-line error message continues on indented lines.
    const lines = result.stdout.trim().split('\n').filter((line) => !line.startsWith(' '));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(line).toMatch(/^(broken|nightly): /);
    expect(result.stdout).toMatch(/^broken: ✖ b /m);
    expect(result.stdout).toMatch(/^nightly: ✔ succeeded in/m);
  });
});
