/**
 * Data-quality checks on a table: one SQL query per check, each turned into a `CheckResult` with a
 * message a person can act on. The executor runs them after a table-producing stage and then calls
 * `assertChecksPassed`.
 *
 * NULL semantics follow SQL constraints (and dbt): `unique` ignores rows with a NULL in any key
 * column and `accepted_values` lets NULL pass; forbid NULLs with `not_null`. `expression` treats a
 * NULL result as a failure, like a CHECK constraint would not.
 */
import { quoteIdent, quoteLiteral, type Database, type Row } from '../model/database.ts';
import { CheckFailedError } from '../model/errors.ts';
import type { CheckResult } from '../model/events.ts';
import type { Check, CheckKind } from '../model/pipeline.ts';

/** What one check's query found. */
interface Finding {
  failing: number;
  passed: boolean;
  detail: string;
}

/** Runs every check against `table` (or the check's own `table`). Never throws for a bad check. */
export async function runChecks(db: Database, table: string, checks: readonly Check[], signal?: AbortSignal): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) results.push(await runCheck(db, table, check, signal));
  return results;
}

/** Throws `CheckFailedError` naming every failed `error`-severity check; warnings never throw. */
export function assertChecksPassed(results: readonly CheckResult[], stage: string): void {
  const failed = results.filter((r) => !r.passed && r.severity === 'error');
  if (failed.length === 0) return;
  const noun = failed.length === 1 ? 'check' : 'checks';
  const list = failed.map((r) => `  - ${r.message}`).join('\n');
  throw new CheckFailedError(`stage '${stage}': ${failed.length} ${noun} failed:\n${list}\nFix the data or the stage, or set 'severity: warn' on checks that should only warn.`, { stage });
}

export function checkKind(check: Check): CheckKind {
  if ('not_null' in check) return 'not_null';
  if ('unique' in check) return 'unique';
  if ('accepted_values' in check) return 'accepted_values';
  if ('row_count' in check) return 'row_count';
  return 'expression';
}

/** The name shown in reports: the check's `name`, else e.g. `not_null(currency, rate)`. */
export function checkName(check: Check): string {
  if (check.name) return check.name;
  if ('not_null' in check) return `not_null(${check.not_null.join(', ')})`;
  if ('unique' in check) return `unique(${check.unique.join(', ')})`;
  if ('accepted_values' in check) return `accepted_values(${check.accepted_values.column})`;
  if ('row_count' in check) return 'row_count';
  return `expression(${check.expression})`;
}

async function runCheck(db: Database, defaultTable: string, check: Check, signal?: AbortSignal): Promise<CheckResult> {
  const name = checkName(check);
  const base = { name, kind: checkKind(check), severity: check.severity ?? 'error' } as const;
  const table = quoteIdent(check.table ?? defaultTable);
  try {
    const finding = await evaluate(db, table, check, signal);
    return { ...base, passed: finding.passed, failing: finding.failing, message: `${name}: ${finding.detail}` };
  } catch (error) {
    // A cancelled run is not a failed check: let the cancellation through.
    if (signal?.aborted) throw error;
    const reason = error instanceof Error ? firstLine(error.message) : String(error);
    return { ...base, passed: false, failing: 0, message: `${name}: could not run the check on ${table}: ${reason}` };
  }
}

