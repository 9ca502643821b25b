/**
 * `uses: load` — load a table or query into a persistent target that outlives runs, idempotently:
 * a DuckDB database file (`database:`) or a Parquet dataset folder (`dataset:`), by interval
 * (`mode: replace_interval`, the run's slice is replaced) or by key (`mode: merge`, an upsert). A
 * retried or re-run interval never duplicates rows, and a load that fails leaves the target as it was.
 *
 * A kind of its own rather than more `export` options: export writes one file per run and owns it
 * whole; load changes part of something earlier runs wrote, and needs what export has no use for
 * (a mode, a key, a time column, a lock).
 */
import { z } from 'zod';
import { quoteIdent } from '../model/database.ts';
import { StageFailedError } from '../model/errors.ts';
import { PermanentStageError } from '../policies/errors.ts';
import { loadIntoDatabase } from './load-duckdb.ts';
import { loadIntoDataset } from './load-parquet.ts';
import type { StageContext, StageKind, StageResult } from './stage-kind.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const LoadWith = z
  .strictObject({
    table: z.string().min(1).optional().describe('Table of this run to load (this or query).'),
    query: z.string().min(1).optional().describe('SELECT whose result is loaded (this or table).'),
    database: z.string().min(1).optional().describe('DuckDB database file to load into, relative to the project root; created on the first load (this or dataset).'),
    dataset: z.string().min(1).optional().describe('Parquet dataset folder to load into, relative to the project root; created on the first load (this or database).'),
    target: z.string().min(1).optional().describe('Table in the database to load into, created from the first load\'s rows. Default: with.table, else the stage name.'),
    mode: z
      .enum(['replace_interval', 'merge'])
      .describe("replace_interval: replace the rows of this run's interval; merge: insert rows, replacing those with the same key."),
    time_column: z.string().min(1).optional().describe("replace_interval: the DATE/TIMESTAMP column that places a row in an interval; required with database. Rows outside the run's interval fail the stage."),
    partition: z.string().regex(NAME, 'must be a plain name such as dt').optional().describe('replace_interval into a dataset: the partition folder name, <partition>=<interval start>/. Default: dt.'),
    key: z.array(z.string().min(1)).min(1).optional().describe('merge: the columns that identify a row (required with merge).'),
  })
  .superRefine((w, ctx) => {
    const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if ((w.table === undefined) === (w.query === undefined)) fail('table', 'set exactly one of table (a table of this run) or query (a SELECT) to load');
    if ((w.database === undefined) === (w.dataset === undefined)) fail('database', 'set exactly one of database (a DuckDB file, e.g. warehouse/sales.duckdb) or dataset (a Parquet folder, e.g. warehouse/sales)');
    if (w.mode === 'merge' && w.key === undefined) fail('mode', 'mode merge needs key: the columns that identify a row, e.g. key: [order_id]');
    if (w.mode !== 'merge' && w.key !== undefined) fail('key', 'key is used by mode merge only: remove it, or set mode: merge');
    if (w.mode === 'replace_interval' && w.database !== undefined && w.time_column === undefined) {
      fail('mode', "mode replace_interval into a database needs time_column: the column that places a row in an interval, e.g. time_column: ordered_at");
    }
    if (w.mode === 'merge' && w.time_column !== undefined) fail('time_column', 'time_column is used by mode replace_interval only: remove it');
    if (w.partition !== undefined && (w.mode !== 'replace_interval' || w.dataset === undefined)) fail('partition', 'partition names the folders of a dataset loaded with mode replace_interval: remove it');
    if (w.target !== undefined && w.dataset !== undefined) fail('target', 'target names a table in a database; a dataset has none: remove it');
  });
export type LoadWith = z.infer<typeof LoadWith>;

/** What a load did, for the log, the ledger and `{{ stages.<name>.outputs.* }}`. */
export interface LoadOutcome {
  /** Rows written. */
  inserted: number;
  /** Rows of the target that were replaced (the interval's old slice, or rows with a loaded key). */
  replaced: number;
  /** Where, e.g. `warehouse/sales.duckdb#sales` or `warehouse/sales/dt=2026-01-01/data.parquet`. */
  where: string;
}

/** The rows to load, named once: a query is kept as a table of the run for the load's length. */
export interface LoadSource {
  /** Quoted name of the relation holding the rows. */
  relation: string;
  /** How messages name it. */
  label: string;
}

/** This run's interval, [start, end) as ISO instants. */
export interface LoadInterval {
  start: string;
  end: string;
}

export const loadStage: StageKind<LoadWith> = {
  name: 'load',
  summary: 'Load a table into a persistent DuckDB database or Parquet dataset by interval or by key, idempotently.',
  with: LoadWith,
  producesTable: false,
  isRetriable(error) {
    const message = (error as Error | undefined)?.message ?? '';
    // Another program has the database file open: it may be gone on the next attempt.
    if (/Could not set lock on file/.test(message)) return true;
    return /\b(Parser|Binder|Catalog|Conversion|Constraint|Invalid Input) Error\b/.test(message) ? false : undefined;
  },
  run: runLoad,
};

