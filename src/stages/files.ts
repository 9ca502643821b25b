/**
 * `uses: files` — load the files in a folder that no earlier successful run processed. A file is
 * known by the sha256 of its content, so renamed copies are not loaded twice and an edited file is
 * loaded again. Files move to the archive only in `afterCommit`, once the ledger has recorded their
 * hashes: a failed run leaves every file where it was. CSV lines DuckDB cannot parse go to dead
 * letters (the rest of the file loads); a malformed JSON or Parquet file fails the stage.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { glob } from 'tinyglobby';
import { z } from 'zod';
import { quoteIdent, quoteLiteral } from '../model/database.ts';
import { StageFailedError } from '../model/errors.ts';
import { formatOf as formatFromName } from './format-of.ts';
import { csvReaderSql, jsonReaderSql, runWithRejects, type RejectedLine } from './load-files.ts';
import { moveWithoutOverwrite, planDestination } from './file-archive.ts';
import type { ProcessedFile, StageContext, StageKind, StageResult } from './stage-kind.ts';

export const FilesWith = z.strictObject({
  path: z.string().min(1).describe('Glob relative to the project root, e.g. incoming/*.csv.'),
  format: z.enum(['csv', 'json', 'parquet']).optional().describe('Default: from each file extension (.csv/.tsv, .json/.jsonl/.ndjson, .parquet; also .gz).'),
  table: z.string().min(1).optional().describe('Table to create. Default: the stage name.'),
  archive: z.string().min(1).optional().describe('Folder processed files are moved to after the run is recorded. Default: none (files stay).'),
  options: z
    .strictObject({
      delimiter: z.string().min(1).optional().describe('CSV delimiter. Default: detected.'),
      header: z.boolean().optional().describe('Whether CSV files have a header row. Default: detected.'),
    })
    .default({}),
});
export type FilesWith = z.infer<typeof FilesWith>;
type Format = NonNullable<FilesWith['format']>;

/** Files hashed at once: enough to keep the disk busy without opening thousands of handles. */
const HASH_CONCURRENCY = 8;
export const filesStage: StageKind<FilesWith> = {
  name: 'files',
  summary: 'Load new files from a folder (by content hash) into one table, then archive them.',
  with: FilesWith,
  producesTable: true,
  deadLetters: true,
  run: runFiles,
};

interface FoundFile {
  /** Relative to the project root, with forward slashes (what the ledger and `_source_file` keep). */
  path: string;
  hash: string;
  bytes: number;
}

async function runFiles(ctx: StageContext, config: FilesWith): Promise<StageResult> {
  const found = await hashFiles(ctx, await listFiles(ctx.root, config));
  const { fresh, seen } = partition(ctx, found);
  if (config.archive !== undefined) ctx.writePath(config.archive, 'with.archive');
  const archive = config.archive === undefined ? undefined : planArchive(ctx.root, config.archive, [...fresh, ...seen]);
  const outputs = { new_files: fresh.length, skipped_files: seen.length };
  const afterCommit = archive && archive.size > 0 ? () => archiveFiles(ctx, archive) : undefined;
  if (fresh.length === 0) {
    ctx.log.info(`no new files match ${config.path} (${seen.length} already processed); no table created`);
    return { rows: 0, outputs, afterCommit };
  }
  const table = config.table ?? ctx.stage;
  const rejected = await loadTable(ctx, table, fresh, config);
  for (const r of rejected) ctx.deadLetter({ line: r.text }, r.reasons.join('; '), { file: r.file, line: r.line });
  const rows = Number(await ctx.db.scalar(`SELECT count(*) FROM ${quoteIdent(table)}`, ctx.signal));
  const letters = rejected.length > 0 ? ` (${rejected.length} malformed CSV ${rejected.length === 1 ? 'line' : 'lines'} to dead letters)` : '';
  ctx.log.info(`loaded ${rows} rows from ${fresh.length} new ${fresh.length === 1 ? 'file' : 'files'} into ${table}${letters}`);
  const processedFiles: ProcessedFile[] = fresh.map((f) => ({ hash: f.hash, path: f.path, bytes: f.bytes, archivedTo: archive?.get(f.path) }));
  return { table, rows, total: rows + rejected.length, outputs, commit: { processedFiles }, afterCommit };
}

/** Creates `table` from the files; returns the CSV lines DuckDB rejected (they are not in the table). */
async function loadTable(ctx: StageContext, table: string, files: FoundFile[], config: FilesWith): Promise<RejectedLine[]> {
  const create = `CREATE OR REPLACE TABLE ${quoteIdent(table)} AS ${selectSql(ctx.root, files, config)}`;
  const hasCsv = files.some((f) => formatOf(f.path, config) === 'csv');
  try {
    if (!hasCsv) {
      await ctx.db.exec(create, ctx.signal);
      return [];
    }
    return await runWithRejects(ctx.db, create, (path) => toPosix(relative(ctx.root, path)), ctx.signal);
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    const names = files.length > 3 ? `${files.slice(0, 3).map((f) => f.path).join(', ')} and ${files.length - 3} more` : files.map((f) => f.path).join(', ');
    const hint = 'Fix or remove the file, or set with.format / with.options; nothing was archived or recorded.';
    throw new StageFailedError(`could not load ${names} into ${table}: ${(error as Error).message}\n${hint}`, { cause: error });
  }
}

