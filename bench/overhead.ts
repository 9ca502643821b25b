/**
 * Orchestration overhead: a pipeline of N sequential no-op stages (the shape of the public
 * benchmark where Airflow 2.7 takes ~116 s for 40 tasks and Prefect 2.14 ~4.9 s).
 *
 * Baselines measured in the same run: a trivial Node process (`node -e ""`), and a process that
 * loads DuckDB and runs the same N statements directly, with no weir. The marginal per-stage cost
 * comes from the 40- and 400-stage pipelines, so process start and DuckDB load cancel out.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { measure, REPO, round, tempProject, timeProcess, WEIR } from './lib.ts';

function chain(n: number): string {
  const stages = Array.from(
    { length: n },
    (_, i) => `  s${i}:\n    uses: sql\n    with: { query: "select ${i} as n", materialize: none }\n${i ? `    needs: [s${i - 1}]\n` : ''}`,
  );
  return `name: noop${n}\nstages:\n${stages.join('')}`;
}

export function benchOverhead(runs = 7) {
  const project = tempProject({
    'pipelines/noop40.yml': chain(40),
    'pipelines/noop400.yml': chain(400),
    'direct40.sql': Array.from({ length: 40 }, (_, i) => `select ${i} as n`).join(';;\n'),
  });
  try {
    const direct = join(REPO, 'bench', 'direct-sql.ts');
    const nodeStart = measure(runs, 1, () => timeProcess(['-e', ''], project)).median;
    const direct40 = measure(runs, 1, () => timeProcess([direct, 'direct.duckdb', 'direct40.sql'], project)).median;
    const weir40 = measure(runs, 1, () => timeProcess([WEIR, 'run', 'noop40', '--quiet'], project)).median;
    const weir400 = measure(Math.max(3, Math.ceil(runs / 2)), 1, () => timeProcess([WEIR, 'run', 'noop400', '--quiet'], project)).median;
    return {
      nodeStartMs: round(nodeStart),
      directDuckDb40Ms: round(direct40),
      weirRun40Ms: round(weir40),
      weirRun400Ms: round(weir400),
      marginalPerStageMs: round((weir400 - weir40) / 360, 2),
      beyondProcessStartPerStageMs: round((weir40 - nodeStart) / 40, 2),
      ratioVsDirectDuckDb: round(weir40 / direct40, 2),
      ratioVsNodeStart: round(weir40 / nodeStart, 2),
    };
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}
