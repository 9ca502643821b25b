/**
 * Orchestration overhead: a pipeline of N sequential no-op stages (the shape of the public
 * benchmark where Airflow 2.7 takes ~116 s for 40 tasks and Prefect 2.14 ~4.9 s).
 *
 * Baselines measured in the same run: a trivial Node process (`node -e ""`), and a process that
 * loads DuckDB and runs the same N statements directly, with no weir. The marginal per-stage cost
 * comes from the 40- and 400-stage pipelines, so process start and DuckDB load cancel out.
 */
import { DIRECT_SQL, markdownTable, measureInTurns, ms, round, type Suite, removeProject, tempProject, timeProcess, WEIR } from './lib.ts';

function chain(n: number): string {
  const stages = Array.from(
    { length: n },
    (_, i) => `  s${i}:\n    uses: sql\n    with: { query: "select ${i} as n", materialize: none }\n${i ? `    needs: [s${i - 1}]\n` : ''}`,
  );
  return `name: noop${n}\nstages:\n${stages.join('')}`;
}

function benchOverhead(runs = 7) {
  const project = tempProject({
    'pipelines/noop40.yml': chain(40),
    'pipelines/noop400.yml': chain(400),
    'direct40.sql': Array.from({ length: 40 }, (_, i) => `select ${i} as n`).join(';;\n'),
  });
  try {
    const { nodeStart, direct40, weir40, weir400 } = measureInTurns(runs, 1, {
      nodeStart: () => timeProcess(['-e', ''], project),
      direct40: () => timeProcess([DIRECT_SQL, 'direct.duckdb', 'direct40.sql'], project),
      weir40: () => timeProcess([WEIR, 'run', 'noop40', '--quiet'], project),
      weir400: () => timeProcess([WEIR, 'run', 'noop400', '--quiet'], project),
    });
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
    removeProject(project);
  }
}

type OverheadResult = ReturnType<typeof benchOverhead>;

function overheadTable(r: OverheadResult): string {
  return markdownTable(
    ['Measure', 'Result', 'Target'],
    [
      ['`weir run` of 40 stages, whole process', `**${ms(r.weirRun40Ms)}**`, '< 1 s'],
      ['per stage beyond process start: (run − `node -e ""`) / 40', `**${r.beyondProcessStartPerStageMs} ms**`, '< 5 ms'],
      ['marginal cost per stage: (run of 400 − run of 40) / 360', `**${r.marginalPerStageMs} ms**`, ''],
      ['ratio to the same 40 statements run directly on DuckDB', `**${r.ratioVsDirectDuckDb}** (${ms(r.weirRun40Ms)} vs ${ms(r.directDuckDb40Ms)})`, ''],
      ['ratio to a bare Node process', `${r.ratioVsNodeStart} (${ms(r.weirRun40Ms)} vs ${ms(r.nodeStartMs)})`, ''],
    ],
  );
}

export const overhead: Suite<OverheadResult> = { run: () => benchOverhead(), table: overheadTable };