async function listFiles(root: string, config: FilesWith): Promise<string[]> {
  // The archive may sit under the globbed folder: never pick archived files up again.
  const ignore = config.archive ? [`${posix.normalize(config.archive).replace(/\/+$/, '')}/**`] : [];
  const paths = await glob(config.path, { cwd: root, onlyFiles: true, ignore });
  return paths.sort();
}

async function hashFiles(ctx: StageContext, paths: string[]): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  for (let i = 0; i < paths.length; i += HASH_CONCURRENCY) {
    const batch = paths.slice(i, i + HASH_CONCURRENCY);
    try {
      found.push(...(await Promise.all(batch.map((path) => hashFile(ctx, path)))));
    } catch (error) {
      throw ctx.signal.aborted ? (ctx.signal.reason ?? error) : error;
    }
  }
  return found;
}

async function hashFile(ctx: StageContext, path: string): Promise<FoundFile> {
  const absolute = join(ctx.root, path);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(absolute, { signal: ctx.signal })) hash.update(chunk);
  return { path, hash: hash.digest('hex'), bytes: (await stat(absolute)).size };
}

/** New files, first of each hash; `seen` holds files already processed, or copies of a new one. */
function partition(ctx: StageContext, found: FoundFile[]): { fresh: FoundFile[]; seen: FoundFile[] } {
  const fresh: FoundFile[] = [];
  const seen: FoundFile[] = [];
  const batch = new Map<string, string>();
  for (const file of found) {
    const copyOf = batch.get(file.hash);
    if (copyOf !== undefined) ctx.log.info(`${file.path} has the same content as ${copyOf}: skipped`);
    if (copyOf !== undefined || ctx.state.isFileProcessed(file.hash)) seen.push(file);
    else fresh.push(file);
    batch.set(file.hash, copyOf ?? file.path);
  }
  return { fresh, seen };
}

/** Where each file will be archived (relative paths), avoiding names taken on disk or in this batch. */
function planArchive(root: string, archiveDir: string, files: FoundFile[]): Map<string, string> {
  const reserved = new Set<string>();
  const plan = new Map<string, string>();
  for (const file of files) {
    const to = planDestination(file.path, archiveDir, (p) => reserved.has(p) || existsSync(join(root, p)));
    reserved.add(to);
    plan.set(file.path, toPosix(to));
  }
  return plan;
}

/** Moves files after the ledger has their hashes; a file that cannot move stays and moves next run. */
async function archiveFiles(ctx: StageContext, plan: Map<string, string>): Promise<void> {
  for (const [from, to] of plan) {
    try {
      const placed = await moveWithoutOverwrite(join(ctx.root, from), join(ctx.root, to));
      const where = toPosix(relative(ctx.root, placed));
      ctx.log.info(`archived ${from} → ${where}${where === to ? '' : ` (${to} was taken)`}`);
    } catch (error) {
      ctx.log.warn(`could not archive ${from} to ${to}: ${(error as Error).message}. It stays in place and will be archived by the next run.`);
    }
  }
}

function selectSql(root: string, files: FoundFile[], config: FilesWith): string {
  const groups = new Map<Format, string[]>();
  for (const file of files) {
    const format = formatOf(file.path, config);
    groups.set(format, [...(groups.get(format) ?? []), join(root, file.path)]);
  }
  // CSV files are read one by one: DuckDB cannot store rejects with union_by_name, and UNION ALL
  // BY NAME unifies their columns the same way.
  const selects = [...groups].flatMap(([format, paths]) =>
    format === 'csv' ? paths.map((path) => `SELECT * FROM ${csvReaderSql(path, config.options, '_source_file')}`) : [`SELECT * FROM ${readerSql(format, paths)}`],
  );
  // The readers report absolute paths; keep them relative so results do not depend on the checkout.
  const prefix = root.endsWith(sep) ? root.length : root.length + 1;
  return `SELECT * REPLACE (replace(substr(_source_file, ${prefix + 1}), '\\', '/') AS _source_file) FROM (${selects.join(' UNION ALL BY NAME ')})`;
}

function readerSql(format: Exclude<Format, 'csv'>, paths: string[]): string {
  // JSON has no store_rejects, and ignore_errors turns a broken line into a row of NULLs: a
  // malformed JSON file fails the stage instead.
  if (format === 'json') return jsonReaderSql(paths, { filename: '_source_file' });
  return `read_parquet([${paths.map(quoteLiteral).join(', ')}], union_by_name = true, filename = '_source_file')`;
}

function formatOf(path: string, config: Pick<FilesWith, 'format'> = {}): Format {
  if (config.format) return config.format;
  const format = formatFromName({ path });
  if (format !== undefined) return format === 'ndjson' ? 'json' : format;
  throw new StageFailedError(`cannot tell the format of ${path} from its extension: set with.format (csv, json or parquet) or narrow with.path.`);
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}
