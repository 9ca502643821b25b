/**
 * Start-up: what a command costs before it does any work. `weir --version` (load the bundle, parse
 * arguments) and `weir run` of a one-stage `select 1` pipeline (plus validation, DuckDB, the ledger)
 * against two baselines in the same run: a bare `node -e ''`, and a plain-JavaScript script that
 * opens DuckDB, runs `select 1` and closes it.
 */
import { DIRECT_SQL, markdownTable, measureInTurns, ms, round, type Suite, removeProject, tempProject, timeProcess, WEIR } from './lib.ts';

function benchStartup(runs = 15) {
  const project = tempProject({
    'pipelines/one.yml': 'name: one\nstages:\n  one:\n    uses: sql\n    with: { query: select 1 as n }\n',
    'one.sql': 'select 1 as n',
  });
  try {
    const time = (args: string[]) => () => timeProcess(args, project);
    const { nodeMs, versionMs, directMs, runMs } = measureInTurns(runs, 2, {
      nodeMs: time(['-e', '']),
      versionMs: time([WEIR, '--version']),
      directMs: time([DIRECT_SQL, ':memory:', 'one.sql']),
      runMs: time([WEIR, 'run', 'one', '--quiet']),
    });
    return {
      nodeMs: round(nodeMs),
      weirVersionMs: round(versionMs),
      directDuckDbMs: round(directMs),
      weirRunMs: round(runMs),
      versionRatioVsNode: round(versionMs / nodeMs, 2),
      runRatioVsNode: round(runMs / nodeMs, 2),
      runRatioVsDirectDuckDb: round(runMs / directMs, 2),
    };
  } finally {
    removeProject(project);
  }
}

type StartupResult = ReturnType<typeof benchStartup>;

function startupTable(r: StartupResult): string {
  return markdownTable(
    ['Command, whole process', 'Median', 'Ratio to `node -e \'\'`'],
    [
      ["`node -e ''` (baseline)", ms(r.nodeMs), '1'],
      ['`weir --version`', `**${ms(r.weirVersionMs)}**`, `${r.versionRatioVsNode}`],
      ['DuckDB opened, `select 1`, closed, by a plain .mjs script (baseline)', ms(r.directDuckDbMs), `${round(r.directDuckDbMs / r.nodeMs, 2)}`],
      [`\`weir run\` of a one-stage \`select 1\` pipeline (${r.runRatioVsDirectDuckDb} × the DuckDB script)`, `**${ms(r.weirRunMs)}**`, `${r.runRatioVsNode}`],
    ],
  );
}

export const startup: Suite<StartupResult> = { run: () => benchStartup(), table: startupTable };
