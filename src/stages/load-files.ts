/**
 * Loading spooled files into DuckDB, shared by `files` and `http`: the reader SQL (types inferred
 * from every record), and CSV loads with their bad lines set aside — each CSV file is read by its
 * own `read_csv_auto` with `store_rejects` (DuckDB cannot store rejects with union_by_name; UNION
 * ALL BY NAME unifies the columns the same way), and the rejected lines are read back in the same
 * multi-statement query (temporary tables live on one connection).
 */
import { quoteIdent, quoteLiteral, type Database, type Row } from '../model/database.ts';

/** Where DuckDB stores the CSV lines it rejected. */
const REJECTS_TABLE = 'weir_csv_rejects';
const REJECTS_SCAN = 'weir_csv_rejects_scan';

export interface CsvOptions {
  /** Field delimiter. Default: detected. */
  delimiter?: string;
  /** Whether the files have a header row. Default: detected. */
  header?: boolean;
}

/** A CSV line DuckDB could not load, with every error it found on that line. */
export interface RejectedLine {
  /** The file as the caller names it (see loadCsvWithRejects' `label`). */
  file: string;
  /** 1-based line in the file (the header is line 1). */
  line: number;
  text: string;
  reasons: string[];
}

/**
 * `read_csv_auto` of one file, storing rejected lines; sample_size=-1 infers types from every row,
 * so a late odd value does not fail the load. `filename`: also add the path as this column.
 */
export function csvReaderSql(path: string, options: CsvOptions = {}, filename?: string): string {
  const rejects = `store_rejects = true, rejects_table = '${REJECTS_TABLE}', rejects_scan = '${REJECTS_SCAN}'`;
  const extra = [
    filename === undefined ? '' : `, filename = ${quoteLiteral(filename)}`,
    options.delimiter === undefined ? '' : `, delim = ${quoteLiteral(options.delimiter)}`,
    options.header === undefined ? '' : `, header = ${options.header}`,
  ].join('');
  return `read_csv_auto(${quoteLiteral(path)}, sample_size = -1, ${rejects}${extra})`;
}

/**
 * `read_json_auto` of NDJSON or JSON files; sample_size=-1 infers types from every record, so a
 * field first seen late is neither dropped nor mistyped. `filename`: also add the path as this column.
 */
export function jsonReaderSql(paths: readonly string[], options: { filename?: string; newlineDelimited?: boolean } = {}): string {
  const list = `[${paths.map(quoteLiteral).join(', ')}]`;
  const extra = [
    options.newlineDelimited ? `, format = 'newline_delimited'` : '',
    options.filename === undefined ? '' : `, union_by_name = true, filename = ${quoteLiteral(options.filename)}`,
  ].join('');
  return `read_json_auto(${list}${extra}, sample_size = -1)`;
}

/** `CREATE OR REPLACE TABLE table AS SELECT * FROM (each source UNION ALL BY NAME)`. */
export function createTableSql(table: string, sources: readonly string[]): string {
  return `CREATE OR REPLACE TABLE ${quoteIdent(table)} AS ${sources.map((source) => `SELECT * FROM ${source}`).join(' UNION ALL BY NAME ')}`;
}

/**
 * Runs `create` (a statement whose CSV readers come from csvReaderSql) and returns the lines the
 * readers rejected, one entry per line, each file named by `label(path)`.
 */
export async function runWithRejects(db: Database, create: string, label: (path: string) => string, signal?: AbortSignal): Promise<RejectedLine[]> {
  const rows = await db.query(
    `DROP TABLE IF EXISTS temp.${REJECTS_TABLE}; DROP TABLE IF EXISTS temp.${REJECTS_SCAN}; ${create};
     SELECT s.file_path, e.line, e.csv_line, e.error_message FROM temp.${REJECTS_TABLE} e JOIN temp.${REJECTS_SCAN} s USING (scan_id, file_id)
     ORDER BY s.file_path, e.line, e.byte_position`,
    signal,
  );
  return groupRejects(rows, label);
}

/** One RejectedLine per line: DuckDB reports a line once per error on it (a bad cast and a column too many). */
export function groupRejects(rows: readonly Row[], label: (path: string) => string = (path) => path): RejectedLine[] {
  const byLine = new Map<string, RejectedLine>();
  for (const row of rows) {
    const file = label(String(row.file_path));
    const line = Number(row.line);
    const key = `${file}:${line}`;
    const entry = byLine.get(key) ?? { file, line, text: String(row.csv_line ?? ''), reasons: [] };
    const reason = String(row.error_message);
    if (!entry.reasons.includes(reason)) entry.reasons.push(reason);
    byLine.set(key, entry);
  }
  return [...byLine.values()];
}

/**
 * Backstop against a silent wrong schema: when the sniffer found no consistent delimiter it loads
 * each whole line as one VARCHAR column named after the header line. The name of that column, or
 * undefined when the table looks like real columns.
 */
export async function findWholeLineColumn(db: Database, table: string, signal?: AbortSignal): Promise<string | undefined> {
  const columns = await db.query(`SELECT column_name FROM duckdb_columns() WHERE table_name = ${quoteLiteral(table)}`, signal);
  if (columns.length !== 1) return undefined;
  const name = String(columns[0].column_name);
  return /[,;\t|]/.test(name) ? name : undefined;
}
