/** Pipelines that are not in pipelines/: the shapes compile must handle. */

export const GPU_PIPELINE = `
name: embed-docs
schedule: { cron: "0 3 * * *", timezone: Europe/Berlin }
timeout: 50m
stages:
  docs: { uses: sql, with: { query: "select 1 as id, 'hello' as text" } }
  embed:
    uses: command
    needs: [docs]
    runs-on: [self-hosted, gpu]
    requires: [gpu]
    with: { run: "python embed.py" }
`;

export const DISPATCH_ONLY_PIPELINE = `
name: backfill
params:
  day: { type: date, required: true, description: Day to load }
  dry_run: { type: boolean, default: false }
  token: { type: string, secret: true }
stages:
  load: { uses: sql, with: { query: "select '{{ params.day }}' as day" } }
`;

export const NO_TRIGGER_PIPELINE = `
name: adhoc
stages:
  one: { uses: sql, with: { query: "select 1 as x" } }
`;

const PARAM_TYPES = [
  'p{i}: { type: string, default: "a b", description: "Text with: a colon" }',
  'p{i}: { type: number, default: 1.5 }',
  'p{i}: { type: integer, required: true }',
  'p{i}: { type: boolean, default: true }',
  'p{i}: { type: date, default: "2026-01-31" }',
  'p{i}: { type: choice, options: [1, two, "3"], default: two }',
];

/** A scheduled pipeline with `count` params cycling through every type. */
export function manyParamsPipeline(count: number): string {
  const params = Array.from({ length: count }, (_, i) => `  ${PARAM_TYPES[i % PARAM_TYPES.length].replace('{i}', String(i))}`);
  return `
name: many-params
schedule: { cron: "*/30 * * * *", timezone: UTC }
params:
${params.join('\n')}
stages:
  one: { uses: sql, with: { query: "select 1 as x" } }
`;
}

/** Three runner label sets and a sharded stage: the segment DAG has a fork, a join and a matrix job. */
export const THREE_RUNNERS_PIPELINE = `
name: three-runners
schedule: { cron: "0 4 * * *", timezone: UTC }
timeout: 1h
params:
  limit: { type: integer, default: 100 }
stages:
  extract: { uses: sql, with: { query: "select range as id from range({{ params.limit }})" } }
  prepare: { uses: sql, needs: [extract], with: { query: "select id, 'doc ' || id as body from extract" } }
  audit: { uses: sql, needs: [extract], with: { query: "select count(*) as n from extract" } }
  embed:
    uses: command
    needs: [prepare]
    runs-on: [self-hosted, gpu]
    requires: [gpu]
    shards: 4
    shard_by: id
    with: { run: "python embed.py", input: prepare, table: vectors }
  index:
    uses: command
    needs: [embed]
    runs-on: big-memory
    with: { run: "python index.py", input: vectors, table: vector_index }
  publish: { uses: sql, needs: [index, audit], with: { query: "select * from vector_index" } }
`;
