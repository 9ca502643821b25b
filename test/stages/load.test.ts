/**
 * `uses: load` against real DuckDB files and real Parquet datasets: re-running an interval replaces
 * its slice (no duplicates: counts and a digest), a merge updates by key, a load that fails halfway
 * leaves the target as it was, and bad rows (outside the interval, repeated keys) are refused.
 */
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StageFailedError } from '../../src/model/errors.ts';
import { LoadWith, loadStage } from '../../src/stages/load.ts';
import { partitionValue } from '../../src/stages/load-parquet.ts';
import { createTestContext, type TestContext } from './context.ts';

let ctx: TestContext;
let interval = { start: '2026-01-01T00:00:00.000Z', end: '2026-01-02T00:00:00.000Z' };

beforeEach(async () => {
  ctx = await createTestContext({ stage: 'load_orders' });
  interval = { start: '2026-01-01T00:00:00.000Z', end: '2026-01-02T00:00:00.000Z' };
  // The engine renders {{ interval.* }}; the load reads its interval that way.
  ctx.render = (text) => text.replaceAll('{{ interval.start_iso }}', interval.start).replaceAll('{{ interval.end_iso }}', interval.end);
});
afterEach(() => ctx.dispose());

const load = (input: Record<string, unknown>) => loadStage.run(ctx, LoadWith.parse(input));

/** The run's `orders` table: one row per (id, amount, at). */
async function source(rows: [number, number, string][]): Promise<void> {
  const values = rows.map(([id, amount, at]) => `(${id}, ${amount}, TIMESTAMP '${at}')`).join(', ');
  await ctx.db.exec(`CREATE OR REPLACE TABLE orders AS SELECT * FROM (VALUES ${values}) t(id, amount, placed_at)`);
}

/** Row count and an order-independent digest of the rows `relation` holds. */
async function contents(relation: string): Promise<{ rows: number; digest: string }> {
  const [row] = await ctx.db.query(`SELECT count(*)::INTEGER AS rows, coalesce(sum(hash(id, amount, placed_at))::VARCHAR, '0') AS digest FROM ${relation}`);
  return row as { rows: number; digest: string };
}

const database = (table = 'orders') => `(SELECT * FROM weir_read.main.${table})`;
async function readDatabase<T>(work: () => Promise<T>): Promise<T> {
  await ctx.db.exec(`ATTACH '${join(ctx.root, 'warehouse/sales.duckdb')}' AS weir_read (READ_ONLY)`);
  try {
    return await work();
  } finally {
    await ctx.db.exec('DETACH weir_read');
  }
}
const dataset = () => `read_parquet('${join(ctx.root, 'warehouse/orders')}/**/*.parquet', hive_partitioning = true)`;

const DAY1: [number, number, string][] = [[1, 10, '2026-01-01 05:00:00'], [2, 20, '2026-01-01 07:00:00']];
const DAY2: [number, number, string][] = [[3, 30, '2026-01-02 08:00:00'], [4, 40, '2026-01-02 09:00:00'], [5, 50, '2026-01-02 23:59:59']];
const INTO_DB = { table: 'orders', database: 'warehouse/sales.duckdb', mode: 'replace_interval', time_column: 'placed_at' };

