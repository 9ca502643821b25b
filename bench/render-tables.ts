/**
 * Prints each suite's Markdown table from a results file as JSON ({ suite: table }), so that
 * docs/benchmarks.md can be updated from recorded figures without retyping them.
 * Usage: node bench/render-tables.ts [results.json]
 */
import { readResults, RECORDED_RESULTS } from './lib.ts';
import { SUITES } from './suites.ts';

const results = readResults(process.argv[2] ?? RECORDED_RESULTS);
const tables: Record<string, string> = {};
for (const [name, suite] of Object.entries(SUITES)) if (results[name] !== undefined) tables[name] = suite.table(results[name]);
console.log(JSON.stringify(tables));
