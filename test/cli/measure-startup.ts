/**
 * Start-up time of the CLI: spawns `weir <args>` N times per command and prints the median wall
 * time, beside a trivial `node -e 0` as the baseline. Give other checkouts (folders holding
 * bin/weir.js, e.g. an older commit) to compare: runs are interleaved so machine load hits all
 * alike. hyperfine is not available everywhere, so this is a plain loop of spawns.
 *
 *   node_modules/.bin/node test/cli/measure-startup.ts [runs=20] [other checkout…]
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const RUNS = Number(process.argv[2] ?? 20);
const here = resolve(import.meta.dirname, '..', '..');
const checkouts = [here, ...process.argv.slice(3).map((dir) => resolve(dir))];
const COMMANDS = [['--version'], ['--help'], ['validate']];

function spawnMs(args: string[]): number {
  const started = process.hrtime.bigint();
  // Every checkout validates this checkout's example project, so they do the same work.
  const result = spawnSync(process.execPath, args, { cwd: here, stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`'${args.join(' ')}' exited ${result.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const cases = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
  ...COMMANDS.flatMap((command) => checkouts.map((dir) => ({ name: `${dir === here ? 'this' : dir}: weir ${command.join(' ')}`, args: [resolve(dir, 'bin', 'weir.js'), ...command] }))),
];
const times = new Map(cases.map((c) => [c.name, [] as number[]]));
for (const c of cases) spawnMs(c.args); // warm the compile cache and the file cache
for (let run = 0; run < RUNS; run++) for (const c of cases) times.get(c.name)!.push(spawnMs(c.args));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const baseline = median(times.get(cases[0].name)!);
for (const c of cases) {
  const ms = median(times.get(c.name)!);
  console.log(`${c.name.padEnd(44)} median ${ms.toFixed(1).padStart(6)} ms  ${(ms / baseline).toFixed(2)}× node -e 0  (${RUNS} runs)`);
}
