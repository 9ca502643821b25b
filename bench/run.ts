/**
 * Runs the benchmarks and prints each suite's Markdown table (the rows docs/benchmarks.md quotes)
 * and the raw figures as JSON. Results go to bench/.results/latest.json, which git ignores;
 * `--record` also writes bench/results.json, the figures the docs quote.
 * Usage: npm run bench [-- [--record] [startup|overhead|etl|scale|resilience…]]
 * A new suite: a module exporting a `Suite` (bench/lib.ts), added to bench/suites.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LATEST_RESULTS, machine, readResults, RECORDED_RESULTS, REPO } from './lib.ts';
import { SUITES } from './suites.ts';

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--record' && !(arg in SUITES));
if (unknown.length) {
  console.error(`unknown suite or flag: ${unknown.join(', ')}. Suites: ${Object.keys(SUITES).join(', ')}; flag: --record.`);
  process.exit(2);
}
const record = args.includes('--record');
const selected = args.filter((arg) => arg in SUITES);

// A suite run on its own keeps the other suites' last figures.
const results: Record<string, unknown> = { ...readResults(record ? RECORDED_RESULTS : LATEST_RESULTS), ...machine() };
for (const name of selected.length ? selected : Object.keys(SUITES)) {
  process.stderr.write(`running ${name}…\n`);
  results[name] = await SUITES[name].run();
  console.log(`\n## ${name}\n\n${SUITES[name].table(results[name])}\n`);
}
const text = `${JSON.stringify(results, null, 2)}\n`;
mkdirSync(join(REPO, 'bench', '.results'), { recursive: true });
writeFileSync(LATEST_RESULTS, text);
if (record) writeFileSync(RECORDED_RESULTS, text);
console.log(text);
process.stderr.write(`results: ${record ? RECORDED_RESULTS : LATEST_RESULTS}\n`);
