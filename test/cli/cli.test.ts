import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { spawn } from 'node:child_process';
import { BIN, project, weir } from './helpers.ts';

const GOOD = `name: sales
params:
  min_qty: { type: integer, default: 1 }
stages:
  orders:
    uses: sql
    with: { query: "select * from (values (1, 'a', 3), (2, 'b', 5), (3, 'a', 1)) t(id, sku, qty)" }
    checks: [ { unique: [id] }, { row_count: { min: 1 } } ]
  big:
    uses: sql
    needs: [orders]
    with: { query: "select * from orders where qty >= {{ params.min_qty }}" }
  by_sku:
    uses: sql
    needs: [big]
    with: { query: "select sku, sum(qty) as qty from big group by sku order by sku" }
  other:
    uses: sql
    needs: [orders]
    with: { query: "select count(*) as n from orders" }
`;

const FAILING = `name: broken-run
stages:
  a:
    uses: sql
    with: { query: "select 1 as x" }
  b:
    uses: sql
    needs: [a]
    with: { query: "select * from no_such_table" }
  c:
    uses: sql
    needs: [b]
    with: { query: "select 1" }
  d:
    uses: sql
    needs: [a]
    with: { query: "select 2 as y" }
`;

describe('weir validate', () => {
  it('accepts valid pipelines and exits 0', async () => {
    const dir = project({ 'pipelines/sales.yml': GOOD });
    const result = await weir(dir, ['validate']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('1 file checked: 0 errors, 0 warnings');
    expect(existsSync(join(dir, '.weir'))).toBe(false);
  });

  it('reports an unknown need with file, line, column and a suggestion, exits 2 and writes nothing', async () => {
    const dir = project({ 'pipelines/sales.yml': GOOD.replace('needs: [big]', 'needs: [bigg]') });
    const result = await weir(dir, ['validate', '--json']);
    expect(result.code).toBe(2);
    const output = JSON.parse(result.stdout);
    expect(output.ok).toBe(false);
    expect(output.diagnostics).toEqual([
      expect.objectContaining({ code: 'WEIR201', file: 'pipelines/sales.yml', line: 15, column: 13, message: expect.stringContaining("did you mean 'big'") }),
    ]);
    expect(existsSync(join(dir, '.weir'))).toBe(false);
  });

  it('prints the offending line under a human-readable diagnostic', async () => {
    const dir = project({ 'pipelines/x.yml': 'name: x\nstages:\n  a:\n    uses: sqll\n' });
    const result = await weir(dir, ['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pipelines/x.yml:4:11: error WEIR301');
    expect(result.stderr).toContain("did you mean 'sql'");
    expect(result.stderr).toMatch(/4 │ {5}uses: sqll\n\s+│ {11}\^{4}/);
  });
});

describe('weir plan', () => {
  it('prints the parallel levels', async () => {
    const dir = project({ 'pipelines/sales.yml': GOOD });
    const result = await weir(dir, ['plan', 'sales']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('sales: 4 stages in 3 levels');
    expect(result.stdout).toMatch(/level 1\n {2}big \(sql\) ← orders\n {2}other \(sql\) ← orders/);
  });

  it('names the known pipelines when asked for an unknown one', async () => {
    const dir = project({ 'pipelines/sales.yml': GOOD });
    const result = await weir(dir, ['plan', 'sale']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no pipeline 'sale' (did you mean 'sales'?)");
  });
});

describe('weir run', () => {
  it('runs a pipeline, records it in the ledger and shows it in history and status', async () => {
    const dir = project({ 'pipelines/sales.yml': GOOD });
    const run = await weir(dir, ['run', 'sales', '--param', 'min_qty=3']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✔ by_sku \S+ 2 rows/);
    expect(run.stdout).toMatch(/✔ succeeded in/);

    const history = await weir(dir, ['history', '--json']);
    const [record] = JSON.parse(history.stdout);
    expect(record).toMatchObject({ pipeline: 'sales', status: 'succeeded', params: { min_qty: 3 } });
    expect(record.stages.big).toMatchObject({ status: 'succeeded', rows: 2 });
    expect(record.stages.orders.checks).toHaveLength(2);

    const detail = await weir(dir, ['history', record.runId.slice(0, 18), '--table']);
    expect(detail.stdout).toContain(`run ${record.runId} · sales · succeeded`);
    // Not a terminal and no --table: JSON, for scripts.
    const piped = await weir(dir, ['history', record.runId]);
    expect(JSON.parse(piped.stdout)).toMatchObject({ runId: record.runId, status: 'succeeded' });
    const table = await weir(dir, ['history', '--table']);
    expect(table.stdout).toMatch(/^run\s+pipeline\s+status/);

    const status = await weir(dir, ['status', '--json']);
    expect(JSON.parse(status.stdout)).toEqual([expect.objectContaining({ pipeline: 'sales', lastRun: expect.objectContaining({ status: 'succeeded' }) })]);
  });

  it('exits 1 when a stage fails, skipping its downstream while the sibling branch finishes', async () => {
    const dir = project({ 'pipelines/broken-run.yml': FAILING });
    const run = await weir(dir, ['run', 'broken-run', '--json']);
    expect(run.code).toBe(1);
    const record = JSON.parse(run.stdout);
    expect(record.status).toBe('failed');
    expect(record.stages.b).toMatchObject({ status: 'failed', error: { code: 'stage_failed', message: expect.stringContaining('no_such_table') } });
    expect(record.stages.c).toMatchObject({ status: 'skipped', skipReason: 'upstream_failed' });
    expect(record.stages.d.status).toBe('succeeded');
  });

  it('refuses a bad param with exit 2 and writes nothing', async () => {
    const dir = project({ 'pipelines/sales.yml': GOOD });
    const run = await weir(dir, ['run', 'sales', '--param', 'min_qty=many']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("param 'min_qty' must be an integer, got 'many'");
    expect(existsSync(join(dir, '.weir'))).toBe(false);
  });

  it('refuses to run anything when one of the pipelines is invalid', async () => {
    const dir = project({ 'pipelines/sales.yml': GOOD, 'pipelines/bad.yml': 'name: bad\nstages: {}\n' });
    const run = await weir(dir, ['run', '--all']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('nothing was run');
    expect(existsSync(join(dir, '.weir'))).toBe(false);
  });

  it('reruns from a stage using the previous run tables', async () => {
    const dir = project({ 'pipelines/sales.yml': GOOD });
    const first = await weir(dir, ['run', 'sales', '--json']);
    expect(first.code).toBe(0);
    const rerun = await weir(dir, ['run', 'sales', '--from', 'by_sku', '--json']);
    expect(rerun.code).toBe(0);
    const record = JSON.parse(rerun.stdout);
    expect(record.stages.orders).toMatchObject({ status: 'reused', reusedFrom: JSON.parse(first.stdout).runId });
    expect(record.stages.by_sku).toMatchObject({ status: 'succeeded', rows: 2 });
  });

  it('exits 2 for an unknown command or option', async () => {
    const dir = project({});
    expect((await weir(dir, ['frobnicate'])).code).toBe(2);
    const bad = await weir(dir, ['run', '--nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option '--nope'");
  });

  it('leaves a readable record when the process is killed mid-run', async () => {
    const dir = project({
      'pipelines/slow.yml': `name: slow\nstages:\n  a:\n    uses: sql\n    with: { query: select 1 as x }\n  nap:\n    uses: command\n    needs: [a]\n    timeout: 60s\n    with: { run: 'echo $$ > started.tmp && mv started.tmp started && exec sleep 30' }\n`,
    });
    const child = spawn(process.execPath, [BIN, 'run', 'slow'], { cwd: dir, stdio: 'ignore' });
    // Wait until the command stage is running, then past the active-record save interval.
    while (!existsSync(join(dir, 'started'))) await new Promise((r) => setTimeout(r, 50));
    // The command runs in its own process group, which outlives weir's SIGKILL: end it with the test.
    const group = Number(readFileSync(join(dir, 'started'), 'utf8'));
    onTestFinished(() => {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    await new Promise((r) => setTimeout(r, 600));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const [record] = JSON.parse((await weir(dir, ['history', '--json'])).stdout);
    // Read-only views already see that its process is gone.
    expect(record).toMatchObject({ pipeline: 'slow', status: 'abandoned', stages: { a: { status: 'succeeded', rows: 1 }, nap: { status: 'running' } } });
  });

  it('keeps the run events as JSON lines beside the run database', async () => {
    const dir = project({ 'pipelines/sales.yml': GOOD });
    const run = JSON.parse((await weir(dir, ['run', 'sales', '--json'])).stdout);
    const events = readFileSync(join(dir, '.weir', 'runs', 'sales', run.runId, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0].type).toBe('run.started');
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
    expect(existsSync(join(dir, '.weir', 'runs', 'sales', run.runId, 'weir.duckdb'))).toBe(true);
  });
});
