/**
 * Runs every benchmark and prints the results as JSON (also written to bench/results.json).
 * Usage: npm run bench [-- overhead|etl|scale|resilience|ledger]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { benchEtl } from './etl.ts';
import { benchLedger } from './ledger.ts';
import { REPO } from './lib.ts';
import { benchOverhead } from './overhead.ts';
import { benchResilience } from './resilience.ts';
import { benchScale } from './scale.ts';

const suites = { overhead: benchOverhead, etl: benchEtl, scale: benchScale, resilience: benchResilience, ledger: benchLedger } as const;
const selected = process.argv.slice(2).filter((a) => a in suites) as (keyof typeof suites)[];
const resultsFile = join(REPO, 'bench', 'results.json');
// Suites run on their own keep the other suites' last figures.
const previous = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Record<string, unknown>) : {};
const results: Record<string, unknown> = {
  ...previous,
  date: new Date().toISOString(),
  node: process.version,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
};
for (const name of selected.length ? selected : (Object.keys(suites) as (keyof typeof suites)[])) {
  process.stderr.write(`running ${name}…\n`);
  results[name] = await suites[name]();
  process.stderr.write(`${JSON.stringify(results[name])}\n`);
}
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
