/**
 * `uses: sql` — DuckDB SQL, inline or from a file, with templating. By default the query's result
 * becomes a table named after the stage (CREATE OR REPLACE), so later stages can select from it.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { quoteIdent } from '../model/database.ts';
import { StageFailedError } from '../model/errors.ts';
import { PermanentStageError } from '../policies/errors.ts';
import type { FileReference, StageKind } from './stage-kind.ts';
import { readWatermark, WatermarkWith } from './watermark.ts';

const SqlConfig = z
  .strictObject({
    query: z.string().min(1).optional().describe('SQL text, or a path ending in .sql (relative to the project root).'),
    file: z.string().min(1).optional().describe('Path of a .sql file (relative to the project root).'),
    table: z.string().min(1).optional().describe('Table to create. Default: the stage name.'),
    materialize: z
      .enum(['table', 'view', 'none'])
      .default('table')
      .describe("table: CREATE OR REPLACE TABLE AS the query; view: a view; none: run the SQL as a script. Default: table."),
    watermark: WatermarkWith.optional(),
  })
  .refine((c) => (c.query === undefined) !== (c.file === undefined), 'give exactly one of query or file')
  .refine((c) => c.watermark === undefined || c.materialize !== 'none', {
    message: 'a watermark is read from the table the stage creates, and materialize: none creates none: use materialize: table (or view), or remove watermark',
    path: ['watermark'],
  });
export type SqlConfig = z.infer<typeof SqlConfig>;

const DETERMINISTIC_ERROR = /\b(Parser|Binder|Catalog|Conversion|Constraint|Invalid Input|Not implemented|Dependency) Error\b/;

/** A `query` that is a single word ending in .sql names a file rather than holding SQL. */
function queryFile(config: SqlConfig): string | undefined {
  if (config.file) return config.file;
  const query = config.query?.trim();
  return query && /^[^\s;]+\.sql$/i.test(query) ? query : undefined;
}

/** A SELECT wrapped in CREATE … AS must not end in `;` or carry more statements. */
function asSingleQuery(sql: string): string {
  return sql.trim().replace(/;+\s*$/, '');
}

/** A missing or unreadable SQL file stays missing on a retry: permanent. */
async function readSqlFile(root: string, file: string): Promise<string> {
  try {
    return await readFile(resolve(root, file), 'utf8');
  } catch (error) {
    throw new PermanentStageError(`cannot read SQL file ${file}: ${(error as Error).message}; paths are relative to the project root — not retried`, { cause: error });
  }
}

export const sqlStage: StageKind<SqlConfig> = {
  name: 'sql',
  summary: 'Run DuckDB SQL and keep the result as a table for later stages.',
  with: SqlConfig,
  producesTable: true,
  // A script (`materialize: none`) may drop or update any table; a query only replaces its own.
  mayChangeOtherTables: (config) => (config as { materialize?: string }).materialize === 'none',
  isRetriable(error) {
    // These DuckDB errors come from the SQL itself: running it again gives the same answer.
    return DETERMINISTIC_ERROR.test((error as Error | undefined)?.message ?? '') ? false : undefined;
  },
  references(config) {
    const file = queryFile(config);
    if (!file) return [];
    const field = config.file ? 'file' : 'query';
    return [{ field: [field], path: file } satisfies FileReference];
  },
  async run(ctx, config) {
    const file = queryFile(config);
    const source = file ? await readSqlFile(ctx.root, file) : config.query!;
    const sql = ctx.render(source);
    const materialize = config.materialize ?? 'table';
    const table = config.table ?? ctx.stage;
    try {
      if (materialize === 'none') {
        await ctx.db.exec(sql, ctx.signal);
        return { outputs: file ? { file } : undefined };
      }
      const keyword = materialize === 'view' ? 'VIEW' : 'TABLE';
      await ctx.db.exec(`CREATE OR REPLACE ${keyword} ${quoteIdent(table)} AS ${asSingleQuery(sql)}`, ctx.signal);
      const rows = Number(await ctx.db.scalar(`SELECT count(*) FROM ${quoteIdent(table)}`, ctx.signal));
      const commit = config.watermark ? await readWatermark(ctx, table, config.watermark) : undefined;
      return { table, rows, ...(commit ? { commit, outputs: { watermark: commit.watermarks?.[ctx.stage] } } : {}) };
    } catch (error) {
      if (ctx.signal.aborted || error instanceof StageFailedError) throw error;
      const where = file ? ` in ${file}` : '';
      throw new StageFailedError(`SQL failed${where}: ${(error as Error).message}`, { cause: error, stage: ctx.stage });
    }
  },
};