describe('load into a DuckDB database, mode replace_interval', () => {
  it('replaces the interval’s slice when the same interval is loaded twice: no duplicates', async () => {
    await source(DAY1);
    expect(await load(INTO_DB)).toMatchObject({ rows: 2, outputs: { inserted: 2, replaced: 0, where: 'warehouse/sales.duckdb#orders' } });
    const once = await readDatabase(() => contents(database()));
    expect(await load(INTO_DB)).toMatchObject({ rows: 2, outputs: { inserted: 2, replaced: 2 } });
    expect(await readDatabase(() => contents(database()))).toEqual(once);
    expect(once).toEqual(await contents('orders'));
    expect(existsSync(join(ctx.root, 'warehouse/sales.duckdb.weir-lock'))).toBe(false);
  });

  it('re-runs one of two loaded intervals with new rows and leaves the other one alone', async () => {
    await source(DAY1);
    await load(INTO_DB);
    interval = { start: '2026-01-02T00:00:00.000Z', end: '2026-01-03T00:00:00.000Z' };
    await source(DAY2);
    await load(INTO_DB);
    interval = { start: '2026-01-01T00:00:00.000Z', end: '2026-01-02T00:00:00.000Z' };
    const corrected: [number, number, string][] = [[1, 11, '2026-01-01 05:00:00']];
    await source(corrected);
    expect(await load({ ...INTO_DB, target: 'orders' })).toMatchObject({ outputs: { inserted: 1, replaced: 2 } });
    await source([...corrected, ...DAY2]);
    expect(await readDatabase(() => contents(database()))).toEqual(await contents('orders'));
  });

  it('leaves the target as it was when the insert fails after the delete (one transaction)', async () => {
    await source(DAY1);
    await load(INTO_DB);
    const before = await readDatabase(() => contents(database()));
    // Same slice, but `amount` no longer converts to the target's INTEGER: the insert fails after the delete ran.
    await ctx.db.exec(`CREATE OR REPLACE TABLE orders AS SELECT id, 'n/a' AS amount, placed_at FROM (VALUES (1, TIMESTAMP '2026-01-01 06:00:00')) t(id, placed_at)`);
    const failure = load(INTO_DB);
    await expect(failure).rejects.toBeInstanceOf(StageFailedError);
    await expect(failure).rejects.toThrow(/^could not load table orders into warehouse\/sales\.duckdb \(nothing was changed there\): Conversion Error/);
    expect(await readDatabase(() => contents(database()))).toEqual(before);
    expect(existsSync(join(ctx.root, 'warehouse/sales.duckdb.weir-lock'))).toBe(false);
  });

  it('refuses rows outside the interval, which a re-run would load twice, and changes nothing', async () => {
    await source([...DAY1, [9, 90, '2026-01-02 00:00:00']]);
    const failure = load(INTO_DB);
    await expect(failure).rejects.toThrow("1 row(s) of table orders have placed_at outside this run's interval [2026-01-01T00:00:00.000Z, 2026-01-02T00:00:00.000Z) or null");
    await expect(failure).rejects.toMatchObject({ permanent: true });
    expect(existsSync(join(ctx.root, 'warehouse/sales.duckdb'))).toBe(false);
  });

  it('places TIMESTAMPTZ rows by instant and TIMESTAMP rows by UTC wall time, whatever DuckDB’s TimeZone', async () => {
    await ctx.db.exec("SET GLOBAL TimeZone = 'America/New_York'");
    try {
      // 02:00 UTC on Jan 1 is 21:00 on Dec 31 in New York: still inside the UTC day.
      await ctx.db.exec(`CREATE TABLE zoned AS SELECT 1 AS id, 10 AS amount, TIMESTAMPTZ '2026-01-01 02:00:00+00' AS placed_at`);
      expect(await load({ ...INTO_DB, table: 'zoned', target: 'zoned' })).toMatchObject({ rows: 1 });
      expect(await load({ ...INTO_DB, table: 'zoned', target: 'zoned' })).toMatchObject({ outputs: { inserted: 1, replaced: 1 } });
      await source([[1, 10, '2026-01-01 02:00:00']]);
      expect(await load(INTO_DB)).toMatchObject({ rows: 1 });
    } finally {
      await ctx.db.exec("SET GLOBAL TimeZone = 'UTC'");
    }
  });

  it('asks for a DATE or TIMESTAMP time column', async () => {
    await ctx.db.exec(`CREATE TABLE texts AS SELECT 1 AS id, '2026-01-01' AS day`);
    await expect(load({ ...INTO_DB, table: 'texts', time_column: 'day' })).rejects.toThrow(/time_column must be a DATE or TIMESTAMP column \(cast it in the query\)/);
  });

  it('loads a query and drops the table it kept it in', async () => {
    await source(DAY1);
    expect(await load({ ...INTO_DB, table: undefined, query: 'SELECT * FROM orders WHERE id = 2;', target: 'big' })).toMatchObject({ rows: 1 });
    expect(await readDatabase(() => ctx.db.scalar('SELECT id FROM weir_read.main.big'))).toBe(2);
    expect(Number(await ctx.db.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '__weir_load%'"))).toBe(0);
  });
});

describe('load into a DuckDB database, mode merge', () => {
  const MERGE = { table: 'orders', database: 'warehouse/sales.duckdb', mode: 'merge', key: ['id'] };

  it('inserts new keys and replaces the rows of keys it loads again', async () => {
    await source(DAY1);
    await load(MERGE);
    await source([[2, 25, '2026-01-02 08:00:00'], [3, 30, '2026-01-02 09:00:00']]);
    expect(await load(MERGE)).toMatchObject({ outputs: { inserted: 2, replaced: 1 } });
    expect(await load(MERGE)).toMatchObject({ outputs: { inserted: 2, replaced: 2 } });
    const rows = await readDatabase(() => ctx.db.query('SELECT id, amount FROM weir_read.main.orders ORDER BY id'));
    expect(rows).toEqual([{ id: 1, amount: 10 }, { id: 2, amount: 25 }, { id: 3, amount: 30 }]);
  });

  it('refuses rows that repeat a key, naming the key and how to keep one row', async () => {
    await source([[1, 10, '2026-01-01 05:00:00'], [1, 11, '2026-01-01 06:00:00']]);
    await expect(load(MERGE)).rejects.toThrow(/1 key value\(s\) occur more than once in table orders \(key: \[id\]\); .* qualify row_number\(\) over \(partition by id/);
  });

  it('names a key column that does not exist', async () => {
    await source(DAY1);
    await expect(load({ ...MERGE, key: ['order_id'] })).rejects.toThrow(/cannot group table orders by key \[order_id\]: .*key must name columns of the loaded rows/);
  });
});

describe('load into a Parquet dataset', () => {
  const PARTS = { table: 'orders', dataset: 'warehouse/orders', mode: 'replace_interval' };

  it('writes one partition folder per interval and replaces it on a re-run: no duplicates', async () => {
    await source(DAY1);
    expect(await load(PARTS)).toMatchObject({ outputs: { where: 'warehouse/orders/dt=2026-01-01/data.parquet', inserted: 2, replaced: 0 } });
    interval = { start: '2026-01-02T00:00:00.000Z', end: '2026-01-03T00:00:00.000Z' };
    await source(DAY2);
    await load(PARTS);
    expect(await load(PARTS)).toMatchObject({ outputs: { inserted: 3, replaced: 3 } });
    await source([...DAY1, ...DAY2]);
    expect(await contents(dataset())).toEqual(await contents('orders'));
    expect((await readdir(join(ctx.root, 'warehouse/orders'))).sort()).toEqual(['dt=2026-01-01', 'dt=2026-01-02']);
    expect(await readdir(join(ctx.root, 'warehouse/orders/dt=2026-01-02'))).toEqual(['data.parquet']);
  });

  it('names partitions of sub-day intervals by their start instant without colons', () => {
    expect(partitionValue({ start: '2026-01-01T05:00:00.000Z', end: '2026-01-01T06:00:00.000Z' })).toBe('20260101T050000Z');
    expect(partitionValue({ start: '2026-01-05T00:00:00.000Z', end: '2026-01-12T00:00:00.000Z' })).toBe('2026-01-05');
    expect(partitionValue({ start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T12:00:00.000Z' })).toBe('20260101T000000Z');
  });

  it('checks rows against the interval when time_column is given', async () => {
    await source([[9, 90, '2025-12-31 23:00:00']]);
    await expect(load({ ...PARTS, time_column: 'placed_at', partition: 'day' })).rejects.toThrow(/1 row\(s\) of table orders have placed_at outside/);
    expect(existsSync(join(ctx.root, 'warehouse/orders/day=2026-01-01/data.parquet'))).toBe(false);
  });

  it('merges by key into one file rewritten whole', async () => {
    const MERGE = { table: 'orders', dataset: 'warehouse/orders', mode: 'merge', key: ['id'] };
    await source(DAY1);
    await load(MERGE);
    await source([[2, 25, '2026-01-02 08:00:00'], [3, 30, '2026-01-02 09:00:00']]);
    expect(await load(MERGE)).toMatchObject({ outputs: { where: 'warehouse/orders/data.parquet', inserted: 2, replaced: 1 } });
    expect(await ctx.db.query(`SELECT id, amount FROM ${dataset()} ORDER BY id`)).toEqual([{ id: 1, amount: 10 }, { id: 2, amount: 25 }, { id: 3, amount: 30 }]);
  });

  it('leaves the old partition file and no temporary file when writing fails', async () => {
    await source(DAY1);
    await load(PARTS);
    // What a load killed between writing and renaming leaves: removed by the next load of the folder.
    await writeFile(join(ctx.root, 'warehouse/orders/dt=2026-01-01/.data.parquet.run-killed.tmp'), 'partial');
    await load(PARTS);
    const before = await contents(dataset());
    const failure = load({ ...PARTS, table: undefined, query: "SELECT id, CAST('x' || amount AS INTEGER) AS amount, placed_at FROM orders" });
    await expect(failure).rejects.toThrow(/^could not load the query into warehouse\/orders \(nothing was changed there\): Conversion Error/);
    expect(await contents(dataset())).toEqual(before);
    expect(await readdir(join(ctx.root, 'warehouse/orders/dt=2026-01-01'))).toEqual(['data.parquet']);
  });
});

describe('load targets and write paths', () => {
  it('refuses a target outside the project and the allowed folders', async () => {
    await source(DAY1);
    await expect(load({ ...INTO_DB, database: '../elsewhere/sales.duckdb' })).rejects.toThrow(/with\.database '\.\.\/elsewhere\/sales\.duckdb' is outside the project/);
  });

  it('takes over a lock left by a process that is gone', async () => {
    await source(DAY1);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(ctx.root, 'warehouse'), { recursive: true });
    // pid 2^22+1 is above Linux's pid_max: no process has it.
    await writeFile(join(ctx.root, 'warehouse/sales.duckdb.weir-lock'), JSON.stringify({ pid: 4_194_305, host: (await import('node:os')).hostname() }));
    expect(await load(INTO_DB)).toMatchObject({ rows: 2 });
    expect(existsSync(join(ctx.root, 'warehouse/sales.duckdb.weir-lock'))).toBe(false);
  });
});

describe('load settings', () => {
  const issues = (input: Record<string, unknown>) => {
    const parsed = LoadWith.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('says what each mode and target needs', () => {
    expect(issues({ table: 't', database: 'w.duckdb', mode: 'merge' })).toEqual(['mode: mode merge needs key: the columns that identify a row, e.g. key: [order_id]']);
    expect(issues({ table: 't', database: 'w.duckdb', mode: 'replace_interval' })[0]).toMatch(/^mode: mode replace_interval into a database needs time_column/);
    expect(issues({ table: 't', mode: 'merge', key: ['id'] })[0]).toMatch(/^database: set exactly one of database .* or dataset/);
    expect(issues({ table: 't', dataset: 'd', mode: 'merge', key: ['id'], target: 'x' })).toEqual(['target: target names a table in a database; a dataset has none: remove it']);
    expect(issues({ table: 't', dataset: 'd', mode: 'replace_interval', key: ['id'] })).toEqual(['key: key is used by mode merge only: remove it, or set mode: merge']);
    expect(issues({ table: 't', dataset: 'd', mode: 'upsert' })[0]).toMatch(/^mode: /);
  });
});
