/**
 * Incremental processing through the real CLI: a watermark saved by one run is read by the next run's
 * SQL and moves only when a run succeeds; loads into a persistent DuckDB file never duplicate rows
 * when an interval runs again, also after a process killed with -9 just before the load commits, and
 * when two runs load at once; bad load settings exit 2 naming file, line and field, writing nothing.
 */
import { existsSync, writeFileSync, appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../../src/adapters/duckdb.ts';
import { FsLedgerStore } from '../../src/ledger/fs-ledger-store.ts';
import { project, weir } from '../cli/helpers.ts';

const PIPELINE = `name: orders
max_active_runs: 2
params:
  fail: { type: boolean, default: false }
stages:
  orders:
    uses: sql
    with:
      query: |
        select * from read_csv('data/orders.csv', types = {'updated_at': 'TIMESTAMP'})
        where updated_at > cast('{{ watermark.orders | default('1970-01-01') }}' as timestamp)
      watermark: { column: updated_at }
  daily:
    uses: load
    with:
      query: |
        select * from read_csv('data/orders.csv', types = {'updated_at': 'TIMESTAMP'})
        where updated_at >= '{{ interval.start_iso }}' and updated_at < '{{ interval.end_iso }}'
      database: warehouse/sales.duckdb
      target: daily
      mode: replace_interval
      time_column: updated_at
  latest:
    uses: load
    needs: [orders]
    with: { table: orders, database: warehouse/sales.duckdb, target: latest, mode: merge, key: [id] }
  verdict:
    uses: sql
    needs: [latest, daily]
    with: { query: "select case when {{ params.fail }} then error('failed on purpose') else 1 end as ok" }
`;

/** These tests start the CLI three or four times each: on a loaded machine that outlasts the default 20 s. */
const CLI_RUNS_TIMEOUT = 60_000;

const HEADER = 'id,amount,updated_at\n';
const DAY1 = '1,10,2026-01-01 05:00:00\n2,20,2026-01-01 07:00:00\n';
const DAY2 = '2,25,2026-01-02 08:00:00\n3,30,2026-01-02 09:00:00\n';

function newProject(): string {
  return project({ 'pipelines/orders.yml': PIPELINE, 'data/orders.csv': HEADER + DAY1 });
}

async function run(dir: string, args: string[], env: Record<string, string> = {}) {
  const result = await weir(dir, ['run', 'orders', '--json', ...args], env);
  return { ...result, json: result.stdout ? JSON.parse(result.stdout) : undefined };
}

async function watermark(dir: string): Promise<string | undefined> {
  return (await new FsLedgerStore(join(dir, '.weir', 'ledger')).readState('orders')).watermarks.orders;
}

/** Each target table's row count and an order-independent digest of its rows. */
async function warehouse(dir: string): Promise<Record<string, { rows: number; digest: string }>> {
  const db = await openDuckDb(':memory:');
  try {
    await db.exec(`ATTACH '${join(dir, 'warehouse/sales.duckdb')}' AS w (READ_ONLY)`);
    const out: Record<string, { rows: number; digest: string }> = {};
    for (const table of ['daily', 'latest']) {
      const [row] = await db.query(`SELECT count(*)::INTEGER AS rows, coalesce(sum(hash(id, amount, updated_at))::VARCHAR, '0') AS digest FROM w.main.${table}`);
      out[table] = row as { rows: number; digest: string };
    }
    return out;
  } finally {
    await db.close();
  }
}

async function expected(csv: string): Promise<{ rows: number; digest: string }> {
  const db = await openDuckDb(':memory:');
  try {
    await db.exec(`CREATE TABLE t AS SELECT * FROM (VALUES ${csv.trim().split('\n').map((l) => { const [id, amount, at] = l.split(','); return `(${id}, ${amount}, TIMESTAMP '${at}')`; }).join(', ')}) v(id, amount, updated_at)`);
    const [row] = await db.query(`SELECT count(*)::INTEGER AS rows, sum(hash(id::BIGINT, amount::BIGINT, updated_at))::VARCHAR AS digest FROM t`);
    return row as { rows: number; digest: string };
  } finally {
    await db.close();
  }
}

describe('watermarks across runs', () => {
  it('reads the watermark the previous run saved, and a failed run does not move it', async () => {
    const dir = newProject();
    const first = await run(dir, ['--date', '2026-01-01']);
    expect(first.code).toBe(0);
    expect(first.json.stages.orders.rows).toBe(2);
    expect(await watermark(dir)).toBe('2026-01-01 07:00:00');

    appendFileSync(join(dir, 'data/orders.csv'), DAY2);
    const failed = await run(dir, ['--date', '2026-01-02', '--param', 'fail=true']);
    expect(failed.code).toBe(1);
    // The failed run saw only the rows after the watermark, but saved nothing.
    expect(failed.json.stages.orders.rows).toBe(2);
    expect(await watermark(dir)).toBe('2026-01-01 07:00:00');

    const next = await run(dir, ['--date', '2026-01-02', '--force']);
    expect(next.code).toBe(0);
    expect(next.json.stages.orders.rows).toBe(2);
    expect(await watermark(dir)).toBe('2026-01-02 09:00:00');
    const quiet = await run(dir, ['--date', '2026-01-03']);
    expect(quiet.json.stages.orders.rows).toBe(0);
    // An empty table saves no watermark: the last one stays.
    expect(await watermark(dir)).toBe('2026-01-02 09:00:00');
  }, CLI_RUNS_TIMEOUT);
});

describe('idempotent loads through the CLI', () => {
  it('re-running an interval, after a kill -9 just before the load commits, leaves no duplicates', async () => {
    const dir = newProject();
    expect((await run(dir, ['--date', '2026-01-01'])).code).toBe(0);
    const loaded = await warehouse(dir);
    expect(loaded.daily).toEqual(await expected(DAY1));

    // Day 1 corrected at the source, then re-run and killed at the first commit (the daily load's).
    writeFileSync(join(dir, 'data/orders.csv'), `${HEADER}1,11,2026-01-01 05:00:00\n${DAY2}`);
    const killed = await run(dir, ['--date', '2026-01-01', '--force'], { WEIR_TEST_CRASH_AT: 'transaction-commit' });
    expect(killed.code).toBe(null);
    expect(await warehouse(dir)).toEqual(loaded);
    expect(existsSync(join(dir, 'warehouse/sales.duckdb.weir-lock'))).toBe(true);

    const again = await run(dir, ['--date', '2026-01-01', '--force']);
    expect(again.stderr).not.toMatch(/error/i);
    expect(again.code).toBe(0);
    expect(again.json.stages.daily.outputs).toMatchObject({ inserted: 1, replaced: 2 });
    const after = await warehouse(dir);
    expect(after.daily).toEqual(await expected('1,11,2026-01-01 05:00:00\n'));
    expect(after.latest).toEqual(await expected(`1,10,2026-01-01 05:00:00\n${DAY2}`));
    expect(readdirSync(join(dir, 'warehouse'))).toEqual(['sales.duckdb']);
  }, CLI_RUNS_TIMEOUT);

  it('two runs loading the same database at once both land, once each', async () => {
    const dir = newProject();
    appendFileSync(join(dir, 'data/orders.csv'), '3,30,2026-01-02 09:00:00\n');
    const [a, b] = await Promise.all([run(dir, ['--date', '2026-01-01']), run(dir, ['--date', '2026-01-02'])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect((await warehouse(dir)).daily).toEqual(await expected(`${DAY1}3,30,2026-01-02 09:00:00\n`));
  }, CLI_RUNS_TIMEOUT);
});

describe('bad load settings', () => {
  const bad = (withBlock: string) => `name: bad\nstages:\n  src:\n    uses: sql\n    with: { query: select 1 as id }\n  save:\n    uses: load\n    needs: [src]\n    with:\n${withBlock}`;

  it.each([
    ['a merge without key', '      table: src\n      database: w.duckdb\n      mode: merge\n', /pipelines\/bad\.yml:12:13: error WEIR302: .*mode merge needs key: the columns that identify a row, e.g\. key: \[order_id\]/],
    ['an unknown mode', '      table: src\n      database: w.duckdb\n      mode: upsert\n      key: [id]\n', /pipelines\/bad\.yml:12:13: error WEIR302: stages\.save\.with\.mode must be one of replace_interval, merge, got the string 'upsert'/],
    ['a target outside the project', '      table: src\n      database: ../outside/w.duckdb\n      mode: merge\n      key: [id]\n', /pipelines\/bad\.yml:11:17: error WEIR306: stage 'save' writes to '\.\.\/outside\/w\.duckdb', but .*: write inside the project, or list the folder under allow_write_paths: in weir\.yml/],
  ])('refuses %s with exit 2, naming file, line and field, and writes nothing', async (_, withBlock, message) => {
    const dir = project({ 'pipelines/bad.yml': bad(withBlock) });
    const result = await weir(dir, ['run', 'bad']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(readdirSync(dir)).toEqual(['pipelines']);
  });

  it('refuses a template reading the watermark of a stage that saves none', async () => {
    const source = `name: bad\nstages:\n  src:\n    uses: sql\n    with: { query: "select 1 as id where '{{ watermark.src }}' > ''" }\n`;
    const dir = project({ 'pipelines/bad.yml': source });
    const result = await weir(dir, ['validate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "pipelines/bad.yml:5:43: error WEIR509: template {{ watermark.src }} reads the watermark of stage 'src', which saves none: add watermark: { column: <column> } to the with: of 'src' (a sql stage), or read a stage that saves one",
    );
  });
});