async function runLoad(ctx: StageContext, config: LoadWith): Promise<StageResult> {
  const interval = { start: ctx.render('{{ interval.start_iso }}'), end: ctx.render('{{ interval.end_iso }}') };
  const staged = config.query === undefined ? undefined : `__weir_load_${ctx.stage.replaceAll('-', '_')}`;
  const source: LoadSource = staged
    ? { relation: quoteIdent(staged), label: 'the query' }
    : { relation: quoteIdent(config.table!), label: `table ${config.table}` };
  const targetPath = config.database ?? config.dataset!;
  try {
    if (staged) await ctx.db.exec(`CREATE OR REPLACE TABLE ${source.relation} AS ${config.query!.trim().replace(/;+$/, '')}`, ctx.signal);
    const outcome = config.database !== undefined
      ? await loadIntoDatabase(ctx, config, source, interval)
      : await loadIntoDataset(ctx, config, source, interval);
    ctx.log.info(`loaded ${outcome.inserted} rows into ${outcome.where} (${config.mode}; ${outcome.replaced} rows replaced)`);
    return { rows: outcome.inserted, outputs: { path: targetPath, mode: config.mode, inserted: outcome.inserted, replaced: outcome.replaced, where: outcome.where } };
  } catch (error) {
    if (ctx.signal.aborted || error instanceof StageFailedError) throw error;
    throw new StageFailedError(`could not load ${source.label} into ${targetPath} (nothing was changed there): ${(error as Error).message}`, { cause: error, stage: ctx.stage });
  } finally {
    if (staged) await ctx.db.exec(`DROP TABLE IF EXISTS ${source.relation}`).catch(() => undefined);
  }
}

/** A failure the same rows would meet again: the stage is not retried. */
export function refuse(ctx: StageContext, message: string): never {
  throw new PermanentStageError(`stage '${ctx.stage}': ${message} — not retried`, { stage: ctx.stage });
}

/**
 * `col >= … AND col < …` over this run's interval, its bounds typed like the column: instants for a
 * TIMESTAMPTZ column, UTC wall times for a DATE or TIMESTAMP one, so DuckDB's TimeZone setting (the
 * machine's zone) never shifts the slice.
 */
export async function intervalCondition(ctx: StageContext, source: LoadSource, column: string, interval: LoadInterval): Promise<string> {
  const col = quoteIdent(column);
  let type: string;
  try {
    const [described] = await ctx.db.query(`DESCRIBE SELECT ${col} FROM ${source.relation}`, ctx.signal);
    type = String(described?.column_type ?? '');
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    refuse(ctx, `time_column '${column}' is not a column of ${source.label}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!/^(DATE|TIMESTAMP)/.test(type)) refuse(ctx, `time_column '${column}' of ${source.label} is ${type}; time_column must be a DATE or TIMESTAMP column (cast it in the query)`);
  const bound = (iso: string) => (type === 'TIMESTAMP WITH TIME ZONE' ? `TIMESTAMPTZ '${new Date(iso).toISOString()}'` : `TIMESTAMP '${new Date(iso).toISOString().slice(0, 19).replace('T', ' ')}'`);
  return `${col} >= ${bound(interval.start)} AND ${col} < ${bound(interval.end)}`;
}

/** Refuses rows the slice would not cover: a re-run replaces only the interval's rows, so others would be loaded twice. */
export async function assertInsideInterval(ctx: StageContext, source: LoadSource, column: string, interval: LoadInterval): Promise<string> {
  const inside = await intervalCondition(ctx, source, column, interval);
  const outside = Number(await ctx.db.scalar(`SELECT count(*) FROM ${source.relation} WHERE ${quoteIdent(column)} IS NULL OR NOT (${inside})`, ctx.signal));
  if (outside === 0) return inside;
  refuse(
    ctx,
    `${outside} row(s) of ${source.label} have ${column} outside this run's interval [${interval.start}, ${interval.end}) or null; a re-run replaces only the interval's rows, so these would be loaded twice: ` +
      `keep only the interval's rows (where ${column} >= '{{ interval.start_iso }}' and ${column} < '{{ interval.end_iso }}'), or use mode: merge`,
  );
}

/** Refuses a merge whose rows repeat a key: which of them should win is not the loader's guess. */
export async function assertUniqueKeys(ctx: StageContext, source: LoadSource, key: readonly string[]): Promise<void> {
  const columns = key.map(quoteIdent).join(', ');
  let repeated: number;
  try {
    repeated = Number(await ctx.db.scalar(`SELECT count(*) FROM (SELECT ${columns} FROM ${source.relation} GROUP BY ALL HAVING count(*) > 1)`, ctx.signal));
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    refuse(ctx, `cannot group ${source.label} by key [${key.join(', ')}]: ${(error as Error).message.split('\n')[0]}; key must name columns of the loaded rows`);
  }
  if (repeated === 0) return;
  refuse(
    ctx,
    `${repeated} key value(s) occur more than once in ${source.label} (key: [${key.join(', ')}]); a merge keeps one row per key: ` +
      `keep one row per key in the query, e.g. qualify row_number() over (partition by ${key.join(', ')} order by updated_at desc) = 1`,
  );
}

/** `a IS NOT DISTINCT FROM b AND …` over the key columns: a null key matches a null key. */
export function keyMatch(key: readonly string[], left: string, right: string): string {
  return key.map((column) => `${left}.${quoteIdent(column)} IS NOT DISTINCT FROM ${right}.${quoteIdent(column)}`).join(' AND ');
}
