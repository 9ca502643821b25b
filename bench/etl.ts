/**
 * ETL throughput: a sql-stage pipeline over flights-3m.parquet (3 M real rows, from the
 * vega-datasets package) — load, aggregate, join with airports, export Parquet — against the very
 * same SQL run straight through @duckdb/node-api. Both are whole processes on a fresh database file.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runPipeline } from '../src/use-cases/run-pipeline.ts';
import { createLocalRunDeps } from '../src/entrypoints/local-run-deps.ts';
import { loadPipelineSource } from '../src/definitions/load-pipeline.ts';
import { defaultStageKinds } from '../src/stages/registry.ts';
import { DIRECT_SQL, markdownTable, measureInTurns, median, ms, REPO, round, type Suite, removeProject, tempProject, timeProcess, WEIR } from './lib.ts';

const DATA = join(REPO, 'node_modules', 'vega-datasets', 'data');

const STEPS: [name: string, sql: string][] = [
  ['flights', `select * from read_parquet('${DATA}/flights-3m.parquet')`],
  ['airports', `select * from read_csv('${DATA}/airports.csv')`],
  [
    'routes',
    `select origin, destination, count(*) as flights, avg(delay) as avg_delay, quantile_cont(delay, 0.9) as p90_delay,
            sum(case when delay > 15 then 1 else 0 end) as late, max(distance) as distance
     from flights group by origin, destination`,
  ],
  [
    'enriched',
    `select r.*, o.city as origin_city, o.state as origin_state, d.city as destination_city, d.state as destination_state
     from routes r left join airports o on o.iata = r.origin left join airports d on d.iata = r.destination`,
  ],
];

export function pipelineYaml(): string {
  const stages = STEPS.map(([name, sql], i) => {
    const needs = i < 2 ? '' : name === 'routes' ? '    needs: [flights]\n' : '    needs: [routes, airports]\n';
    return `  ${name}:\n    uses: sql\n${needs}    with:\n      query: |\n${sql.split('\n').map((l) => `        ${l.trim()}`).join('\n')}\n`;
  });
  stages.push(`  save:\n    uses: export\n    needs: [enriched]\n    with: { table: enriched, path: out/enriched.parquet }\n`);
  return `name: flights\nconcurrency: 1\nstages:\n${stages.join('')}`;
}

/** The same work as plain statements; `outDir` is where the Parquet file goes (COPY resolves a relative path against the process's cwd). */
export function directSql(outDir = 'out'): string {
  const creates = STEPS.map(([name, sql]) => `create or replace table ${name} as ${sql}`);
  return [...creates, `copy enriched to '${outDir}/enriched-direct.parquet' (format parquet)`].join(';;\n');
}

/**
 * The same comparison inside one process, modules already loaded: the engine (validation, plan,
 * stages, checks, ledger, database open and close) against the bare statements. Process start and
 * module loading, a fixed cost of the CLI, are left out on both sides.
 */
async function inProcess(project: string, runs: number) {
  const statements = directSql(join(project, 'out')).split(';;').map((sql) => sql.trim());
  const kinds = defaultStageKinds();
  const source = pipelineYaml();
  const direct = async () => {
    rmSync(join(project, 'direct.duckdb'), { force: true });
    const started = performance.now();
    const instance = await DuckDBInstance.create(join(project, 'direct.duckdb'), { file_search_path: project });
    const connection = await instance.connect();
    for (const sql of statements) await connection.run(sql);
    connection.closeSync();
    instance.closeSync();
    return performance.now() - started;
  };
  const weir = async () => {
    const started = performance.now();
    const { pipeline } = loadPipelineSource(source, 'pipelines/flights.yml', { kinds, fileExists: () => true });
    const { record } = await runPipeline({ pipeline: pipeline!, root: project, kinds, listeners: [] }, createLocalRunDeps({ root: project }));
    if (record.status !== 'succeeded') throw new Error(`flights run ${record.status}`);
    return performance.now() - started;
  };
  await direct();
  await weir();
  const samples = { direct: [] as number[], weir: [] as number[] };
  for (let i = 0; i < runs; i++) {
    samples.direct.push(await direct());
    samples.weir.push(await weir());
  }
  const d = median(samples.direct);
  const w = median(samples.weir);
  return { directMs: round(d), weirMs: round(w), ratio: round(w / d, 3) };
}

async function benchEtl(runs = 5) {
  const project = tempProject({ 'pipelines/flights.yml': pipelineYaml(), 'direct.sql': directSql(), 'out/.keep': '' });
  try {
    const { direct, weir } = measureInTurns(runs, 1, {
      direct: () => {
        rmSync(join(project, 'direct.duckdb'), { force: true });
        return timeProcess([DIRECT_SQL, 'direct.duckdb', 'direct.sql'], project);
      },
      weir: () => timeProcess([WEIR, 'run', 'flights', '--quiet'], project),
    });
    return {
      rows: 3_000_000,
      wholeProcess: { directMs: round(direct), weirMs: round(weir), ratio: round(weir / direct, 3) },
      inProcess: await inProcess(project, runs),
    };
  } finally {
    removeProject(project);
  }
}

type EtlResult = Awaited<ReturnType<typeof benchEtl>>;

function etlTable(r: EtlResult): string {
  return markdownTable(
    ['Measure', 'Direct `@duckdb/node-api`', 'weir', 'Ratio (target ≤ 1.10)'],
    [
      ['whole process (`weir run` vs a script)', ms(r.wholeProcess.directMs), ms(r.wholeProcess.weirMs), `**${r.wholeProcess.ratio}**`],
      ['in one process, modules loaded (`runPipeline` vs the statements)', ms(r.inProcess.directMs), ms(r.inProcess.weirMs), `**${r.inProcess.ratio}**`],
    ],
  );
}

export const etl: Suite<EtlResult> = { run: () => benchEtl(), table: etlTable };
