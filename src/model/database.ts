/** The database port: what stages and the run see of the embedded engine (DuckDB in src/adapters). */

export type Row = Record<string, unknown>;

/** What stages see of the database. */
export interface Database {
  /** Runs SQL (one or more statements) and returns nothing. */
  exec(sql: string, signal?: AbortSignal): Promise<void>;
  /** Runs a query and returns its rows as JSON-safe objects (BIGINT → number or string). */
  query(sql: string, signal?: AbortSignal): Promise<Row[]>;
  /** Runs a query and returns the first column of the first row. */
  scalar(sql: string, signal?: AbortSignal): Promise<unknown>;
  /**
   * The database as it is now, on a connection and transaction of its own: what other stages change
   * later does not show in it (DuckDB's MVCC). `tables` are touched at once to pin the snapshot.
   * For reads that run beside later stages, e.g. keeping a stage's output.
   */
  snapshot(tables: readonly string[]): Promise<DatabaseSnapshot>;
  /**
   * Runs `work` on a connection of its own between BEGIN and COMMIT; when `work` throws (or the
   * signal fires) the transaction is rolled back and the error rethrown. For changes that must land
   * together or not at all (a load's delete and insert).
   */
  transaction<T>(work: (tx: DatabaseTransaction) => Promise<T>, signal?: AbortSignal): Promise<T>;
  close(): Promise<void>;
}

/** What `Database.transaction` hands its work: statements on the transaction's connection. */
export interface DatabaseTransaction {
  exec(sql: string): Promise<void>;
  query(sql: string): Promise<Row[]>;
}

export interface DatabaseSnapshot {
  exec(sql: string, signal?: AbortSignal): Promise<void>;
  /** Ends the snapshot's transaction and closes its connection. */
  release(): Promise<void>;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
