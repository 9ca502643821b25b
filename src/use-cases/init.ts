/**
 * The `init` use case, pure: the files that start a weir project (weir.yml, one example pipeline
 * with its data), and the `.gitignore` with weir's entries added once. Writing them, and refusing
 * to overwrite, is the entry point's job.
 */

/** Where the editor finds the schemas once weir is installed as a devDependency (`npm i -D weir-pipelines`). */
const SCHEMA_DIR = 'node_modules/weir-pipelines/schema';

export interface StarterFile {
  /** Relative to the project root. */
  path: string;
  text: string;
}

/** Lines weir needs in `.gitignore`: the local ledger and run folders, and what pipelines export. */
export const GITIGNORE_ENTRIES = ['.weir/', 'out/', 'weir-site/'] as const;

export const EXAMPLE_PIPELINE = 'hello';

const WEIR_YML = `# yaml-language-server: $schema=./${SCHEMA_DIR}/weir.schema.json
# Project settings of weir: named resilience policies, folders pipelines may write outside the
# project (allow_write_paths). Both are optional; see docs/policies.md of weir-pipelines.
policies:
  default: { retries: 2 }
`;

const HELLO_PIPELINE = `# yaml-language-server: $schema=../${SCHEMA_DIR}/pipeline.schema.json
# A first pipeline: a small CSV → a checked table → a summary per country, exported as CSV.
# Try it: npx weir validate && npx weir run hello && npx weir history hello
version: 1
name: ${EXAMPLE_PIPELINE}
description: Population per country from a small CSV, checked and exported.
schedule: { cron: "17 6 * * *", timezone: UTC }
params:
  min_population: { type: integer, default: 0, description: Leave out cities with fewer people }
stages:
  cities:
    uses: sql
    with: { query: "select * from read_csv('data/hello/cities.csv')" }
    checks:
      - not_null: [city, country, population]
      - unique: [city]
  by_country:
    uses: sql
    needs: [cities]
    with:
      query: |
        select country, count(*) as cities, sum(population) as population
        from cities where population >= {{ params.min_population }}
        group by country order by population desc
  save:
    uses: export
    needs: [by_country]
    with: { table: by_country, path: "out/hello/by-country-{{ interval.end | date }}.csv" }
`;

const CITIES_CSV = `city,country,population
Lisbon,Portugal,545923
Porto,Portugal,231800
Oslo,Norway,709037
Bergen,Norway,291940
Berlin,Germany,3878100
Hamburg,Germany,1910160
`;

/** weir.yml, the example pipeline and its data. */
export function starterFiles(): StarterFile[] {
  return [
    { path: 'weir.yml', text: WEIR_YML },
    { path: `pipelines/${EXAMPLE_PIPELINE}.yml`, text: HELLO_PIPELINE },
    { path: 'data/hello/cities.csv', text: CITIES_CSV },
  ];
}

/**
 * `.gitignore` with weir's entries appended, or undefined when every entry is already there
 * (also as `/.weir/`, `.weir` …): running init twice adds nothing.
 */
export function withGitignoreEntries(current: string | undefined): string | undefined {
  const present = new Set((current ?? '').split(/\r?\n/).map(normalizeIgnoreLine));
  const missing = GITIGNORE_ENTRIES.filter((entry) => !present.has(normalizeIgnoreLine(entry)));
  if (missing.length === 0) return undefined;
  const base = current ?? '';
  const separator = base === '' || base.endsWith('\n') ? '' : '\n';
  return `${base}${separator}# weir: local ledger and runs, exported outputs, the status site\n${missing.join('\n')}\n`;
}

function normalizeIgnoreLine(line: string): string {
  return line.trim().replace(/^\//, '').replace(/\/$/, '');
}
