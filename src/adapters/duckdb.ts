/**
 * The embedded DuckDB: one database file per run, one connection per running stage (so independent
 * stages really run in parallel), and queries that stop when the stage's AbortSignal fires.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { quoteIdent, type Database, type DatabaseSnapshot, type DatabaseTransaction, type Row } from '../model/database.ts';

export interface OpenOptions {
  threads?: number;
  /** Folder that relative paths in SQL (read_csv('data/x.csv')) resolve against: the project root. */
  searchPath?: string;
  /** Test seam: called in `transaction` after the work, just before COMMIT (crash tests kill the process here). */
  beforeCommit?(): void;
}

export async function openDuckDb(path: string, options: OpenOptions = {}): Promise<Database> {
  // Imported lazily: the native module costs ~0.2 s to load, and validate/plan/history never need it.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const config: Record<string, string> = {};
  if (options.threads) config.threads = String(options.threads);
  if (options.searchPath) config.file_search_path = options.searchPath;
  const instance = await DuckDBInstance.create(path, config);
  return new DuckDbDatabase(instance, options.beforeCommit);
}

class DuckDbDatabase implements Database {
  readonly #instance: DuckDBInstance;
  readonly #idle: DuckDBConnection[] = [];
  readonly #beforeCommit: (() => void) | undefined;

  constructor(instance: DuckDBInstance, beforeCommit?: () => void) {
    this.#instance = instance;
    this.#beforeCommit = beforeCommit;
  }

  async exec(sql: string, signal?: AbortSignal): Promise<void> {
    await this.#withConnection(signal, (c) => c.run(sql));
  }

  async query(sql: string, signal?: AbortSignal): Promise<Row[]> {
    const reader = await this.#withConnection(signal, (c) => c.runAndReadAll(sql));
    return reader.getRowObjectsJson() as Row[];
  }

  async scalar(sql: string, signal?: AbortSignal): Promise<unknown> {
    const rows = await this.query(sql, signal);
    const first = rows[0];
    return first === undefined ? undefined : Object.values(first)[0];
  }

  async snapshot(tables: readonly string[]): Promise<DatabaseSnapshot> {
    const connection = await this.#instance.connect();
    await connection.run('BEGIN TRANSACTION');
    // DuckDB starts a transaction's view of a database at its first read: read each table now.
    for (const table of tables) await connection.run(`SELECT 1 FROM ${quoteIdent(table)} LIMIT 0`);
    return {
      exec: async (sql, signal) => {
        const onAbort = () => connection.interrupt();
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          await connection.run(sql);
        } finally {
          signal?.removeEventListener('abort', onAbort);
        }
      },
      release: async () => {
        await connection.run('COMMIT').catch(() => undefined);
        connection.closeSync();
      },
    };
  }

  async transaction<T>(work: (tx: DatabaseTransaction) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    // A connection of its own: a pooled one would carry the open transaction into other stages' statements.
    const connection = await this.#instance.connect();
    const onAbort = () => connection.interrupt();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await connection.run('BEGIN TRANSACTION');
      const result = await work({
        exec: async (sql) => void (await connection.run(sql)),
        query: async (sql) => (await connection.runAndReadAll(sql)).getRowObjectsJson() as Row[],
      });
      signal?.throwIfAborted();
      this.#beforeCommit?.();
      await connection.run('COMMIT');
      return result;
    } catch (error) {
      await connection.run('ROLLBACK').catch(() => undefined);
      if (signal?.aborted) throw signal.reason ?? error;
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      connection.closeSync();
    }
  }

  async close(): Promise<void> {
    for (const c of this.#idle.splice(0)) c.closeSync();
    this.#instance.closeSync();
  }

  async #withConnection<T>(signal: AbortSignal | undefined, work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    const connection = this.#idle.pop() ?? (await this.#instance.connect());
    // interrupt() cancels the running query; DuckDB then rejects it with an INTERRUPT error.
    const onAbort = () => connection.interrupt();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await work(connection);
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#idle.push(connection);
    }
  }
}
