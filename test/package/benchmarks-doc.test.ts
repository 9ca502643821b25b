import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults, RECORDED_RESULTS } from '../../bench/lib.ts';
import { SUITES } from '../../bench/suites.ts';
import { REPO } from './install-tarball.ts';

const doc = readFileSync(join(REPO, 'docs', 'benchmarks.md'), 'utf8');
const recorded = readResults(RECORDED_RESULTS);
const checkedSuites = Object.keys(SUITES);

describe('docs/benchmarks.md', () => {
  it.each(checkedSuites)('quotes the recorded %s figures exactly as the bench script prints them', (name) => {
    expect(recorded[name], `bench/results.json has no '${name}': run npm run bench -- --record ${name}`).toBeDefined();
    expect(doc).toContain(SUITES[name].table(recorded[name]));
  });

  it('names the machine, Node and DuckDB of the recorded run', () => {
    expect(doc).toContain(`Node ${String(recorded.node).slice(1)}`);
    expect(doc).toContain(`DuckDB ${recorded.duckdb}`);
    expect(doc).toContain(String(recorded.date).slice(0, 10));
  });
});
