/**
 * `uses: export` — write a table or a query to CSV, Parquet or JSON with DuckDB's COPY. The file is
 * written next to its target under a temporary name and renamed into place, so readers (and a
 * failed run) never see a half-written file at the target path.
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { quoteIdent, quoteLiteral } from '../model/database.ts';
import { StageFailedError } from '../model/errors.ts';
import { formatOf as formatFromName } from './format-of.ts';
import type { StageContext, StageKind, StageResult } from './stage-kind.ts';

const ExportFormat = z.enum(['csv', 'parquet', 'json', 'ndjson']);
type ExportFormat = z.infer<typeof ExportFormat>;

export const ExportWith = z
  .strictObject({
    table: z.string().min(1).optional().describe('Table to export (this or query).'),
    query: z.string().min(1).optional().describe('SELECT whose result is exported (this or table).'),
    path: z.string().min(1).describe('File to write, relative to the project root; parent folders are created.'),
    format: ExportFormat.optional().describe('Default: from the extension (.csv, .parquet, .json, .jsonl/.ndjson; optional .gz).'),
    options: z
      .strictObject({
        header: z.boolean().default(true).describe('CSV: write a header row. Default: true.'),
        delimiter: z.string().min(1).default(',').describe('CSV: field delimiter. Default: ",".'),
        compression: z.enum(['snappy', 'zstd', 'gzip', 'lz4', 'brotli', 'uncompressed']).default('snappy').describe('Parquet: codec. Default: snappy.'),
      })
      .prefault({}),
  })
  .refine((w) => (w.table === undefined) !== (w.query === undefined), { message: 'set exactly one of table or query', path: ['table'] });
export type ExportWith = z.infer<typeof ExportWith>;

export const exportStage: StageKind<ExportWith> = {
  name: 'export',
  summary: 'Write a table or query to a CSV, Parquet or JSON file (atomically).',
  with: ExportWith,
  producesTable: false,
  run: runExport,
};

async function runExport(ctx: StageContext, config: ExportWith): Promise<StageResult> {
  const target = ctx.writePath(config.path, 'with.path');
  const format = config.format ?? formatOf(config.path);
  // Same folder as the target: rename is then atomic (same file system).
  const temp = join(dirname(target), `.${basename(target)}.${ctx.runId}.tmp`);
  await mkdir(dirname(target), { recursive: true });
  try {
    const [result] = await ctx.db.query(`COPY (${sourceSql(config)}) TO ${quoteLiteral(temp)} (${copyOptions(format, config)})`, ctx.signal);
    await rename(temp, target);
    const rows = Number(result?.Count ?? 0);
    const { size } = await stat(target);
    ctx.log.info(`wrote ${rows} rows to ${config.path} (${format}, ${size} bytes)`);
    return { rows, outputs: { path: config.path, bytes: size, format } };
  } catch (error) {
    await rm(temp, { force: true });
    if (ctx.signal.aborted || error instanceof StageFailedError) throw error;
    const what = config.table === undefined ? 'the query' : `table ${config.table}`;
    throw new StageFailedError(`could not export ${what} to ${config.path}: ${(error as Error).message}`, { cause: error });
  }
}

function sourceSql(config: ExportWith): string {
  if (config.table !== undefined) return `SELECT * FROM ${quoteIdent(config.table)}`;
  // A trailing semicolon is natural in SQL but not inside COPY (…).
  return (config.query ?? '').trim().replace(/;+$/, '');
}

function copyOptions(format: ExportFormat, config: ExportWith): string {
  const gzip = config.path.toLowerCase().endsWith('.gz') ? ', COMPRESSION gzip' : '';
  const { header, delimiter, compression } = config.options;
  switch (format) {
    case 'csv':
      return `FORMAT csv, HEADER ${header}, DELIMITER ${quoteLiteral(delimiter)}${gzip}`;
    case 'parquet':
      return `FORMAT parquet, COMPRESSION ${compression}`;
    case 'json':
      return `FORMAT json, ARRAY true${gzip}`;
    case 'ndjson':
      return `FORMAT json${gzip}`;
  }
}

/** The export format a path's extension implies (format-of.ts); `.gz` is looked through. */
export function formatOf(path: string): ExportFormat {
  const format = formatFromName({ path });
  if (format !== undefined && !path.toLowerCase().endsWith('.zst')) return format;
  throw new StageFailedError(`cannot tell the export format of ${path} from its extension: use .csv, .parquet, .json, .jsonl or .ndjson, or set with.format.`);
}