async function evaluate(db: Database, table: string, check: Check, signal?: AbortSignal): Promise<Finding> {
  const one = async (sql: string): Promise<Row> => (await db.query(sql, signal))[0] ?? {};
  if ('not_null' in check) return findNulls(await one(notNullSql(table, check.not_null)), check.not_null);
  if ('unique' in check) return findDuplicates(await one(uniqueSql(table, check.unique)));
  if ('accepted_values' in check) {
    const col = quoteIdent(check.accepted_values.column);
    const row = await one(`SELECT count(*) AS failing, list_sort(list(DISTINCT ${col}::VARCHAR))[1:5] AS examples FROM ${table} WHERE ${rowFailurePredicate(check)}`);
    const failing = Number(row.failing);
    const examples = (row.examples as string[] | null) ?? [];
    return { failing, passed: failing === 0, detail: failing === 0 ? 'all values accepted' : `${rowsText(failing)} other values, e.g. ${examples.map((e) => `'${e}'`).join(', ')}` };
  }
  if ('row_count' in check) {
    const count = Number(await db.scalar(`SELECT count(*) FROM ${table}`, signal));
    const { min, max } = check.row_count;
    const tooFew = min !== undefined && count < min;
    const tooMany = max !== undefined && count > max;
    const expected = tooFew ? `, expected at least ${min}` : tooMany ? `, expected at most ${max}` : '';
    return { failing: count, passed: !tooFew && !tooMany, detail: `${count} rows${expected}` };
  }
  const failing = Number(await db.scalar(`SELECT count(*) FROM ${table} WHERE ${rowFailurePredicate(check)}`, signal));
  return { failing, passed: failing === 0, detail: failing === 0 ? 'every row satisfies it' : `${rowsText(failing)} a false or NULL result` };
}

function notNullSql(table: string, columns: readonly string[]): string {
  const perColumn = columns.map((c, i) => `count(*) FILTER (WHERE ${rowFailurePredicate({ not_null: [c] })}) AS c${i}`);
  return `SELECT count(*) FILTER (WHERE ${rowFailurePredicate({ not_null: columns })}) AS failing, ${perColumn.join(', ')} FROM ${table}`;
}

function findNulls(row: Row, columns: readonly string[]): Finding {
  const failing = Number(row.failing);
  if (failing === 0) return { failing, passed: true, detail: 'no NULLs' };
  const perColumn = columns.length > 1 ? ` (${columns.map((c, i) => `${c}: ${Number(row[`c${i}`])}`).join(', ')})` : '';
  return { failing, passed: false, detail: `${rowsText(failing)} NULL${perColumn}` };
}

function uniqueSql(table: string, columns: readonly string[]): string {
  const cols = columns.map(quoteIdent);
  const key = `CAST(row(${cols.join(', ')}) AS VARCHAR)`;
  const notNull = cols.map((c) => `${c} IS NOT NULL`).join(' AND ');
  const groups = `SELECT ${key} AS k, count(*) AS n FROM ${table} WHERE ${notNull} GROUP BY ALL HAVING count(*) > 1`;
  return `SELECT count(*) AS groups, coalesce(sum(n), 0) AS failing, arg_max(k, n) AS example FROM (${groups})`;
}

function findDuplicates(row: Row): Finding {
  const failing = Number(row.failing);
  if (failing === 0) return { failing, passed: true, detail: 'no duplicates' };
  const groups = Number(row.groups);
  return { failing, passed: false, detail: `${groups} duplicated ${groups === 1 ? 'value' : 'values'} covering ${failing} rows, e.g. ${row.example}` };
}

function rowsText(count: number): string {
  return count === 1 ? '1 row has' : `${count} rows have`;
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}

type RowCheck = { not_null: readonly string[] } | Extract<Check, { accepted_values: unknown }> | Extract<Check, { expression: string }>;

/**
 * For row-level checks (not_null, accepted_values, expression): the SQL predicate true for the rows
 * that break the check. The one place this SQL is written: the checks count with it and the dead
 * letters set aside the rows it selects. Undefined for table-level checks.
 */
export function rowFailurePredicate(check: Check | RowCheck): string | undefined {
  if ('not_null' in check) return check.not_null.map((c) => `${quoteIdent(c)} IS NULL`).join(' OR ');
  if ('accepted_values' in check) {
    const { column, values } = check.accepted_values;
    const col = quoteIdent(column);
    // Values go in as string literals: DuckDB casts them to the column's type, so 1 and '1' both work.
    return `${col} IS NOT NULL AND ${col} NOT IN (${values.map((v) => quoteLiteral(String(v))).join(', ')})`;
  }
  // A NULL result fails, as a CHECK constraint would not let it pass here.
  if ('expression' in check) return `(${check.expression}) IS NOT TRUE`;
  return undefined;
}
