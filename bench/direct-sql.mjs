/**
 * Baseline for the benchmarks: runs SQL statements straight through @duckdb/node-api, with no weir
 * in between. Plain JavaScript on purpose: run as TypeScript it would pay Node's type stripping
 * (~24 ms a start), which weir's bundled CLI does not, and flatter weir's ratios.
 * Usage: node bench/direct-sql.mjs <database file> <file with statements separated by ;;>
 */
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const [dbPath, sqlPath] = process.argv.slice(2);
const statements = readFileSync(sqlPath, 'utf8').split(';;').map((s) => s.trim()).filter(Boolean);
const instance = await DuckDBInstance.create(dbPath, { file_search_path: process.cwd() });
const connection = await instance.connect();
for (const sql of statements) await connection.run(sql);
connection.closeSync();
instance.closeSync();
